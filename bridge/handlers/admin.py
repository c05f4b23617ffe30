"""`!admin …`: identity review by the administrators, only in their room with the bot.

`!admin verifications` lists pending requests; `!admin approuver @user`,
`!admin refuser @user <raison>`, `!admin revoquer @user <raison>` decide. Every decision goes
through `VerificationService`, so it is audited and the practitioner is told.
"""

from __future__ import annotations

import re

from bridge.accounts.states import Method
from bridge.commands import Command, CommandContext
from bridge.context import Feature
from bridge.storage.values import ADMIN_ROOM_KEY
from bridge.identity.directory_link import link_declared
from bridge.verification.service import NationalIdTaken, NoAccount

USER_ID = re.compile(r"^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-:\[\]]+$")
USAGE = ("Commandes : !admin verifications · !admin approuver @utilisateur · "
         "!admin refuser @utilisateur <raison> · !admin revoquer @utilisateur <raison>")


async def admin(ctx: CommandContext) -> None:
    services = ctx.services
    verification = services.verification
    if ctx.sender not in services.settings.administrators:
        await ctx.reply("Cette commande est réservée aux administrateurs.\n(Administrators only.)")
        return
    if ctx.room_id != await verification.get_value(ADMIN_ROOM_KEY):
        await ctx.reply("Les commandes d'administration se donnent dans le salon "
                        "« Administration Confrère ».")
        return
    verb, _, rest = ctx.args.partition(" ")
    verb = verb.lower()
    if verb in ("verifications", "vérifications", "pending"):
        await list_pending(ctx)
        return
    target, _, reason = rest.strip().partition(" ")
    reason = reason.strip()
    if verb not in ("approuver", "approve", "refuser", "refuse", "revoquer", "révoquer", "revoke"):
        await ctx.reply(USAGE)
        return
    if not USER_ID.match(target):
        await ctx.reply(f"Identifiant Matrix attendu (ex. @camille.bernard:serveur).\n{USAGE}")
        return
    if verb not in ("approuver", "approve") and not reason:
        await ctx.reply("Merci d'indiquer la raison ; elle sera transmise au praticien.")
        return
    if len(reason) > 500:
        await ctx.reply("Raison trop longue (500 caractères au plus).")
        return
    note = ""
    try:
        if verb in ("approuver", "approve"):
            note = await approve(ctx, target)
            done = "approuvée"
        elif verb in ("refuser", "refuse"):
            await verification.refuse(target, Method.MANUAL, ctx.sender, reason)
            done = "refusée"
        else:
            await verification.revoke(target, ctx.sender, reason)
            done = "révoquée"
    except NoAccount:
        await ctx.reply(f"Aucun compte Confrère pour {target}.")
        return
    except NationalIdTaken as taken:
        await ctx.reply(f"Approbation impossible : le numéro national {taken.national_id} est "
                        f"déjà lié à {taken.holder} (une identité, un compte). Rien n'a changé.")
        return
    await ctx.reply(f"Vérification de {target} {done}. Le praticien est prévenu.{note}")


async def approve(ctx: CommandContext, target: str) -> str:
    """Verify, linked to the directory entry the declared number names if the names agree
    (the badge then comes from the directory); returns a note for the administrator."""
    account = await ctx.services.verification.account(target)
    if account is None:
        raise NoAccount(target)
    link = await link_declared(ctx.services.directory, account)
    await ctx.services.verification.verify(target, Method.MANUAL, ctx.sender,
                                           national_id=link.national_id)
    if link.national_id is None:
        return (f"\nPas de lien avec l'annuaire ({link.reason_fr}) : le nom affiché sera celui "
                "déclaré, sans spécialité.")
    return f"\nLié à l'entrée {link.national_id} de l'annuaire."


async def list_pending(ctx: CommandContext) -> None:
    pending = await ctx.services.verification.pending()
    conflicts = await ctx.services.verification.conflicts()
    lines = [f"{len(pending)} vérification(s) en attente :" if pending
             else "Aucune vérification en attente."]
    for request in pending:
        account = await ctx.services.verification.account(request.user_id)
        names = f"{account.first_name} {account.last_name}" if account else "?"
        declared = account.declared_identifier if account and account.declared_identifier else "—"
        lines.append(f"• {request.user_id} — {names} — RPPS/ADELI déclaré : {declared} — "
                     f"{request.method}, depuis le {request.created_at:%d/%m/%Y %H:%M}")
    if conflicts:
        lines.append(f"{len(conflicts)} vérification(s) refusée(s) : numéro national déjà lié "
                     "à un autre compte (30 derniers jours) :")
    for request in conflicts:
        evidence = request.evidence or {}
        who = evidence.get("email") or (request.user_id if request.user_id != evidence.get(
            "holder") else "une inscription")
        lines.append(f"• {evidence.get('national_id', '?')} — lié à {evidence.get('holder', '?')}"
                     f" — tentative de {who} ({request.method}), le "
                     f"{request.created_at:%d/%m/%Y %H:%M}")
    await ctx.reply("\n".join(lines))


FEATURE = Feature(
    name="admin",
    commands=(
        Command(
            name="admin", handler=admin, usage="verifications|approuver|refuser|revoquer …",
            section="Administration",
            help_fr="revue des vérifications d'identité (administrateurs)",
            help_en="identity review (administrators)",
        ),
    ),
)
