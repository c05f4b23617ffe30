"""`!verifier` / `!verify`: how a practitioner proves their identity, from the onboarding DM.

Without argument: the ways, with a one-time Pro Santé Connect link. `!verifier manuel`: ask
an administrator to review (the default manual path). `!verifier statut`: where it stands.
"""

from __future__ import annotations

from datetime import timedelta

from bridge.commands import Command, CommandContext, CommandRouter
from bridge.verification import tokens
from bridge.verification.service import NoAccount
from bridge.web.psc import LINK_PURPOSE, START_PATH

NO_ACCOUNT_FR = (
    "Je ne trouve pas de compte Confrère pour vous : créez-le depuis la page d'inscription, "
    "puis revenez me voir.\n(No Confrère account found for you: sign up first.)"
)
STATE_FR = {
    "unverified": "non vérifiée", "pending": "en cours d'examen", "verified": "vérifiée",
    "refused": "refusée", "revoked": "révoquée",
}


async def verify(ctx: CommandContext) -> None:
    services = ctx.services
    verification = services.verification
    account = await verification.account(ctx.sender)
    if account is None:
        await ctx.reply(NO_ACCOUNT_FR)
        return
    argument = ctx.args.lower()
    if argument in ("statut", "status"):
        await ctx.reply(f"Votre identité est {STATE_FR.get(account.verification_state, '?')}.")
        return
    if account.verification_state == "verified":
        await ctx.reply("Votre identité est déjà vérifiée : vous pouvez échanger avec vos "
                        "confrères.\n(Your identity is already verified.)")
        return
    if argument in ("manuel", "manual"):
        if account.verification_state == "pending":
            await ctx.reply("Votre demande de vérification est déjà en cours d'examen ; "
                            "je vous préviendrai ici dès qu'elle sera traitée.")
            return
        try:
            await verification.request(ctx.sender, "manual")
        except NoAccount:
            await ctx.reply(NO_ACCOUNT_FR)
        return  # the "pending" listener tells the practitioner and the administrators
    minutes = services.settings.verification.link_minutes
    link = await tokens.issue(services.database, LINK_PURPOSE, ctx.sender,
                              timedelta(minutes=minutes))
    url = f"{services.settings.service.url}{START_PATH}?t={link}"
    text = (
        "La vérification de votre identité est obligatoire pour utiliser la messagerie "
        "sécurisée. Trois possibilités :\n"
        f"1. Pro Santé Connect (e-CPS ou carte CPS) — ouvrez ce lien personnel, valable "
        f"{minutes} minutes et une seule fois : {url}\n"
        "2. Avec votre carte CPS et un lecteur : bientôt disponible.\n"
        "3. Vérification manuelle par un administrateur (jusqu'à 24 heures) : écrivez "
        "!verifier manuel\n"
        "(Identity verification is required: use the Pro Santé Connect link above, or "
        "!verify manual.)"
    )
    await ctx.reply(text)


def register(router: CommandRouter) -> None:
    router.register(Command(
        name="verifier", aliases=("verify", "vérifier"), handler=verify,
        usage="[manuel|statut]", section="Vérification d'identité",
        help_fr="vérifier votre identité (Pro Santé Connect, manuelle)",
        help_en="verify your identity",
    ))
