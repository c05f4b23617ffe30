"""HTTP endpoints the `confrere-cps` tool talks to (JSON in, JSON out, French first).

`POST /verification/cps/challenge {"code"}` spends the bot's one-time code and returns a
challenge bound to the same account. `POST /verification/cps/response {"user_id",
"challenge", "certificate", "signature"}` spends the challenge, checks the card's answer
(`identity.cps`) and its revocation (`identity.cps_revocation`), compares the holder with the
account (`matching.match_account`, as for Pro Santé Connect) and decides. Every refusal says why; only a holder who is not the account's
changes its state (refused, with the manual path offered), as PSC does.
"""

from __future__ import annotations

import base64
import binascii
import logging

from aiohttp import web
from confrere_cps import protocol

from bridge.accounts.states import Method
from bridge.config import ConfigError, Settings
from bridge.identity.cps import CpsRefusal, TrustStore, check_card, proven_identity
from bridge.identity.cps_challenge import exchange_code, spend_challenge
from bridge.identity.cps_revocation import Alert, RevocationChecker
from bridge.identity.matching import match_account
from bridge.verification.service import NationalIdTaken, VerificationService

log = logging.getLogger(__name__)

MAX_CERTIFICATE = 16 * 1024
MAX_SIGNATURE = 1024
MANUAL_FR = (
    "Si c'est une erreur, demandez une vérification manuelle au robot Confrère : !verifier manuel"
)


def error(http_status: int, code: str, message_fr: str, message_en: str, **extra) -> web.Response:
    return web.json_response(
        {"error": code, "message_fr": message_fr, "message_en": message_en, **extra},
        status=http_status,
    )


# Refusals that are the service's state, not the card's: "try later", not "forbidden".
UNAVAILABLE = {"revocation_unavailable"}


