"""`!verifier` / `!verify`: how a practitioner proves their identity, from the onboarding DM.

Without argument: the ways, with a one-time Pro Santé Connect link. `!verifier cps`: a one-time
code and the `confrere cps-verify` command line for a CPS card in a reader. `!verifier manuel`:
ask an administrator to review (the default manual path). `!verifier statut`: where it stands.
"""

from __future__ import annotations

from datetime import timedelta

from bridge.accounts.states import Method, State
from bridge.commands import Command, CommandContext
from bridge.context import Feature
from bridge.identity.cps_challenge import issue_code
from bridge.handlers import documents
from bridge.verification import tokens
from bridge.verification.effects import VerificationEffects
from bridge.verification.service import NoAccount
from bridge.identity.psc import LINK_PURPOSE, START_PATH

NO_ACCOUNT_FR = (
    "Je ne trouve pas de compte Confrère pour vous : créez-le depuis la page d'inscription, "
    "puis revenez me voir.\n(No Confrère account found for you: sign up first.)"
)
ALREADY_VERIFIED_FR = ("Votre identité est déjà vérifiée : vous pouvez échanger avec vos "
                       "confrères.\n(Your identity is already verified.)")
BARE_NAME_FR = ("\nVotre nom s'affiche sans spécialité ni ville : écrivez !badge pour le "
                "mettre à jour d'après l'annuaire.\n(Your name shows no specialty: type !badge.)")
DOCUMENT_ARGUMENTS = {
    "document": "national_identity_card", "documents": "national_identity_card",
    "piece": "national_identity_card", "pièce": "national_identity_card",
    "carte": "national_identity_card", "id": "national_identity_card",
    "passeport": "passport", "passport": "passport",
}
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
        state = account.verification_state
        await ctx.reply(f"Votre identité est {STATE_FR.get(state, '?')}.\n"
                        f"(Your identity verification: {state}.)")
        return
    if account.verification_state == State.VERIFIED:
        await ctx.reply(ALREADY_VERIFIED_FR + ("" if account.national_id else BARE_NAME_FR))
        return
    if argument in DOCUMENT_ARGUMENTS:
        await documents.start(ctx, DOCUMENT_ARGUMENTS[argument])
        return
    if argument in ("manuel", "manual"):
        if account.verification_state == State.PENDING:
            await ctx.reply("Votre demande de vérification est déjà en cours d'examen ; "
                            "je vous préviendrai ici dès qu'elle sera traitée.\n"
                            "(Your request is already being reviewed; I will tell you here.)")
            return
        try:
            await verification.request(ctx.sender, Method.MANUAL)
        except NoAccount:
            await ctx.reply(NO_ACCOUNT_FR)
            return
        # the "pending" listener tells the practitioner and the administrators; the
        # administrator needs the identity documents, asked for step by step
        await documents.start(ctx, "national_identity_card", after_manual=True)
        return
    if argument == "cps":
        await ctx.reply(await cps_instructions(services, ctx.sender))
        return
    minutes = services.settings.verification.link_minutes
    link = await tokens.issue(services.database, LINK_PURPOSE, ctx.sender,
                              timedelta(minutes=minutes))
    url = f"{services.settings.service.url}{START_PATH}?t={link}"
    text = (
        "La vérification de votre identité est obligatoire pour utiliser la messagerie "
        "sécurisée. Trois possibilités :\n"
        f"1. Pro Santé Connect (e-CPS ou carte CPS) — ouvrez ce lien personnel, valable "
        f"{minutes} minutes et une seule fois : {url}\n"
        "2. Avec votre carte CPS et un lecteur branché sur votre ordinateur : écrivez "
        "!verifier cps\n"
        "3. Avec une pièce d'identité et un selfie envoyés ici (jusqu'à 24 heures) : écrivez "
        "!verifier document (ou !verifier passeport)\n"
        "(Identity verification is required: use the Pro Santé Connect link above, or "
        "!verify document.)"
    )
    await ctx.reply(text)


async def cps_instructions(services, user_id: str) -> str:
    """A one-time code for `confrere cps-verify`, and the exact command line to run."""
    settings = services.settings
    minutes = settings.cps.code_minutes
    code = await issue_code(services.database, user_id, minutes)
    return (
        "Vérification avec votre carte CPS : insérez la carte dans le lecteur de votre "
        "ordinateur, puis lancez dans un terminal (Confrère installé) :\n"
        f"confrere-cps --service {settings.service.url} --code {code}\n"
        f"Ce code ne sert qu'une fois et expire dans {minutes} minutes. Le code PIN de la carte "
        "vous sera demandé par la commande ; ne l'écrivez jamais ici.\n"
        "(CPS card: run the command above on the computer with the card reader.)"
    )


FEATURE = Feature(
    name="verification",
    commands=(
        Command(
            name="verifier", aliases=("verify", "vérifier"), handler=verify,
            usage="[cps|manuel|document|passeport|statut]", section="Vérification d'identité",
            help_fr="vérifier votre identité (Pro Santé Connect, carte CPS, manuelle)",
            help_en="verify your identity",
        ),
    ),
    listeners=lambda context: VerificationEffects(context).listeners(),
)
