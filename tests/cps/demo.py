"""Demo: a virtual CPS card in reader "Virtual PCD 00 00" for `confrere up` + `confrere-cps`.

    .venv/bin/python -m tests.cps.demo --data var --given-name CAMILLE --surname BERNARD \
        --national-id 810001045367

On first use it writes a test IGC-Santé PKI into <data>/cps-test/ (kept, so the service's trust
anchors stay valid across runs) and prints the configuration line to add; then it keeps the
card inserted until Ctrl-C. PIN: 1234. Needs pcscd with vsmartcard-vpcd (`make cps-system`).
Test keys only: never trust these files on a real service.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7

from tests.cps import pki
from tests.cps.virtual_card import VirtualCard


def _authorities(directory: Path) -> pki.Authority:
    """The saved intermediate authority, or a new test PKI saved for the next runs."""
    key_file, cert_file = directory / "ac-test.key", directory / "ac-test.pem"
    if key_file.exists() and cert_file.exists():
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
        return pki.Authority(certificate.subject, key, certificate)
    directory.mkdir(parents=True, exist_ok=True)
    authority = pki.intermediate()
    key_file.write_bytes(
        authority.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    cert_file.write_bytes(authority.certificate.public_bytes(serialization.Encoding.PEM))
    (directory / "racine-test.pem").write_bytes(
        pki.root().certificate.public_bytes(serialization.Encoding.PEM)
    )
    (directory / "fort-personnes-test.p7b").write_bytes(
        pkcs7.serialize_certificates([authority.certificate], serialization.Encoding.DER)
    )
    return authority


def main() -> None:
    parser = argparse.ArgumentParser(description="virtual CPS card for demos")
    parser.add_argument("--data", default="var")
    parser.add_argument("--national-id", default="810001045367")
    parser.add_argument("--surname", default="BERNARD")
    parser.add_argument("--given-name", default="CAMILLE")
    parser.add_argument("--pin", default="1234")
    args = parser.parse_args()
    directory = Path(args.data) / "cps-test"
    authority = _authorities(directory)
    identity = pki.card(args.national_id, args.surname, args.given_name, issuer=authority)
    print(
        "Autorités de test (à mettre dans confrere.yaml, puis redémarrer le service) :\n"
        "  cps:\n    trust_anchors: [cps-test/racine-test.pem, cps-test/fort-personnes-test.p7b]"
    )
    card = VirtualCard(identity, pin=args.pin).insert()
    print(
        f"Carte virtuelle de {args.given_name} {args.surname} ({args.national_id}) insérée "
        "dans « Virtual PCD 00 00 » (PIN de démonstration). Ctrl-C pour la retirer."
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        card.remove()


if __name__ == "__main__":
    main()
