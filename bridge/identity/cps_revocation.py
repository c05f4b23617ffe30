"""Is this CPS certificate revoked? IGC-Santé CRLs (and OCSP when asked), failing closed.

A lost or stolen card is revoked by the ANS; its certificate stays within its dates and
chains fine, so only the authority's revocation list tells. Sources are configured (`cps.crls`:
URLs fetched with aiohttp, or files for closed networks); each CRL is kept until its
`nextUpdate`, then fetched again. A CRL counts only if its issuer is the card's authority and
its signature verifies with that authority's key. When no fresh CRL covers the card's
authority (download failed past `nextUpdate`, or no source for it), the card is refused
(`revocation_unavailable`) and the administrators are told, once per source and outage: a
card that might be revoked never verifies. With `cps.ocsp`, the responder named in the
certificate is asked first; a "good" or "revoked" signed by the authority (or its delegated
responder) decides, anything else falls back to the CRLs.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from bridge.identity.cps import CpsRefusal

log = logging.getLogger(__name__)

REASONS_FR = {
    x509.ReasonFlags.unspecified: "motif non précisé",
    x509.ReasonFlags.key_compromise: "clé compromise (carte perdue ou volée)",
    x509.ReasonFlags.ca_compromise: "autorité de certification compromise",
    x509.ReasonFlags.affiliation_changed: "changement de situation du titulaire",
    x509.ReasonFlags.superseded: "carte remplacée par une nouvelle",
    x509.ReasonFlags.cessation_of_operation: "cessation d'activité",
    x509.ReasonFlags.certificate_hold: "carte suspendue",
    x509.ReasonFlags.privilege_withdrawn: "droits retirés",
    x509.ReasonFlags.aa_compromise: "autorité d'attributs compromise",
    x509.ReasonFlags.remove_from_crl: "motif non précisé",
}

Alert = Callable[[str], Awaitable[None]]


@dataclass
class _Cached:
    crl: x509.CertificateRevocationList | None = None
    failing_since: datetime | None = None  # set while refreshing fails: one alert per outage


class RevocationChecker:
    def __init__(
        self, sources: tuple[str, ...] | list[str] = (), *, ocsp_enabled: bool = False,
        timeout: float = 10,
    ) -> None:
        self.sources = tuple(sources)
        self.ocsp_enabled = ocsp_enabled
        self.timeout = timeout
        self.alerts: list[Alert] = []  # e.g. a message in the administrators' room
        self._cache: dict[str, _Cached] = {s: _Cached() for s in self.sources}
        self._lock = asyncio.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.sources) or self.ocsp_enabled

    async def check(
        self, leaf: x509.Certificate, issuer: x509.Certificate | None,
        now: datetime | None = None,
    ) -> None:
        """Returns if `leaf` is known not revoked; raises CpsRefusal otherwise."""
        if not self.configured:
            return
        now = now or datetime.now(UTC)
        if issuer is None:  # only a chain validated up to an authority gets here
            raise CpsRefusal("revocation_unavailable", "autorité de la carte inconnue",
                             "the card's authority is unknown")
        if self.ocsp_enabled:
            status = await self._ocsp(leaf, issuer, now)
            if status is not None:
                _decide(*status)
                return
        crl = await self._crl_for(issuer, now)
        if crl is None:
            raise CpsRefusal(
                "revocation_unavailable",
                "l'état de révocation de la carte ne peut pas être vérifié pour le moment "
                "(liste de révocation IGC-Santé indisponible) ; les administrateurs sont "
                "prévenus, réessayez plus tard",
                "the card's revocation status cannot be checked now (no fresh CRL)",
            )
        entry = crl.get_revoked_certificate_by_serial_number(leaf.serial_number)
        if entry is not None:
            _decide(True, _reason(entry.extensions), entry.revocation_date_utc)

    # -- CRLs ------------------------------------------------------------------------------
    async def _crl_for(
        self, issuer: x509.Certificate, now: datetime
    ) -> x509.CertificateRevocationList | None:
        """A fresh CRL of `issuer` (refreshing the stale ones first), or None."""
        async with self._lock:
            for source in self.sources:
                cached = self._cache[source]
                if cached.crl is not None and cached.crl.issuer != issuer.subject:
                    continue
                if cached.crl is None or now >= cached.crl.next_update_utc:
                    await self._refresh(source, cached, issuer, now)
                crl = cached.crl
                if (
                    crl is not None
                    and crl.issuer == issuer.subject
                    and now < crl.next_update_utc
                    and _signed_by(crl, issuer)
                ):
                    return crl
        return None

    async def _refresh(
        self, source: str, cached: _Cached, issuer: x509.Certificate, now: datetime
    ) -> None:
        try:
            crl = _parse_crl(await self._read(source))
            if crl.issuer == issuer.subject and not _signed_by(crl, issuer):
                raise ValueError("signature does not verify with its authority")
            if now >= crl.next_update_utc:
                raise ValueError(f"past its nextUpdate ({crl.next_update_utc:%Y-%m-%d %H:%M} UTC)")
        except (TimeoutError, OSError, ValueError, aiohttp.ClientError) as exc:
            await self._failing(source, cached, now, str(exc) or type(exc).__name__)
            return
        cached.crl, cached.failing_since = crl, None
        log.info("CRL %s loaded, next update %s", source, crl.next_update_utc.isoformat())

    async def _failing(self, source: str, cached: _Cached, now: datetime, why: str) -> None:
        log.error("CRL %s cannot be refreshed (%s): CPS cards of its authority are refused",
                  source, why)
        if cached.failing_since is not None:
            return
        cached.failing_since = now
        text = (
            f"Vérification par carte CPS : la liste de révocation {source} ne peut pas être "
            f"mise à jour ({why}). Les cartes de cette autorité sont refusées tant qu'elle "
            "n'est pas à jour : vérifiez l'adresse ou le fichier dans cps.crls."
        )
        for alert in self.alerts:
            try:
                await alert(text)
            except Exception:
                log.exception("CRL alert could not be sent")

    async def _read(self, source: str) -> bytes:
        if not source.startswith(("http://", "https://")):
            return await asyncio.to_thread(Path(source).read_bytes)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        async with aiohttp.ClientSession(timeout=timeout) as http, http.get(source) as response:
            if response.status != 200:
                raise ValueError(f"HTTP {response.status}")
            return await response.read()

    # -- OCSP ------------------------------------------------------------------------------
    async def _ocsp(self, leaf, issuer, now) -> tuple[bool, str, datetime | None] | None:
        """(revoked, reason, date) from the certificate's responder, or None (undecided)."""
        url = _ocsp_url(leaf)
        if url is None:
            return None
        request = ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(
                url, data=request.public_bytes(serialization.Encoding.DER),
                headers={"Content-Type": "application/ocsp-request"},
            ) as response:
                body = await response.read()
            answer = ocsp.load_der_ocsp_response(body)
        except (TimeoutError, aiohttp.ClientError, OSError, ValueError) as exc:
            log.warning("OCSP %s unanswered (%s): using the CRLs", url, type(exc).__name__)
            return None
        if answer.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
            return None
        if not _ocsp_signed(answer, issuer) or answer.serial_number != leaf.serial_number:
            log.warning("OCSP %s: answer not signed by the authority: using the CRLs", url)
            return None
        if answer.next_update_utc is not None and now >= answer.next_update_utc:
            return None
        if answer.certificate_status == ocsp.OCSPCertStatus.GOOD:
            return False, "", None
        if answer.certificate_status == ocsp.OCSPCertStatus.REVOKED:
            reason = REASONS_FR.get(answer.revocation_reason, "motif non précisé")
            return True, reason, answer.revocation_time_utc
        return None


