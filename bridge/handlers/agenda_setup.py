"""`!agenda lieu|horaires|motif`: the smallest agenda a practitioner can declare by command.

One place, weekly opening hours, appointment reasons: enough for a colleague to address them
a patient without practice software (which publishes its slots through the integrator API
instead). Each subcommand validates its input with the domain's checks
(`bridge/agenda/service.py`, `bridge/referral/patient.py`) and changes nothing when refused.
"""

from __future__ import annotations

import re

from bridge.agenda import service as agenda
from bridge.agenda.slots import DAYS
from bridge.commands import CommandContext
from bridge.referral import patient as fields

SHORT_DAYS = {day[:3]: index for index, day in enumerate(DAYS)}
HOURS = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2})[:h](\d{2})\s*-\s*(\d{1,2})[:h](\d{2})$")
USAGE_FR = (
    "Déclarer votre agenda :\n"
    "!agenda lieu Nom; adresse; code postal; ville\n"
    "!agenda horaires lun-ven 09:00-12:00 (un jour ou une plage ; répétez pour d'autres)\n"
    "!agenda motif Libellé; durée en minutes\n"
    "(Declare a place, weekly hours and a reason; one place by command, more through the "
    "integrator API.)")


async def setup(ctx: CommandContext, national_id: str, verb: str, rest: str) -> bool:
    """Run `!agenda <verb> <rest>` if `verb` is a setup verb; False otherwise."""
    handler = {"lieu": _place, "place": _place, "horaires": _hours, "hours": _hours,
               "motif": _motif, "reason": _motif}.get(verb)
    if handler is None:
        return False
    try:
        await ctx.reply(await handler(ctx, national_id, rest.strip()))
    except (ValueError, fields.FieldError) as refusal:
        await ctx.reply(f"{refusal}\n{USAGE_FR}")
    return True


async def _place(ctx: CommandContext, national_id: str, rest: str) -> str:
    db = ctx.services.database
    if await agenda.places_of(db, national_id):
        raise ValueError("Vous avez déjà un lieu de consultation ; les suivants se déclarent "
                         "par votre logiciel (API intégrateur). (You already have a place.)")
    parts = [part.strip() for part in rest.split(";")]
    if len(parts) != 4 or not parts[0]:
        raise ValueError("Il faut quatre éléments séparés par des points-virgules.")
    name = " ".join(parts[0].split())[:120]
    address = fields.address(parts[1])
    postal_code = fields.postal_code(parts[2])
    city = fields.city(parts[3])
    await agenda.ensure_profile(db, national_id)
    await agenda.add_place(db, national_id, name, address, postal_code, city)
    return (f"Lieu enregistré : {name}, {address}, {postal_code} {city}. Ajoutez vos horaires "
            "(!agenda horaires lun-ven 09:00-12:00). (Place saved.)")


async def _hours(ctx: CommandContext, national_id: str, rest: str) -> str:
    db = ctx.services.database
    places = await agenda.places_of(db, national_id)
    if not places:
        raise ValueError("Déclarez d'abord votre lieu de consultation (!agenda lieu …).")
    found = HOURS.match(rest.casefold())
    if found is None:
        raise ValueError("Horaires non compris.")
    first, last = (SHORT_DAYS.get(found.group(1)), SHORT_DAYS.get(found.group(2) or
                                                                   found.group(1)))
    if first is None or last is None or last < first:
        raise ValueError("Jours : lun, mar, mer, jeu, ven, sam, dim (par exemple lun-ven).")
    opens = f"{int(found.group(3)):02d}:{found.group(4)}"
    closes = f"{int(found.group(5)):02d}:{found.group(6)}"
    for weekday in range(first, last + 1):
        await agenda.add_rule(db, places[0].id, weekday, opens, closes)
    days = DAYS[first] if first == last else f"du {DAYS[first]} au {DAYS[last]}"
    return f"Horaires enregistrés : {days}, {opens}–{closes}, à {places[0].name}. (Hours saved.)"


async def _motif(ctx: CommandContext, national_id: str, rest: str) -> str:
    parts = [part.strip() for part in rest.split(";")]
    if len(parts) != 2 or not parts[0] or len(parts[0]) > 120:
        raise ValueError("Il faut un libellé et une durée en minutes, séparés par un "
                         "point-virgule.")
    try:
        minutes = int(parts[1].removesuffix("min").strip())
    except ValueError:
        raise ValueError("La durée est un nombre de minutes.") from None
    await agenda.ensure_profile(ctx.services.database, national_id)
    await agenda.add_motif(ctx.services.database, national_id, parts[0], minutes)
    return f"Motif enregistré : {parts[0]} ({minutes} min). (Reason saved.)"
