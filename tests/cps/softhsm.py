"""SoftHSM2 (Debian `softhsm2`, a real PKCS#11 module) holding CPS-shaped tokens.

Each token gets what the CPS middleware shows for a card: the authentication certificate and
its RSA private key (same CKA_ID), plus the qualified signature certificate, which the tool must
not pick. Tokens live in a directory of their own (SOFTHSM2_CONF), so tests do not see each
other's; the module re-reads it on C_Initialize, hence `reinitialize` after each change.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.cps.pki import CardIdentity, signature_certificate

MODULE = Path("/usr/lib/softhsm/libsofthsm2.so")
SO_PIN = "87654321"


class SoftHsm:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.module = str(MODULE)
        (directory / "tokens").mkdir(parents=True, exist_ok=True)
        self.conf = directory / "softhsm2.conf"
        self.conf.write_text(
            f"directories.tokendir = {directory / 'tokens'}\n"
            "objectstore.backend = file\nlog.level = ERROR\n"
        )

    @property
    def environment(self) -> dict[str, str]:
        return {"SOFTHSM2_CONF": str(self.conf)}

    def _library(self):
        import pkcs11

        library = pkcs11.lib(self.module)
        library.reinitialize()
        return library

    def add_card(self, label: str, identity: CardIdentity, pin: str = "1234") -> None:
        """A new token named `label` holding the card's authentication and signature objects."""
        subprocess.run(
            [shutil.which("softhsm2-util") or "/usr/bin/softhsm2-util", "--init-token",
             "--free", "--label", label, "--pin", pin, "--so-pin", SO_PIN],
            check=True, capture_output=True, env={**os.environ, **self.environment},
        )
        from pkcs11 import Attribute, CertificateType, ObjectClass

        token = self._library().get_token(token_label=label)
        with token.open(rw=True, user_pin=pin) as session:
            self._private_key(session, identity.key, b"\x01", "Clé d'authentification CPS")
            for der, key_id, name in (
                (signature_certificate(identity), b"\x02", "Certificat de Signature CPS"),
                (identity.der, b"\x01", "Certificat d'Authentification CPS"),
            ):
                parsed = x509.load_der_x509_certificate(der)
                session.create_object({
                    Attribute.SUBJECT: parsed.subject.public_bytes(),
                    Attribute.ISSUER: parsed.issuer.public_bytes(),
                    Attribute.CLASS: ObjectClass.CERTIFICATE,
                    Attribute.CERTIFICATE_TYPE: CertificateType.X_509,
                    Attribute.TOKEN: True, Attribute.PRIVATE: False,
                    Attribute.ID: key_id, Attribute.LABEL: name, Attribute.VALUE: der,
                })

    @staticmethod
    def _private_key(session, key: rsa.RSAPrivateKey, key_id: bytes, name: str) -> None:
        from pkcs11 import Attribute, KeyType, ObjectClass

        numbers = key.private_numbers()

        def raw(value: int) -> bytes:
            return value.to_bytes((value.bit_length() + 7) // 8, "big")

        session.create_object({
            Attribute.CLASS: ObjectClass.PRIVATE_KEY, Attribute.KEY_TYPE: KeyType.RSA,
            Attribute.TOKEN: True, Attribute.PRIVATE: True, Attribute.SENSITIVE: True,
            Attribute.SIGN: True, Attribute.ID: key_id, Attribute.LABEL: name,
            Attribute.MODULUS: raw(numbers.public_numbers.n),
            Attribute.PUBLIC_EXPONENT: raw(numbers.public_numbers.e),
            Attribute.PRIVATE_EXPONENT: raw(numbers.d),
            Attribute.PRIME_1: raw(numbers.p), Attribute.PRIME_2: raw(numbers.q),
            Attribute.EXPONENT_1: raw(numbers.dmp1), Attribute.EXPONENT_2: raw(numbers.dmq1),
            Attribute.COEFFICIENT: raw(numbers.iqmp),
        })


@pytest.fixture(name="softhsm")
def softhsm_fixture(tmp_path, monkeypatch):
    """An empty SoftHSM2 for one test (SOFTHSM2_CONF set for this process and its children)."""
    if not MODULE.exists():
        pytest.skip("softhsm2 is not installed (apt-get install softhsm2; make system does it)")
    hsm = SoftHsm(tmp_path / "softhsm")
    monkeypatch.setenv("SOFTHSM2_CONF", str(hsm.conf))
    hsm._library()
    yield hsm
    monkeypatch.undo()