def _decide(revoked: bool, reason: str = "", when: datetime | None = None) -> None:
    if not revoked:
        return
    date = f" le {when:%d/%m/%Y}" if when else ""
    raise CpsRefusal(
        "revoked_certificate",
        f"cette carte CPS a été révoquée{date} ({reason}) ; utilisez votre nouvelle carte, "
        "ou Pro Santé Connect",
        f"the card's certificate is revoked ({reason})",
    )


def _reason(extensions: x509.Extensions) -> str:
    try:
        flag = extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return REASONS_FR[x509.ReasonFlags.unspecified]
    return REASONS_FR.get(flag, REASONS_FR[x509.ReasonFlags.unspecified])


def _parse_crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _signed_by(crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
    try:
        return crl.is_signature_valid(issuer.public_key())
    except (TypeError, ValueError):
        return False


def _ocsp_url(leaf: x509.Certificate) -> str | None:
    try:
        access = leaf.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except x509.ExtensionNotFound:
        return None
    for description in access:
        if description.access_method == AuthorityInformationAccessOID.OCSP:
            return str(description.access_location.value)
    return None


def _ocsp_signed(answer, issuer: x509.Certificate) -> bool:
    """Signed by the authority itself, or by a responder it certified for OCSP signing."""
    from cryptography.hazmat.primitives.asymmetric import padding

    signer = issuer
    if answer.certificates:
        delegated = answer.certificates[0]
        try:
            delegated.verify_directly_issued_by(issuer)
            usage = delegated.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (ValueError, TypeError, InvalidSignature, x509.ExtensionNotFound):
            return False
        if ExtendedKeyUsageOID.OCSP_SIGNING not in usage:
            return False
        signer = delegated
    try:
        signer.public_key().verify(
            answer.signature, answer.tbs_response_bytes, padding.PKCS1v15(),
            answer.signature_hash_algorithm,
        )
    except (InvalidSignature, TypeError, ValueError):
        return False
    return True
