"""Is this a genuine CPS authentication certificate, and did its key sign our challenge?

Checked in an order that gives the clearest French reason: readable certificate, validity
dates, chain to a configured IGC-Santé anchor (cryptography's X.509 path validation, with
the WebPKI rules for the authorities), key usage of the holder's certificate (digitalSignature,
and clientAuth when the certificate restricts its uses), signature over the exact challenge
message, and finally who it names (the national identifier as CN inside the multi-valued RDN).
Comparing that identity with the account is `matching.match_account`'s job, as for PSC;
revocation (IGC-Santé CRLs, OCSP) is `cps_revocation`'s, with the issuer found here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from confrere_cps.subject import Holder, holder_of
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from bridge.identity.matching import ProvenIdentity

SOURCE = "la carte CPS"


class CpsRefusal(Exception):
    """Why a card answer is refused; nothing is changed on the account."""

    def __init__(self, code: str, message_fr: str, message_en: str) -> None:
        super().__init__(code)
        self.code, self.message_fr, self.message_en = code, message_fr, message_en


@dataclass(frozen=True)
class CheckedCard:
    holder: Holder
    fingerprint: str
    serial: str
    issuer: str
    not_after: str
    certificate: x509.Certificate | None = field(default=None, compare=False, repr=False)
    issuer_certificate: x509.Certificate | None = field(default=None, compare=False, repr=False)


class TrustStore:
    """IGC-Santé authorities: self-signed ones are anchors, the others intermediates."""

    def __init__(self, certificates: list[x509.Certificate]) -> None:
        self.anchors = [c for c in certificates if _self_signed(c)]
        self.intermediates = [c for c in certificates if not _self_signed(c)]

    @property
    def configured(self) -> bool:
        return bool(self.anchors)

    @classmethod
    def from_files(cls, paths: tuple[Path, ...] | list[Path]) -> TrustStore:
        """Raises ValueError naming the file that cannot be read or holds no certificate."""
        found: list[x509.Certificate] = []
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise ValueError(f"{path}: {exc.strerror}") from exc
            certificates = load_certificates(data)
            if not certificates:
                raise ValueError(f"{path}: no certificate (PEM or PKCS#7 expected)")
            found += certificates
        return cls(found)


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """Certificates from PEM, PKCS#7 (PEM or DER, as the ANS publishes them) or one DER."""
    loaders = (
        x509.load_pem_x509_certificates,
        pkcs7.load_pem_pkcs7_certificates,
        pkcs7.load_der_pkcs7_certificates,
        lambda d: [x509.load_der_x509_certificate(d)],
    )
    for loader in loaders:
        try:
            certificates = loader(data)
        except ValueError:
            continue
        if certificates:
            return list(certificates)
    return []


def check_card(
    store: TrustStore,
    certificate_der: bytes,
    signature: bytes,
    message: bytes,
    now: datetime | None = None,
) -> CheckedCard:
    """Everything about the card's answer except "is it this account's holder"."""
    now = now or datetime.now(UTC)
    try:
        leaf = x509.load_der_x509_certificate(certificate_der)
    except ValueError as exc:
        raise CpsRefusal(
            "bad_certificate",
            "le certificat envoyé est illisible",
            "the certificate cannot be parsed",
        ) from exc
    _check_dates(leaf, now)
    chain = _check_chain(store, leaf, now)
    _check_key_usage(leaf)
    _check_signature(leaf, signature, message)
    holder = holder_of(leaf)
    if holder is None or not holder.national_id or not (holder.surname and holder.given_name):
        raise CpsRefusal(
            "no_identity",
            "le certificat ne porte pas l'identifiant national et les noms du titulaire",
            "the certificate names no holder",
        )
    return CheckedCard(
        holder=holder,
        fingerprint=hashlib.sha256(certificate_der).hexdigest(),
        serial=format(leaf.serial_number, "x"),
        issuer=leaf.issuer.rfc4514_string(),
        not_after=leaf.not_valid_after_utc.isoformat(),
        certificate=leaf,
        issuer_certificate=chain[1] if len(chain) > 1 else None,
    )


def proven_identity(card: CheckedCard) -> ProvenIdentity:
    holder = card.holder
    return ProvenIdentity(
        national_id=holder.national_id,
        names=((holder.given_name, holder.surname),),
        source=SOURCE,
        extra={"title": holder.title},
    )


def _check_dates(leaf: x509.Certificate, now: datetime) -> None:
    if now > leaf.not_valid_after_utc:
        raise CpsRefusal(
            "expired_certificate",
            "le certificat de la carte CPS est expiré (carte périmée ?)",
            "the card's certificate has expired",
        )
    if now < leaf.not_valid_before_utc:
        raise CpsRefusal(
            "certificate_not_yet_valid",
            "le certificat de la carte CPS n'est pas encore valide",
            "the card's certificate is not yet valid",
        )


def _check_chain(
    store: TrustStore, leaf: x509.Certificate, now: datetime
) -> list[x509.Certificate]:
    """The validated chain, leaf first (its issuer next, for revocation)."""
    if not store.configured:
        raise CpsRefusal(
            "not_configured",
            "la vérification par carte CPS n'est pas configurée "
            "sur ce service (autorités IGC-Santé absentes)",
            "CPS verification is not configured (no IGC-Santé anchors)",
        )
    verifier = (
        PolicyBuilder()
        .store(Store(store.anchors))
        .time(now)
        .extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ExtensionPolicy.permit_all()
        )
        .build_client_verifier()
    )
    try:
        return list(verifier.verify(leaf, store.intermediates).chain)
    except VerificationError as exc:
        raise CpsRefusal(
            "untrusted_certificate",
            "le certificat n'a pas été émis par une autorité IGC-Santé reconnue par ce service",
            "the certificate does not chain to a trusted IGC-Santé authority",
        ) from exc


def _check_key_usage(leaf: x509.Certificate) -> None:
    refusal = CpsRefusal(
        "wrong_key_usage",
        "ce certificat de la carte ne sert pas à l'authentification",
        "the certificate is not for authentication",
    )
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise refusal from exc
    if not usage.digital_signature:
        raise refusal
    try:
        extended = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in extended:
        raise refusal


def _check_signature(leaf: x509.Certificate, signature: bytes, message: bytes) -> None:
    key = leaf.public_key()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            raise InvalidSignature()
    except InvalidSignature as exc:
        raise CpsRefusal(
            "bad_signature",
            "la signature de la carte ne correspond pas au défi de cette demande",
            "the signature does not match this challenge",
        ) from exc


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.issuer != certificate.subject:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
