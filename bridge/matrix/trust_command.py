"""`!confiance @user` (`!trust`): an administrator re-trusts a practitioner's new
cross-signing identity, after the bot stopped sharing room keys with them because their
master key changed (see `device_trust.py`). Only in the administrators' room.

The administrator first checks with the practitioner, out of band (a phone call), that they
did reset their keys themselves: a changed master key is also what an attacker holding the
password would produce.
"""

from __future__ import annotations

import logging

from bridge.commands import Command, CommandContext, CommandRouter
from bridge.storage.values import ADMIN_ROOM_KEY

log = logging.getLogger(__name__)

USAGE = "Usage : !confiance @utilisateur:serveur\n(Usage: !trust @user:server)"


def changed_notice(user_id: str) -> str:
    return (
        f"La clé d'identité (signature croisée) de {user_id} a changé : je ne partage plus mes "
        "clés de chiffrement avec ses appareils. Vérifiez auprès du praticien, par un autre "
        f"moyen (téléphone), qu'il a bien réinitialisé ses clés, puis tapez !confiance {user_id}.\n"
        f"(The cross-signing identity of {user_id} changed: the bot no longer shares room keys "
        f"with their devices. Check with them out of band, then type !trust {user_id}.)"
    )


async def admin_room(services) -> str | None:
    return await services.verification.get_value(ADMIN_ROOM_KEY)


def register(router: CommandRouter, bot) -> None:
    async def trust(ctx: CommandContext) -> None:
        services = ctx.services
        if ctx.sender not in services.settings.administrators:
            await ctx.reply("Cette commande est réservée aux administrateurs.\n"
                            "(Administrators only.)")
            return
        if ctx.room_id != await admin_room(services):
            await ctx.reply("Les commandes d'administration se donnent dans le salon "
                            "« Administration Confrère ».\n(Use the administrators' room.)")
            return
        target = ctx.args.strip()
        if not target.startswith("@") or ":" not in target or " " in target:
            await ctx.reply(USAGE)
            return
        key = await bot.trust.repin(target, by=ctx.sender)
        if key is None:
            await ctx.reply(f"{target} n'a pas de signature croisée : rien à confirmer.\n"
                            f"({target} has no cross-signing identity.)")
            return
        log.info("%s re-trusted the cross-signing master key of %s", ctx.sender, target)
        await ctx.reply(
            f"Nouvelle clé d'identité de {target} approuvée (empreinte {key[:8]}…). "
            "Je partage de nouveau mes clés avec ses appareils signés.\n"
            f"(New identity of {target} trusted; its signed devices get room keys again.)")

    if router.lookup("confiance") is None:
        router.register(Command(
            name="confiance", handler=trust, aliases=("trust",), usage="@utilisateur",
            section="Administration",
            help_fr="approuver la nouvelle clé d'identité d'un praticien (administrateurs)",
            help_en="trust a practitioner's new cross-signing identity (administrators)",
        ))
