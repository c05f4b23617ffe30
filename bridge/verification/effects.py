"""What follows a verification decision: the badge, the module's cache, the messages.

Each effect is a small listener; the service registers them on `VerificationService`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import aiohttp

from bridge.accounts.states import State
from bridge.storage.values import ADMIN_ROOM_KEY
from bridge.matrix.synapse_admin import set_display_name
from bridge.verification.badge import badge, fallback_badge, unverified_name
from bridge.verification.service import TAKEN_EN, Decision, Listener, VerificationService

if TYPE_CHECKING:
    from bridge.context import HandlerContext
    from bridge.matrix.bot import Bot

log = logging.getLogger(__name__)

OUTCOME_FR = {
    "verified": "Bonne nouvelle : votre identité est vérifiée. Vous pouvez maintenant écrire à "
                "vos confrères vérifiés, créer des conversations et des dossiers patients.",
    "refused": "Votre vérification d'identité est refusée : {reason}. Vous pouvez demander une "
               "vérification manuelle avec !verifier manuel.",
    "revoked": "Votre vérification d'identité a été révoquée : {reason}. Contactez le support "
               "Confrère si vous pensez qu'il s'agit d'une erreur.",
    "pending": "Votre demande de vérification est enregistrée ; son examen peut prendre "
               "jusqu'à 24 heures. Je vous préviendrai ici.",
    "conflict": "Votre vérification d'identité est refusée : {reason}.",
}
OUTCOME_EN = {
    "verified": "Your identity is verified: you can now write to verified colleagues.",
    "refused": "Your identity verification is refused: {reason}. You may ask for a manual "
               "check with !verify manual.",
    "revoked": "Your identity verification was revoked: {reason}.",
    "pending": "Your verification request is recorded (up to 24 hours); I will tell you here.",
    "conflict": "Your identity verification is refused: {reason_en}.",
}


class EffectFailed(RuntimeError):
    """An effect's call was answered with an error: raised so that it is retried."""


class VerificationEffects:
    """The listeners; each raises when its effect did not happen, so that it is retried —
    including before the bot has started (`BotNotReady`): it runs once the bot is there."""

    def __init__(self, context: "HandlerContext") -> None:
        self.context = context
        self.settings = context.settings
        self.verification = context.verification

    @property
    def http(self) -> aiohttp.ClientSession:
        if self.context.http is None:
            raise EffectFailed("the service's HTTP client is not open yet")
        return self.context.http

    def listeners(self) -> dict[str, "Listener"]:
        """Stable names: a pending follow-up is stored under them (`followups.py`)."""
        return {"verification.module-cache": self.forget_cached_state,
                "verification.badge": self.set_badge,
                "verification.tell-practitioner": self.tell_practitioner,
                "verification.tell-administrators": self.tell_administrators}

    async def forget_cached_state(self, decision: Decision) -> None:
        """Tell the Synapse module to drop its cached answer for this user now."""
        if not decision.user_id:
            return
        async with self.http.post(
            f"{self.settings.synapse.url}/_synapse/client/confrere/invalidate",
            json={"user_id": decision.user_id},
            headers={"Authorization": f"Bearer {self.settings.secrets.module_secret}"},
        ) as response:
            if response.status != 200:
                raise EffectFailed(f"module cache invalidation answered {response.status}")

    async def set_badge(self, decision: Decision) -> None:
        """Verified: "Dr Prénom NOM — Spécialité, Ville" from the directory, or the names.
        Revoked: the badge is removed and the name says so ("Prénom NOM (non vérifié)")."""
        if decision.state not in (State.VERIFIED, State.REVOKED):
            return
        account = await self.verification.account(decision.user_id)
        if account is None or account.verification_state != decision.state:
            return  # a later decision already changed the state: its own follow-up names it
        name = None
        if decision.state == State.REVOKED:
            name = unverified_name(account.first_name, account.last_name)
        elif account.national_id:
            practitioner = await self.context.directory.get(account.national_id)
            name = badge(practitioner) if practitioner is not None else None
        name = name or fallback_badge(account.first_name, account.last_name)
        # raises SynapseAdminError on an error status: the follow-up is retried
        await set_display_name(self.http, self.settings.synapse.url,
                               self.context.require_admin_token(), decision.user_id, name)

    async def tell_practitioner(self, decision: Decision) -> None:
        """In the conversation the bot opened with them (the only one that is theirs)."""
        account = await self.verification.account(decision.user_id) if decision.user_id \
            else None
        if account is None or not account.onboarding_room_id:
            return
        reason = decision.reason or "motif non précisé"
        text = (OUTCOME_FR[decision.state].format(reason=reason) + "\n("
                + OUTCOME_EN[decision.state].format(reason=reason, reason_en=TAKEN_EN) + ")")
        await self.context.require_bot().send_text(account.onboarding_room_id, text)

    async def tell_administrators(self, decision: Decision) -> None:
        if decision.state not in (State.PENDING, State.CONFLICT):
            return
        room_id = await self.verification.get_value(ADMIN_ROOM_KEY)
        if not room_id:
            return
        if decision.state == State.PENDING:
            text = (f"Nouvelle demande de vérification ({decision.method}) de "
                    f"{decision.user_id}. Voir : !admin verifications")
        else:
            holder = await self.verification.holder_of(decision.national_id or "") or "?"
            who = decision.user_id or "une inscription Pro Santé Connect"
            text = (f"⚠ Vérification refusée : le numéro national {decision.national_id} est "
                    f"déjà lié à {holder} ; tentative de {who} ({decision.method}). "
                    "Voir : !admin verifications")
        await self.context.require_bot().send_text(room_id, text)


async def ensure_admin_room(verification: VerificationService, bot: "Bot",
                            administrators: tuple[str, ...]) -> str:
    """The encrypted room where administrators give the bot `!admin` commands."""
    room_id = await verification.get_value(ADMIN_ROOM_KEY)
    if room_id is None:
        room_id = await bot.create_room("Administration Confrère", list(administrators))
        await verification.set_value(ADMIN_ROOM_KEY, room_id)
    return room_id
