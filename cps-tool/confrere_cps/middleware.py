"""Reaching the CPS card through the ANS middleware (Cryptolib CPS), a PKCS#11 module.

This is how practice software uses the card on most computers: the middleware owns the reader
and knows every card generation, so when it is installed we go through it rather than send
APDUs ourselves. On the token we take the authentication certificate (clientAuth, or
digitalSignature without non-repudiation: never the qualified signature one) and the private
key with the same CKA_ID, then sign the challenge with CKM_SHA256_RSA_PKCS, or CKM_RSA_PKCS
over our own DigestInfo when the token only offers raw PKCS#1 v1.5 (same bytes either way).
Token flags give the PIN state (locked, final try, count low); a pinpad reader takes the PIN
itself (protected authentication path). PIN values go only to the module, never to a log.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

from confrere_cps.errors import (
    BadPinFormat,
    CardFailure,
    CardRemoved,
    NoCard,
    NoModule,
    PinBlocked,
    WrongPin,
)

SHA256_DIGESTINFO_PREFIX = bytes.fromhex("3031300d060960864801650304020105000420")
ENVIRONMENT = "CONFRERE_CPS_PKCS11"

# Where Cryptolib CPS puts its PKCS#11 module (ANS installers), per system.
MODULE_LOCATIONS = {
    "win32": [
        r"C:\Windows\System32\cps3_pkcs11_w64.dll",
        r"C:\Windows\System32\cps3_pkcs11_w32.dll",
        r"C:\Windows\SysWOW64\cps3_pkcs11_w32.dll",
        r"C:\Program Files\santesocial\CPS\cps3_pkcs11_w64.dll",
        r"C:\Program Files (x86)\santesocial\CPS\cps3_pkcs11_w32.dll",
    ],
    "darwin": [
        "/usr/local/lib/libcps3_pkcs11_osx.dylib",
        "/Library/Frameworks/cps3_pkcs11_osx.framework/cps3_pkcs11_osx",
        "/usr/local/lib/pkcs11/cps3_pkcs11_osx.dylib",
    ],
    "linux": [
        "/usr/local/lib/libcps3_pkcs11_lux.so",
        "/usr/lib/libcps3_pkcs11_lux.so",
        "/usr/lib/x86_64-linux-gnu/libcps3_pkcs11_lux.so",
        "/opt/santesocial/CPS/lib/libcps3_pkcs11_lux.so",
    ],
}

Chooser = Callable[[list[str]], int]


def find_module(explicit: str | None = None) -> str | None:
    """The module to load: --pkcs11-module, then $CONFRERE_CPS_PKCS11, then the usual places."""
    if explicit:
        return explicit
    if os.environ.get(ENVIRONMENT):
        return os.environ[ENVIRONMENT]
    platform = "linux" if sys.platform.startswith("linux") else sys.platform
    return next((p for p in MODULE_LOCATIONS.get(platform, []) if Path(p).is_file()), None)


def _removed_errors() -> tuple[type[Exception], ...]:
    from pkcs11 import exceptions as e

    return (
        e.TokenNotPresent,
        e.DeviceRemoved,
        e.SessionHandleInvalid,
        e.SessionClosed,
        e.TokenNotRecognised,
        e.DeviceError,
        e.ObjectHandleInvalid,  # the key's handle died with its card (or another card came)
        e.KeyHandleInvalid,
    )


def load(path: str):
    import pkcs11

    if not Path(path).is_file():
        raise NoModule(path, "fichier absent")
    try:
        return pkcs11.lib(path)
    except (RuntimeError, OSError, pkcs11.exceptions.PKCS11Error) as exc:
        raise NoModule(path, type(exc).__name__) from exc


class Pkcs11Card:
    """One CPS token of the middleware: its authentication certificate and key."""

    via = "pkcs11"

    def __init__(self, token, module_path: str) -> None:
        self.token = token
        self.module_path = module_path
        self.reader_name = (token.slot.slot_description or token.label).strip()
        self.session = None
        self._certificate: bytes | None = None
        self._id: bytes | None = None
        self._key = None

    @classmethod
    def find(
        cls, module_path: str, reader: str | None, timeout: float, choose: Chooser,
        poll: float = 0.5,
    ) -> Pkcs11Card:
        """The token to use within timeout; `choose` picks one when several are present."""
        from pkcs11.exceptions import PKCS11Error

        library = load(module_path)
        deadline = time.monotonic() + timeout
        while True:
            try:
                tokens = [slot.get_token() for slot in library.get_slots(token_present=True)]
            except _removed_errors():
                tokens = []
            except PKCS11Error as exc:
                raise CardFailure(f"Le module PKCS#11 a échoué ({type(exc).__name__}).") from exc
            cards = [cls(token, module_path) for token in tokens if _initialised(token)]
            if reader:
                cards = [c for c in cards if c.reader_name.startswith(reader)
                         or c.token.label.strip().startswith(reader)]
            if len(cards) == 1:
                return cards[0]
            if len(cards) > 1:
                return cards[choose([f"{c.reader_name} — {c.token.label.strip()}" for c in cards])]
            if time.monotonic() >= deadline:
                raise NoCard(timeout)
            time.sleep(poll)

    @property
    def protected_pin_path(self) -> bool:
        from pkcs11 import TokenFlag

        return bool(self.token.flags & TokenFlag.PROTECTED_AUTHENTICATION_PATH)

    def _flags(self):
        """Fresh token flags (the PIN counters change after each try)."""
        try:
            return self.token.slot.get_token().flags
        except _removed_errors() as exc:
            raise CardRemoved() from exc

    def read_certificate(self) -> bytes:
        """The authentication certificate (public objects: no PIN needed yet)."""
        from pkcs11 import Attribute, CertificateType, ObjectClass

        try:
            with self.token.open() as session:
                found = [
                    (obj[Attribute.VALUE], obj[Attribute.ID], obj[Attribute.LABEL])
                    for obj in session.get_objects(
                        {
                            Attribute.CLASS: ObjectClass.CERTIFICATE,
                            Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                        }
                    )
                ]
        except _removed_errors() as exc:
            raise CardRemoved() from exc
        chosen = _authentication_certificate(found)
        if chosen is None:
            raise CardFailure(
                "Aucun certificat d'authentification sur cette carte (carte CPS ?). "
                "(No authentication certificate.)"
            )
        self._certificate, self._id = chosen
        return self._certificate

    def pin_tries_left(self) -> int | None:
        """PKCS#11 says only "locked", "final try" or "count low": 0 raises, 1, 2 or None."""
        from pkcs11 import TokenFlag

        flags = self._flags()
        if flags & TokenFlag.USER_PIN_LOCKED:
            raise PinBlocked()
        if flags & TokenFlag.USER_PIN_FINAL_TRY:
            return 1
        if flags & TokenFlag.USER_PIN_COUNT_LOW:
            return 2
        return None

    def verify_pin(self, pin: str | None) -> None:
        """Log in (`None`: a pinpad reader takes the PIN), then find the key, before any code
        is spent at the service."""
        import pkcs11
        from pkcs11 import Attribute, ObjectClass
        from pkcs11 import exceptions as e

        if pin is None and self.protected_pin_path:
            secret = pkcs11.PROTECTED_AUTH
        elif pin and pin.isdigit() and 4 <= len(pin) <= 8:
            secret = pin
        else:
            raise BadPinFormat(4, 8)
        try:
            self.session = self.token.open(user_pin=secret)
            keys = list(
                self.session.get_objects(
                    {Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.ID: self._id}
                )
            )
        except e.PinLocked as exc:
            raise PinBlocked() from exc
        except (e.PinIncorrect, e.PinLenRange, e.PinInvalid) as exc:
            raise WrongPin(self.pin_tries_left()) from exc
        except _removed_errors() as exc:
            raise CardRemoved() from exc
        if not keys:
            raise CardFailure(
                "La clé d'authentification est introuvable sur la carte. (No authentication key.)"
            )
        self._key = keys[0]

    def authenticate(self, message: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.exceptions import PKCS11Error

        try:
            mechanisms = self.token.slot.get_mechanisms()
            if Mechanism.SHA256_RSA_PKCS in mechanisms:
                return self._key.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
            if Mechanism.RSA_PKCS in mechanisms:
                digest_info = SHA256_DIGESTINFO_PREFIX + hashlib.sha256(message).digest()
                return self._key.sign(digest_info, mechanism=Mechanism.RSA_PKCS)
            raise CardFailure("La carte ne propose pas de signature RSA PKCS#1 v1.5.")
        except _removed_errors() as exc:
            raise CardRemoved() from exc
        except PKCS11Error as exc:
            raise CardFailure(f"La carte a refusé de signer ({type(exc).__name__}).") from exc

    def close(self) -> None:
        if self.session is not None:
            try:
                self.session.close()
            except Exception:  # noqa: BLE001, S110 - the token may already be gone
                pass
            self.session = None


def _initialised(token) -> bool:
    from pkcs11 import TokenFlag

    return bool(token.flags & TokenFlag.TOKEN_INITIALIZED)


def _authentication_certificate(found: list[tuple[bytes, bytes, str]]):
    """(DER, CKA_ID) of the best authentication certificate among (DER, id, label) triples."""
    from cryptography import x509
    from cryptography.x509.oid import ExtendedKeyUsageOID

    best, best_score = None, 0
    for der, identifier, label in found:
        try:
            certificate = x509.load_der_x509_certificate(der)
            usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except (ValueError, x509.ExtensionNotFound):
            continue
        if usage.content_commitment or not usage.digital_signature:
            continue  # the non-repudiation (qualified signature) certificate: never this one
        score = 1
        try:
            extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
            score += 2 if ExtendedKeyUsageOID.CLIENT_AUTH in extended else -1
        except x509.ExtensionNotFound:
            pass
        score += 1 if "auth" in (label or "").lower() else 0
        if score > best_score:
            best, best_score = (der, identifier), score
    return best
