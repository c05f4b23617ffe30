"""`!badge`: a verified practitioner asks for their displayed name to be set again.

Links the account to its directory entry if its declared RPPS/ADELI now names one (same
names), then queues the badge for the service's follow-up worker (`verification/relink.py`).
"""

from __future__ import annotations

from bridge.accounts.states import State
from bridge.commands import Command, CommandContext
from bridge.context import Feature
from bridge.verification.relink import link_account, queue_badge

NOT_VERIFIED_FR = ("Le badge (nom, spécialité, ville) s'affiche une fois votre identité "
                   "vérifiée : écrivez !verifier.\n(The badge shows once your identity is "
                   "verified: type !verify.)")
LINKED_FR = ("C'est fait : votre nom affiché sera mis à jour d'après l'annuaire national dans "
             "quelques secondes.\n(Your displayed name will be refreshed from the directory in "
             "a few seconds.)")
BARE_FR = ("Votre nom affiché sera remis à jour dans quelques secondes, mais sans spécialité "
           "ni ville : votre numéro RPPS/ADELI déclaré ne correspond à aucune entrée de "
           "l'annuaire à vos nom et prénom. Si c'est une erreur, écrivez au support Confrère.\n"
           "(Refreshed, but no directory entry matches your declared number and names.)")


async def refresh_badge(ctx: CommandContext) -> None:
    services = ctx.services
    account = await services.verification.account(ctx.sender)
    if account is None or account.verification_state != State.VERIFIED:
        await ctx.reply(NOT_VERIFIED_FR)
        return
    national_id = await link_account(services.database, services.directory, account)
    await queue_badge(services.database, ctx.sender, national_id)
    await ctx.reply(LINKED_FR if national_id else BARE_FR)


FEATURE = Feature(
    name="badge",
    commands=(Command(
        name="badge", handler=refresh_badge, section="Vérification d'identité",
        help_fr="remettre à jour votre nom affiché d'après l'annuaire",
        help_en="refresh your displayed name from the directory",
    ),),
)