class CpsEndpoints:
    def __init__(
        self,
        verification: VerificationService,
        trust: TrustStore,
        challenge_seconds: int,
        revocation: RevocationChecker | None = None,
    ) -> None:
        self.verification = verification
        self.trust = trust  # replaceable as a whole (tests swap in their own PKI)
        self.challenge_seconds = challenge_seconds
        self.revocation = revocation or RevocationChecker()

    @classmethod
    def from_settings(
        cls, settings: Settings, verification: VerificationService, services=None
    ) -> CpsEndpoints:
        """Reads the configured IGC-Santé files now: a bad file stops the start, named."""
        try:
            trust = TrustStore.from_files(settings.cps.anchor_paths(settings.data_dir))
        except ValueError as exc:
            raise ConfigError(f"cps.trust_anchors: {exc}") from exc
        if not trust.configured:
            log.warning("no IGC-Santé trust anchor configured: CPS card verification disabled")
        revocation = RevocationChecker(
            settings.cps.crl_sources(settings.data_dir),
            ocsp_enabled=settings.cps.ocsp,
            timeout=settings.cps.revocation_timeout_seconds,
        )
        if trust.configured and not revocation.configured:
            log.warning("no IGC-Santé CRL configured (cps.crls): CPS card revocation not checked")
        if services is not None:
            revocation.alerts.append(admin_room_alert(verification, services))
        return cls(verification, trust, settings.cps.challenge_seconds, revocation)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(protocol.CHALLENGE_PATH, self.challenge),
            web.post(protocol.RESPONSE_PATH, self.response),
        ]

    async def challenge(self, request: web.Request) -> web.Response:
        body = await _body(request)
        code = body.get("code") if body else None
        if not isinstance(code, str) or not code:
            return _bad_request()
        if not self.trust.configured:
            return _not_configured()
        challenge = await exchange_code(self.verification.db, code, self.challenge_seconds)
        if challenge is None:
            return error(
                410,
                "invalid_code",
                "Ce code n'est pas valable (il ne sert qu'une fois et expire après "
                "quelques minutes). Demandez-en un nouveau au robot : !verifier cps",
                "Unknown, expired or used code: ask the bot for a new one.",
            )
        return web.json_response(
            {
                "user_id": challenge.user_id,
                "challenge": challenge.value,
                "expires_in": self.challenge_seconds,
            }
        )

    async def response(self, request: web.Request) -> web.Response:
        body = await _body(request)
        fields = _fields(body) if body else None
        if fields is None:
            return _bad_request()
        user_id, challenge, certificate, signature = fields
        if not self.trust.configured:
            return _not_configured()
        owner = await spend_challenge(self.verification.db, challenge)
        if owner is None:
            return error(
                410,
                "invalid_challenge",
                "Ce défi est inconnu, expiré ou déjà utilisé. Relancez la commande avec "
                "un nouveau code du robot (!verifier cps).",
                "Unknown, expired or used challenge.",
            )
        if owner != user_id:
            log.warning("CPS challenge of %s presented for %s", owner, user_id)
            return error(
                403,
                "challenge_other_account",
                "Ce défi a été émis pour un autre compte.",
                "This challenge was issued for another account.",
            )
        try:
            card = check_card(
                self.trust, certificate, signature, protocol.signed_message(user_id, challenge)
            )
            await self.revocation.check(card.certificate, card.issuer_certificate)
        except CpsRefusal as refusal:
            log.info("CPS answer for %s refused: %s", user_id, refusal.code)
            return error(
                503 if refusal.code in UNAVAILABLE else 403,
                refusal.code,
                f"Vérification impossible : {refusal.message_fr}.",
                refusal.message_en,
            )
        account = await self.verification.account(user_id)
        if account is None:
            return error(
                404,
                "no_account",
                "Aucun compte Confrère pour cette demande.",
                "No Confrère account.",
            )
        proven = proven_identity(card)
        evidence = {
            "provider": "cps",
            "national_id": proven.national_id,
            "certificate_sha256": card.fingerprint,
            "serial": card.serial,
            "issuer": card.issuer,
            "not_after": card.not_after,
            "title": card.holder.title,
        }
        result = match_account(
            account.first_name, account.last_name, account.declared_identifier, proven
        )
        if not result.ok:
            await self.verification.refuse(
                user_id, Method.CPS, "Carte CPS", result.reason_fr, evidence=evidence
            )
            return error(
                403,
                "identity_mismatch",
                f"Vérification refusée : {result.reason_fr}. {MANUAL_FR}",
                f"Refused: {result.reason_en}. Ask for a manual check (!verify manual).",
                status="refused",
            )
        try:
            await self.verification.verify(
                user_id, Method.CPS, "Carte CPS", national_id=proven.national_id, evidence=evidence
            )
        except NationalIdTaken as taken:
            return error(409, "national_id_taken", f"Vérification refusée : {taken.message_fr}.",
                         f"Refused: {taken.message_en}.", status="refused")
        return web.json_response(
            {
                "status": "verified",
                "message_fr": f"Identité vérifiée : {card.holder.describe()}. Retournez dans votre "
                "client Matrix : vous pouvez échanger avec vos confrères vérifiés.",
                "message_en": "Identity verified.",
            }
        )


async def _body(request: web.Request) -> dict | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _fields(body: dict) -> tuple[str, str, bytes, bytes] | None:
    user_id, challenge = body.get("user_id"), body.get("challenge")
    if not (isinstance(user_id, str) and isinstance(challenge, str) and user_id and challenge):
        return None
    certificate = _base64(body.get("certificate"), MAX_CERTIFICATE)
    signature = _base64(body.get("signature"), MAX_SIGNATURE)
    if certificate is None or signature is None:
        return None
    return user_id, challenge, certificate, signature


def _base64(value, limit: int) -> bytes | None:
    if not isinstance(value, str) or not value or len(value) > limit * 4 // 3 + 4:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _bad_request() -> web.Response:
    return error(
        400,
        "bad_request",
        "Demande incomplète ou mal formée : utilisez la commande "
        "confrere-cps donnée par le robot.",
        "Malformed request.",
    )


def _not_configured() -> web.Response:
    return error(
        503,
        "not_configured",
        "La vérification par carte CPS n'est pas configurée sur "
        "ce service. Utilisez Pro Santé Connect ou la vérification manuelle "
        "(!verifier manuel).",
        "CPS verification is not configured here.",
    )


def admin_room_alert(verification: VerificationService, services) -> Alert:
    """Tell the administrators' room (the bot may start after these endpoints)."""
    from bridge.verification.effects import ADMIN_ROOM_KEY

    async def alert(text: str) -> None:
        room_id = await verification.get_value(ADMIN_ROOM_KEY)
        bot = getattr(services, "bot", None)
        if room_id and bot is not None:
            await bot.send_text(room_id, text)

    return alert
