"""A test PKI in the shape of IGC-Santé: root, "FORT PERSONNES" authority, card certificates.

Card certificates carry the holder like real CPS ones: one multi-valued RDN
`CN=<national id>+SN=<surname>+GN=<given name>`, then title and country; key usage
digitalSignature and extended key usage clientAuth (the authentication certificate).
Keys are RSA 2048 as on CPS3; generating them is the slow part, so the module caches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

IGC_OU = [
    x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "ASIP-SANTE"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "0002 187512751"),
    x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "IGC-SANTE"),
]


@cache
def key(name: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            *(x509.RelativeDistinguishedName([a]) for a in IGC_OU),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
        ]
    )


@dataclass(frozen=True)
class Authority:
    name: x509.Name
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def _ski(public_key) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


@cache
def root(label: str = "AC RACINE IGC-SANTE TEST") -> Authority:
    private = key(label)
    name = _ca_name(label)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=365))
        .not_valid_after(now + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(_ski(private.public_key()), critical=False)
        .sign(private, hashes.SHA256())
    )
    return Authority(name, private, certificate)


@cache
def intermediate(
    label: str = "AC IGC-SANTE FORT PERSONNES TEST", root_label: str = "AC RACINE IGC-SANTE TEST"
) -> Authority:
    parent = root(root_label)
    private = key(f"{label} under {root_label}")  # a same-named forgery has its own key
    name = _ca_name(label)
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(parent.name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=300))
        .not_valid_after(now + timedelta(days=3000))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(_ski(private.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()),
            critical=False,
        )
        .sign(parent.key, hashes.SHA256())
    )
    return Authority(name, private, certificate)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def holder_name(
    national_id: str, surname: str, given_name: str, title: str = "Médecin"
) -> x509.Name:
    return x509.Name(
        [
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]),
            x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.TITLE, title)]),
            x509.RelativeDistinguishedName(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, national_id),
                    x509.NameAttribute(NameOID.SURNAME, surname),
                    x509.NameAttribute(NameOID.GIVEN_NAME, given_name),
                ]
            ),
        ]
    )


@dataclass(frozen=True)
class CardIdentity:
    """What a virtual card holds: its private key and its authentication certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)


def card(
    national_id: str = "810001045367",
    surname: str = "BERNARD",
    given_name: str = "CAMILLE",
    *,
    issuer: Authority | None = None,
    expired: bool = False,
    client_auth: bool = True,
    digital_signature: bool = True,
    key_label: str | None = None,
    ocsp_url: str | None = None,
) -> CardIdentity:
    issuer = issuer or intermediate()
    private = key(key_label or f"card-{national_id}")
    now = datetime.now(UTC)
    start, end = (
        (now - timedelta(days=1200), now - timedelta(days=30))
        if expired
        else (now - timedelta(days=30), now + timedelta(days=1000))
    )
    usage = x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not digital_signature,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH if client_auth else ExtendedKeyUsageOID.EMAIL_PROTECTION]
    certificate = (
        x509.CertificateBuilder()
        .subject_name(holder_name(national_id, surname, given_name))
        .issuer_name(issuer.name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()),
            critical=False,
        )
    )
    if ocsp_url:
        certificate = certificate.add_extension(
            x509.AuthorityInformationAccess(
                [x509.AccessDescription(AuthorityInformationAccessOID.OCSP,
                                        x509.UniformResourceIdentifier(ocsp_url))]
            ),
            critical=False,
        )
    return CardIdentity(private, certificate.sign(issuer.key, hashes.SHA256()))


def write_trust_files(directory: Path) -> list[Path]:
    """The anchors the way the ANS publishes them: the root as PEM, the authority as PKCS#7."""
    from cryptography.hazmat.primitives.serialization import pkcs7

    directory.mkdir(parents=True, exist_ok=True)
    root_file = directory / "racine-test.pem"
    root_file.write_bytes(root().certificate.public_bytes(serialization.Encoding.PEM))
    bundle = directory / "fort-personnes-test.p7b"
    bundle.write_bytes(
        pkcs7.serialize_certificates([intermediate().certificate], serialization.Encoding.DER)
    )
    return [root_file, bundle]


def signature_certificate(identity: CardIdentity) -> bytes:
    """The card's other certificate, for qualified signatures (nonRepudiation), DER.

    On the card beside the authentication one; the tools must never pick it (the service
    refuses it: no digitalSignature, no clientAuth)."""
    holder = identity.certificate.subject
    private = key(f"signature-{holder.rfc4514_string()}")
    now = datetime.now(UTC)
    usage = x509.KeyUsage(
        digital_signature=False,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    issuer = intermediate()
    return (
        x509.CertificateBuilder()
        .subject_name(holder)
        .issuer_name(identity.certificate.issuer)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=30))
        .not_valid_after(now + timedelta(days=1000))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(issuer.key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )


def crl(
    revoked: tuple[tuple[x509.Certificate, x509.ReasonFlags | None], ...] = (),
    *,
    issuer: Authority | None = None,
    next_update: timedelta = timedelta(days=7),
    this_update: timedelta = timedelta(hours=-1),
) -> bytes:
    """A CRL of the authority (DER), as IGC-Santé publishes them; `revoked` with reasons.

    `next_update` may be negative: a CRL already past its nextUpdate (stale)."""
    issuer = issuer or intermediate()
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.name)
        .last_update(now + this_update)
        .next_update(now + next_update)
        .add_extension(x509.CRLNumber(int(now.timestamp())), critical=False)
    )
    for certificate, reason in revoked:
        entry = (
            x509.RevokedCertificateBuilder()
            .serial_number(certificate.serial_number)
            .revocation_date(now - timedelta(hours=2))
        )
        if reason is not None:
            entry = entry.add_extension(x509.CRLReason(reason), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer.key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)


def ocsp_response(identity: CardIdentity, request_der: bytes, *, revoked=None) -> bytes:
    """The authority's signed OCSP answer for `identity`: good, or revoked with a reason."""
    from cryptography.x509 import ocsp

    request = ocsp.load_der_ocsp_request(request_der)
    issuer = intermediate()
    now = datetime.now(UTC)
    status = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
    builder = ocsp.OCSPResponseBuilder().add_response(
        cert=identity.certificate,
        issuer=issuer.certificate,
        algorithm=request.hash_algorithm,
        cert_status=status,
        this_update=now - timedelta(minutes=5),
        next_update=now + timedelta(hours=1),
        revocation_time=now - timedelta(hours=3) if revoked else None,
        revocation_reason=revoked if revoked else None,
    )
    response = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, issuer.certificate).sign(
        issuer.key, hashes.SHA256()
    )
    return response.public_bytes(serialization.Encoding.DER)
