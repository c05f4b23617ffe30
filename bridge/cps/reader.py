"""Talking to a CPS card over PC/SC (pyscard): find it, read its certificate, check the PIN, sign.

Why these APDUs (ISO 7816-4 / IAS-ECC, see reference/identity.md):
- SELECT the IAS-ECC application by AID (contact interface; signing is refused contactless),
  which also tells a CPS from any other card in the reader;
- SELECT the authentication certificate file and READ BINARY it in chunks (its DER header
  gives the total length);
- VERIFY the PIN; an empty VERIFY asks the tries left first, so a blocked card is reported
  before the practitioner types anything;
- MSE SET (authentication template) then INTERNAL AUTHENTICATE with a SHA-256 DigestInfo:
  the card pads it (PKCS#1 v1.5) and signs with the authentication key. We chose INTERNAL
  AUTHENTICATE rather than PSO COMPUTE DIGITAL SIGNATURE because proving who holds the card is
  client authentication, the use the authentication certificate is issued for; the
  non-repudiation signature key is not needed and stays untouched.

The certificate file identifier, PIN and key references below are those of our virtual card;
real CPS3 cards list their objects in a PKCS#15 directory that this module does not walk yet.
PIN values never leave this module except to the card, and are never logged.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

CPS_AID = bytes.fromhex("E828BD080F802500 0001FF0010".replace(" ", ""))
AUTH_CERT_FID = bytes.fromhex("D001")
PIN_REFERENCE = 0x81
AUTH_KEY_REFERENCE = 0x81
ALGORITHM_RSA_PKCS1_DIGESTINFO = 0x02
PIN_LENGTH = 8  # ASCII digits, right-padded with 0xFF
SHA256_DIGESTINFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
CHUNK = 0xDF


class CardError(Exception):
    """A problem the practitioner can act on; `message_fr` is what we print, `exit_code` why."""

    exit_code = 3

    def __init__(self, message_fr: str) -> None:
        super().__init__(message_fr)
        self.message_fr = message_fr


class NoService(CardError):
    pass


class NoReader(CardError):
    pass


class NoCard(CardError):
    pass


class NotACps(CardError):
    pass


class CardRemoved(CardError):
    pass


class PinError(CardError):
    exit_code = 4


class WrongPin(PinError):
    def __init__(self, tries_left: int) -> None:
        plural = "s" if tries_left > 1 else ""
        super().__init__(
            f"Code PIN incorrect. Il vous reste {tries_left} essai{plural} avant le blocage de "
            f"la carte. (Wrong PIN: {tries_left} tries left.)"
        )
        self.tries_left = tries_left


class PinBlocked(PinError):
    def __init__(self) -> None:
        super().__init__(
            "Votre carte CPS est bloquée (trop de codes PIN erronés). Débloquez-la avec votre "
            "code PUK ou demandez une nouvelle carte à l'ANS ; en attendant, vérifiez votre "
            "identité avec Pro Santé Connect ou manuellement (!verifier manuel). "
            "(The card is blocked.)"
        )


class CardFailure(CardError):
    """The card answered something a CPS should not: reported with the status word only."""


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000


def list_readers() -> list:
    """The PC/SC readers; raises NoService if pcscd does not answer, NoReader if there is none."""
    from smartcard.pcsc.PCSCExceptions import BaseSCardException
    from smartcard.System import readers

    try:
        found = readers()
    except BaseSCardException as exc:
        raise NoService(
            "Le service des cartes à puce (pcscd) ne répond pas sur cet ordinateur. Installez-le "
            "et démarrez-le (Debian/Ubuntu : sudo apt install pcscd), puis recommencez. "
            "(The PC/SC service is not running.)"
        ) from exc
    if not found:
        raise NoReader(
            "Aucun lecteur de carte n'est détecté. Branchez votre lecteur CPS et recommencez. "
            "(No card reader found.)"
        )
    return list(found)


class CpsCard:
    """One connected CPS card. Every transmit turns a lost card into CardRemoved."""

    def __init__(self, connection, reader_name: str) -> None:
        self.connection = connection
        self.reader_name = reader_name

    # -- finding the card ----------------------------------------------------------------
    @classmethod
    def wait(cls, readers: list, timeout: float, poll: float = 0.3) -> CpsCard:
        """The first reader holding a card that answers to the CPS application, within timeout."""
        from smartcard.Exceptions import CardConnectionException, NoCardException

        deadline = time.monotonic() + timeout
        while True:
            for reader in readers:
                connection = reader.createConnection()
                try:
                    connection.connect()
                except (NoCardException, CardConnectionException):
                    continue
                card = cls(connection, str(reader))
                card.select_application()
                return card
            if time.monotonic() >= deadline:
                raise NoCard(
                    f"Aucune carte insérée après {timeout:.0f} secondes. Insérez votre carte CPS "
                    "dans le lecteur (puce vers le haut) et recommencez. (No card inserted.)"
                )
            time.sleep(poll)

    def close(self) -> None:
        try:
            self.connection.disconnect()
        except Exception:  # noqa: BLE001, S110 - the card may already be gone; nothing to undo
            pass

    # -- APDUs -----------------------------------------------------------------------------
    def transmit(self, apdu: bytes) -> Response:
        from smartcard.Exceptions import CardConnectionException

        try:
            data, sw1, sw2 = self.connection.transmit(list(apdu))
        except CardConnectionException as exc:
            raise CardRemoved(
                "La carte a été retirée (ou le lecteur débranché) pendant l'opération. "
                "Réinsérez-la et recommencez. (The card was removed.)"
            ) from exc
        response = Response(bytes(data), (sw1 << 8) | sw2)
        if sw1 == 0x61:  # more data waiting: GET RESPONSE
            more = self.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
            return Response(response.data + more.data, more.sw)
        return response

    def select_application(self) -> None:
        answer = self.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(CPS_AID)]) + CPS_AID)
        if not answer.ok:
            raise NotACps(
                f"La carte du lecteur « {self.reader_name} » n'est pas une carte CPS (ou est "
                "insérée à l'envers). (Not a CPS card.)"
            )

    def read_certificate(self) -> bytes:
        """The authentication certificate, DER."""
        answer = self.transmit(bytes([0x00, 0xA4, 0x02, 0x0C, 2]) + AUTH_CERT_FID)
        if not answer.ok:
            raise CardFailure(
                f"Certificat d'authentification introuvable sur la carte (état {answer.sw:04X})."
            )
        content = self._read_binary(0, CHUNK)
        total = _der_length(content)
        while len(content) < total:
            chunk = self._read_binary(len(content), min(CHUNK, total - len(content)))
            if not chunk:
                break
            content += chunk
        if len(content) < total:
            raise CardFailure("Le certificat lu sur la carte est incomplet.")
        return content[:total]

    def _read_binary(self, offset: int, length: int) -> bytes:
        answer = self.transmit(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, length]))
        if answer.sw not in (0x9000, 0x6282):
            raise CardFailure(f"Lecture du certificat refusée par la carte (état {answer.sw:04X}).")
        return answer.data

    def pin_tries_left(self) -> int | None:
        """Tries left before blocking (None if the card does not say); PinBlocked if blocked."""
        answer = self.transmit(bytes([0x00, 0x20, 0x00, PIN_REFERENCE]))
        if answer.sw == 0x6983:
            raise PinBlocked()
        if answer.sw & 0xFFF0 == 0x63C0:
            return answer.sw & 0x0F
        return None

    def verify_pin(self, pin: str) -> None:
        if not (pin.isdigit() and 4 <= len(pin) <= PIN_LENGTH):
            raise PinError(
                f"Le code PIN d'une carte CPS compte de 4 à {PIN_LENGTH} chiffres ; "
                "rien n'a été envoyé à la carte. (The PIN must be 4–8 digits.)"
            )
        block = pin.encode("ascii").ljust(PIN_LENGTH, b"\xff")
        answer = self.transmit(bytes([0x00, 0x20, 0x00, PIN_REFERENCE, PIN_LENGTH]) + block)
        if answer.ok:
            return
        if answer.sw in (0x6983, 0x63C0):
            raise PinBlocked()
        if answer.sw & 0xFFF0 == 0x63C0:
            raise WrongPin(answer.sw & 0x0F)
        raise CardFailure(f"La carte a refusé la vérification du PIN (état {answer.sw:04X}).")

    def authenticate(self, message: bytes) -> bytes:
        """Sign SHA-256(message) with the authentication key: MSE SET AT + INTERNAL AUTHENTICATE."""
        template = bytes([0x80, 1, ALGORITHM_RSA_PKCS1_DIGESTINFO, 0x84, 1, AUTH_KEY_REFERENCE])
        answer = self.transmit(bytes([0x00, 0x22, 0x41, 0xA4, len(template)]) + template)
        if not answer.ok:
            raise CardFailure(f"La carte a refusé de préparer la signature (état {answer.sw:04X}).")
        digest_info = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(message).digest()
        answer = self.transmit(
            bytes([0x00, 0x88, 0x00, 0x00, len(digest_info)]) + digest_info + b"\x00"
        )
        if answer.sw == 0x6982:
            raise PinError("La carte demande le code PIN avant de signer.")
        if not answer.ok or not answer.data:
            raise CardFailure(f"La carte a refusé de signer (état {answer.sw:04X}).")
        return answer.data


def _der_length(head: bytes) -> int:
    """Total length of the DER object starting `head` (tag, length octets and content)."""
    if len(head) < 2 or head[0] != 0x30:
        raise CardFailure("Le fichier lu sur la carte n'est pas un certificat.")
    first = head[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if count == 0 or count > 3 or len(head) < 2 + count:
        raise CardFailure("Le fichier lu sur la carte n'est pas un certificat.")
    return 2 + count + int.from_bytes(head[2 : 2 + count], "big")
