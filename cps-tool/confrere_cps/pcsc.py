"""Talking to a CPS card with APDUs over PC/SC (pyscard), when no CPS middleware is installed.

Why these APDUs (ISO 7816-4 / IAS-ECC, see reference/identity.md):
- READ the card's PKCS#15 directory (`pkcs15`): EF.DIR names the IAS-ECC application, its ODF
  points to the key, certificate and PIN directories, so the certificate file, the key and PIN
  references come from the card itself, not from constants;
- SELECT the application by AID (contact interface; signing is refused contactless), which also
  tells a CPS from any other card in the reader;
- VERIFY the PIN; an empty VERIFY asks the tries left first, so a blocked card is reported
  before the practitioner types anything;
- MSE SET (authentication template) then INTERNAL AUTHENTICATE with a SHA-256 DigestInfo:
  the card pads it (PKCS#1 v1.5) and signs with the authentication key. Proving who holds the
  card is client authentication, the use the authentication certificate is issued for; the
  non-repudiation signature key is not needed and stays untouched.
PIN values never leave this module except to the card, and are never logged.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from confrere_cps import pkcs15
from confrere_cps.errors import (
    BadPinFormat,
    CardFailure,
    CardRemoved,
    NoCard,
    NoReader,
    NoService,
    NotACps,
    PinBlocked,
    PinError,
    WrongPin,
)

# IAS-ECC application of the CPS3, contact interface (the contactless one cannot sign).
CPS_AIDS = (bytes.fromhex("E828BD080F8025000001FF0010"),)
ALGORITHM_RSA_PKCS1_DIGESTINFO = 0x02
SHA256_DIGESTINFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
CHUNK = 0xDF
# Used only if the card has no AODF entry for its key (older layouts): CPS3 values.
DEFAULT_PIN = pkcs15.Pin("PIN", b"", 0x81, 4, 8, 8, 0xFF)

Chooser = Callable[[list[str]], int]


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
            "Le service des cartes à puce (PC/SC) ne répond pas sur cet ordinateur. Sous Linux, "
            "installez et démarrez pcscd (Debian/Ubuntu : sudo apt install pcscd) ; sous Windows "
            "et macOS il fait partie du système : rebranchez le lecteur. "
            "(The PC/SC service is not running.)"
        ) from exc
    if not found:
        raise NoReader(
            "Aucun lecteur de carte n'est détecté. Branchez votre lecteur CPS et recommencez. "
            "(No card reader found.)"
        )
    return list(found)


class PcscCard:
    """One connected CPS card. Every transmit turns a lost card into CardRemoved."""

    via = "pcsc"
    protected_pin_path = False

    def __init__(self, connection, reader_name: str) -> None:
        self.connection = connection
        self.reader_name = reader_name
        self.objects: pkcs15.AuthenticationObjects | None = None

    # -- finding the card ----------------------------------------------------------------
    @classmethod
    def find(cls, readers: list, timeout: float, choose: Chooser, poll: float = 0.3) -> PcscCard:
        """The CPS card to use, within timeout; `choose` picks one if several readers hold one."""
        deadline = time.monotonic() + timeout
        while True:
            cards, others = cls._present(readers)
            if len(cards) == 1:
                return cards[0].opened()
            if len(cards) > 1:
                index = choose([card.reader_name for card in cards])
                for other in cards[:index] + cards[index + 1 :]:
                    other.close()
                return cards[index].opened()
            if others:
                raise NotACps(
                    f"La carte du lecteur « {others[0]} » n'est pas une carte CPS (ou est "
                    "insérée à l'envers). (Not a CPS card.)"
                )
            if time.monotonic() >= deadline:
                raise NoCard(timeout)
            time.sleep(poll)

    @classmethod
    def _present(cls, readers: list) -> tuple[list[PcscCard], list[str]]:
        """Connected CPS cards, and the names of readers holding another kind of card."""
        from smartcard.Exceptions import CardConnectionException, NoCardException

        cards, others = [], []
        for reader in readers:
            connection = reader.createConnection()
            try:
                connection.connect()
            except (NoCardException, CardConnectionException):
                continue
            card = cls(connection, str(reader))
            if card.select_application():
                cards.append(card)
            else:
                card.close()
                others.append(str(reader))
        return cards, others

    def opened(self) -> PcscCard:
        """Reads the PKCS#15 directory: certificate file, key reference, PIN."""
        self.objects = self._directory()
        return self

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
            raise CardRemoved() from exc
        response = Response(bytes(data), (sw1 << 8) | sw2)
        if sw1 == 0x61:  # more data waiting: GET RESPONSE
            more = self.transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw2]))
            return Response(response.data + more.data, more.sw)
        return response

    def select_application(self) -> bool:
        """Select the CPS application named in EF.DIR (or a known CPS AID); False if none."""
        aids = list(CPS_AIDS)
        ef_dir = self._read_file(pkcs15.EF_DIR_PATH, required=False)
        if ef_dir:
            try:
                listed = [a.aid for a in pkcs15.applications(ef_dir)]
            except pkcs15.Pkcs15Error:
                listed = []
            aids = [aid for aid in listed if aid in CPS_AIDS] or aids
        for aid in aids:
            if self.transmit(bytes([0x00, 0xA4, 0x04, 0x0C, len(aid)]) + aid).ok:
                return True
        return False

    def _directory(self) -> pkcs15.AuthenticationObjects:
        unreadable = CardFailure(
            "Le répertoire PKCS#15 de la carte est illisible : ce n'est pas une carte CPS "
            "reconnue par cet outil. Installez Cryptolib CPS et relancez avec --via pkcs11. "
            "(Unreadable PKCS#15 directory.)"
        )
        try:
            entries = pkcs15.odf(self._read_file(pkcs15.ODF_FID))
            prkdf = self._read_file(entries[pkcs15.ODF_PRKDF][0])
            cdf = self._read_file(entries[pkcs15.ODF_CDF][0])
            aodf_paths = entries.get(pkcs15.ODF_AODF)
            aodf = self._read_file(aodf_paths[0]) if aodf_paths else None
            return pkcs15.authentication_objects(prkdf, cdf, aodf)
        except (pkcs15.Pkcs15Error, KeyError, IndexError) as exc:
            raise unreadable from exc

    def _select(self, path: bytes) -> int:
        """SELECT an EF by its PKCS#15 path: a file id under the application, or a full path."""
        if len(path) == 2:
            apdu = bytes([0x00, 0xA4, 0x02, 0x0C, 2]) + path
        elif path[:2] == b"\x3f\x00":
            apdu = bytes([0x00, 0xA4, 0x08, 0x0C, len(path) - 2]) + path[2:]
        else:
            apdu = bytes([0x00, 0xA4, 0x09, 0x0C, len(path)]) + path
        return self.transmit(apdu).sw

    def _read_file(self, path: bytes, required: bool = True) -> bytes:
        status = self._select(path)
        if status != 0x9000:
            if not required:
                return b""
            raise CardFailure(f"Fichier {path.hex().upper()} introuvable sur la carte ({status:04X}).")
        content = b""
        while True:
            offset = len(content)
            answer = self.transmit(bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, CHUNK]))
            if answer.sw in (0x6B00, 0x6282) or (answer.ok and not answer.data):
                return content + answer.data
            if not answer.ok:
                if not required:
                    return b""
                raise CardFailure(f"Lecture refusée par la carte (état {answer.sw:04X}).")
            content += answer.data
            if len(answer.data) < CHUNK or len(content) >= 0x7FFF:
                return content

    def read_certificate(self) -> bytes:
        """The authentication certificate, DER (the file may be padded: cut at its length)."""
        content = self._read_file(self.objects.certificate_path)
        total = _der_length(content)
        if len(content) < total:
            raise CardFailure("Le certificat lu sur la carte est incomplet.")
        return content[:total]

    @property
    def pin(self) -> pkcs15.Pin:
        return (self.objects.pin if self.objects else None) or DEFAULT_PIN

    def pin_tries_left(self) -> int | None:
        """Tries left before blocking (None if the card does not say); PinBlocked if blocked."""
        answer = self.transmit(bytes([0x00, 0x20, 0x00, self.pin.reference]))
        if answer.sw in (0x6983, 0x63C0):
            raise PinBlocked()
        if answer.sw & 0xFFF0 == 0x63C0:
            return answer.sw & 0x0F
        return None

    def verify_pin(self, pin: str | None) -> None:
        spec = self.pin
        high = spec.max_length or spec.stored_length
        if not (pin and pin.isdigit() and spec.min_length <= len(pin) <= high):
            raise BadPinFormat(spec.min_length, high)
        block = pin.encode("ascii").ljust(spec.stored_length, bytes([spec.pad]))
        answer = self.transmit(bytes([0x00, 0x20, 0x00, spec.reference, len(block)]) + block)
        if answer.ok:
            return
        if answer.sw in (0x6983, 0x63C0):
            raise PinBlocked()
        if answer.sw & 0xFFF0 == 0x63C0:
            raise WrongPin(answer.sw & 0x0F)
        raise CardFailure(f"La carte a refusé la vérification du PIN (état {answer.sw:04X}).")

    def authenticate(self, message: bytes) -> bytes:
        """Sign SHA-256(message) with the authentication key: MSE SET AT + INTERNAL AUTHENTICATE."""
        key = self.objects.key_reference
        template = bytes([0x80, 1, ALGORITHM_RSA_PKCS1_DIGESTINFO, 0x84, 1, key])
        answer = self.transmit(bytes([0x00, 0x22, 0x41, 0xA4, len(template)]) + template)
        if not answer.ok:
            raise CardFailure(f"La carte a refusé de préparer la signature (état {answer.sw:04X}).")
        digest_info = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(message).digest()
        answer = self.transmit(
            bytes([0x00, 0x88, 0x00, 0x00, len(digest_info)]) + digest_info + b"\x00"
        )
        if answer.sw == 0x6982:
            raise PinError("La carte demande le code PIN avant de signer. (PIN required.)")
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
