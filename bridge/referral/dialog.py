"""The booking dialog (`!adresser`), declared as data on the durable dialog engine.

colleague → place (if several) → motif → next free slots (paged: `plus`, `autre date JJ/MM`;
the chosen slot is held) → the patient, field by field → message → documents (PDF/JPEG/PNG,
checked on the bytes) → summary → `confirmer`. A slot taken meanwhile sends the practitioner
back to the slot step with the next free slots (`GoTo`); `annuler` or expiry releases the hold.

What the engine's `services` must offer: an attribute `referral` holding a
`ReferralDialogServices` (built by the lead with the bot's colleague resolver, attachment
reader and colleague notifier). Values that outlive `retour` (the hold, the offered slots, the
documents received) live in non-step keys of `context.data` (`hold_id`, `offer`, `documents`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Awaitable, Callable

from bridge.agenda import booking
from bridge.agenda.service import motifs_of, places_of
from bridge.agenda.slots import PARIS, Slot, free_slots
from bridge.dialogs import FINISH, Answer, Dialog, DialogContext, GoTo, Invalid, Step
from bridge.identity.documents import JPEG, PDF, PNG, sniff
from bridge.referral import patient as fields
from bridge.referral.service import Booked, ReferralService
from bridge.storage.database import Database
from bridge.storage.models import utcnow

MB = 1024 * 1024
HORIZON = timedelta(days=60)


@dataclass
class ReferralDialogServices:
    db: Database
    referrals: ReferralService
    # "3", "Dr Martin", a favourite… → {"national_id", "name"} or None.
    find_colleague: Callable[[str, DialogContext], Awaitable[dict | None]]
    # The attachment event → (bytes, file name, reference to forward it); may raise Invalid.
    read_attachment: Callable[[Any, int], Awaitable[tuple[bytes, str, dict]]]
    # Sends the colleague their message and documents (the bot); None in unit tests.
    notify_colleague: Callable[[DialogContext, Booked, dict], Awaitable[None]] | None = None
    hold_minutes: int = 10
    page_size: int = 5
    max_document_bytes: int = 50 * MB
    clock: Callable[[], datetime] = utcnow


def _svc(context: DialogContext) -> ReferralDialogServices:
    return context.services.referral


def _slot_json(slot: Slot) -> dict:
    return {"start": slot.starts_at.isoformat(), "end": slot.ends_at.isoformat(),
            "nid": slot.national_id, "place": slot.place_id, "motif": slot.motif_id}


def _slot(data: dict) -> Slot:
    return Slot(datetime.fromisoformat(data["start"]), datetime.fromisoformat(data["end"]),
                data["nid"], data["place"], data["motif"])


def _text(answer: Answer) -> str:
    return (answer.text or "").strip()


def _number(answer: Answer, count: int) -> int:
    try:
        chosen = int(_text(answer).rstrip("."))
    except ValueError:
        chosen = 0
    if not 1 <= chosen <= count:
        raise Invalid(f"Répondez par un numéro entre 1 et {count}. (Answer 1–{count}.)")
    return chosen - 1


def _field(check: Callable[[str], Any]) -> Callable[[Answer, DialogContext], Any]:
    def parse(answer: Answer, context: DialogContext) -> Any:
        try:
            return check(_text(answer))
        except fields.FieldError as refusal:
            raise Invalid(str(refusal)) from None
    return parse


# -- colleague, place, motif ---------------------------------------------------------------
async def _colleague(answer: Answer, context: DialogContext) -> dict:
    svc = _svc(context)
    found = await svc.find_colleague(_text(answer), context)
    if found is None:
        raise Invalid("Je ne trouve pas ce praticien : donnez le numéro d'un résultat de "
                      "recherche, d'un favori, ou son nom. (Practitioner not found.)")
    places = await places_of(svc.db, found["national_id"])
    motifs = await motifs_of(svc.db, found["national_id"])
    if not places or not motifs:
        raise Invalid(f"{found['name']} n'a pas publié d'agenda sur Confrère : vous pouvez lui "
                      "écrire directement. (No agenda published; message them instead.)")
    return {**found, "places": [[p.id, f"{p.name}, {p.city}".strip(", ")] for p in places],
            "motifs": [[m.id, m.label, m.duration_minutes] for m in motifs]}


def _numbered(items: list) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))


def _place(answer: Answer, context: DialogContext) -> int:
    places = context.data["colleague"]["places"]
    return places[_number(answer, len(places))][0]


def _place_id(context: DialogContext) -> int:
    return context.data.get("place") or context.data["colleague"]["places"][0][0]


async def _offer(context: DialogContext, start: datetime) -> list[dict]:
    """Store the next page of free slots from `start` in `context.data["offer"]`."""
    svc, motif = _svc(context), context.data["motif"]
    now = svc.clock()
    async with svc.db.session() as session:
        found = await free_slots(session, context.data["colleague"]["national_id"],
                                 motif_id=motif["id"], place_id=_place_id(context),
                                 start=max(start, now), end=max(start, now) + HORIZON, now=now)
    context.data["offer"] = [_slot_json(s) for s in found[:svc.page_size]]
    return context.data["offer"]


async def _motif(answer: Answer, context: DialogContext) -> dict:
    motifs = context.data["colleague"]["motifs"]
    motif_id, label, minutes = motifs[_number(answer, len(motifs))]
    context.data["motif"] = {"id": motif_id, "label": label, "minutes": minutes}
    if not await _offer(context, _svc(context).clock()):
        raise Invalid("Aucun créneau libre dans les deux mois pour ce motif : choisissez-en "
                      "un autre. (No free slot for this reason.)")
    return context.data["motif"]


# -- slot ------------------------------------------------------------------------------------
def _slot_question(context: DialogContext) -> str:
    offer = context.data.get("offer") or []
    if not offer:
        return ("Plus aucun créneau libre à partir de cette date : tapez autre date JJ/MM. "
                "(No free slot from there.)")
    listing = _numbered([_slot(s).label() for s in offer])
    return (f"Prochains créneaux libres :\n{listing}\nRépondez par un numéro, plus pour "
            "d'autres, ou autre date JJ/MM. (Pick a number, plus, or autre date DD/MM.)")


async def _slot_choice(answer: Answer, context: DialogContext) -> dict:
    svc, word = _svc(context), _text(answer).casefold()
    offer = context.data.get("offer") or []
    if word == "plus":
        start = _slot(offer[-1]).starts_at + timedelta(minutes=1) if offer else svc.clock()
        await _offer(context, start)
        return {"paging": True}
    if word.startswith("autre date"):
        try:
            day, month = (int(x) for x in word.removeprefix("autre date").strip().split("/"))
            today = svc.clock().astimezone(PARIS).date()
            wanted = date(today.year, month, day)
            if wanted < today:
                wanted = date(today.year + 1, month, day)
        except ValueError:
            raise Invalid("Écrivez autre date JJ/MM, par exemple autre date 15/03. "
                          "(Write autre date DD/MM.)") from None
        await _offer(context, datetime.combine(wanted, datetime.min.time(), tzinfo=PARIS))
        return {"paging": True}
    chosen = _slot(offer[_number(answer, len(offer))]) if offer else None
    if chosen is None:
        raise Invalid("Tapez autre date JJ/MM. (Write autre date DD/MM.)")
    await _release(context)
    try:
        context.data["hold_id"] = await booking.hold(svc.db, chosen, svc.hold_minutes,
                                                     now=svc.clock())
    except booking.SlotTaken as taken:
        context.data["offer"] = [_slot_json(s) for s in taken.next_slots[:svc.page_size]]
        return {"paging": True, "taken": True}
    return {"chosen": _slot_json(chosen)}


def _after_slot(context: DialogContext) -> str:
    return "slot" if context.data["slot"].get("paging") else "civility"


# -- patient, message, documents, summary ------------------------------------------------
def _birth(answer: Answer, context: DialogContext) -> str:
    today = _svc(context).clock().astimezone(PARIS).date()
    return _field(lambda text: fields.birth_date(text, today))(answer, context)


def _message(answer: Answer, context: DialogContext) -> str:
    text = _text(answer)
    if len(text) > 4000:
        raise Invalid("Message trop long (4 000 caractères au plus). (Too long.)")
    return "" if text.casefold() in ("aucun", "non", "-") else text


async def _document(answer: Answer, context: DialogContext) -> str:
    svc = _svc(context)
    data, name, ref = await svc.read_attachment(answer.attachment, svc.max_document_bytes)
    if len(data) > svc.max_document_bytes:
        raise Invalid(f"Document trop lourd : {svc.max_document_bytes // MB} Mo au plus. "
                      "(Document too large.)")
    kind = sniff(data)
    if kind not in (PDF, JPEG, PNG):
        raise Invalid("Seuls les PDF, JPEG et PNG sont acceptés (vérifié sur le contenu du "
                      "fichier, pas sur son nom). (PDF, JPEG or PNG only.)")
    documents = context.data.setdefault("documents", [])
    if len(documents) >= 10:
        raise Invalid("Dix documents au plus par adressage. (At most ten documents.)")
    documents.append({"name": name[:200], "type": kind, "size": len(data), "ref": ref})
    return name[:200]


def _summary(context: DialogContext) -> str:
    d = context.data
    slot = _slot(d["slot"]["chosen"])
    place = dict(map(tuple, d["colleague"]["places"]))[_place_id(context)]
    born = d.get("birth_city") or d.get("birth_country")
    return (f"Récapitulatif :\n{d['colleague']['name']} — {slot.label()}, {place}, "
            f"{d['motif']['label']}\n{d['civility']} {d['first_name']} {d['last_name']}, "
            f"né(e) le {d['birth_date']} à {born}\n{d['address']}, {d['postal_code']} "
            f"{d['city']} — {d['mobile']} — {d['email']}\nDocuments : "
            f"{len(d.get('documents', []))}\nTapez confirmer pour réserver, retour pour "
            "corriger, annuler pour abandonner. (Type confirmer to book.)")


def _confirm(answer: Answer, context: DialogContext) -> bool:
    if _text(answer).casefold() not in ("confirmer", "confirm", "oui"):
        raise Invalid("Tapez confirmer, retour ou annuler. (Type confirmer, retour or annuler.)")
    return True


def _patient(context: DialogContext) -> fields.Patient:
    d = context.data
    return fields.Patient(
        civility=d["civility"], first_name=d["first_name"], last_name=d["last_name"],
        birth_name=d.get("birth_name", ""), birth_date=d["birth_date"],
        born_in_france=d["born_in_france"],
        birth_place=d.get("birth_city") or d.get("birth_country", ""), address=d["address"],
        postal_code=d["postal_code"], city=d["city"], mobile=d["mobile"], email=d["email"],
        already_patient=d["already_patient"])


async def _finish(context: DialogContext):
    svc, d = _svc(context), context.data
    try:
        booked = await svc.referrals.refer(
            _slot(d["slot"]["chosen"]), _patient(context), referrer_id=context.user_id,
            message=d.get("message", ""), documents=d.get("documents", []),
            hold_id=d.get("hold_id"), now=svc.clock())
    except booking.SlotTaken as taken:
        d.pop("hold_id", None)
        d["offer"] = [_slot_json(s) for s in taken.next_slots[:svc.page_size]]
        raise GoTo("slot", "Ce créneau a été pris entre-temps : choisissez-en un autre. "
                           "(The slot was taken meanwhile.)") from None
    if svc.notify_colleague is not None:
        await svc.notify_colleague(context, booked, dict(d))
    return (f"Rendez-vous réservé : {booked.slot.label()} (réf. {booked.reference}). Votre "
            "confrère est prévenu ; le patient recevra un e-mail et un SMS.\n"
            "(Booked; your colleague and the patient are told.)")


async def _release(context: DialogContext) -> None:
    hold_id = context.data.pop("hold_id", None)
    if hold_id is not None:
        await booking.release(_svc(context).db, hold_id)


def _yes_no(answer: Answer, context: DialogContext) -> bool:
    return _field(fields.yes_no)(answer, context)


def _q(text: str) -> Callable[[DialogContext], str]:
    return lambda context: text


REFERRAL_DIALOG = Dialog(
    name="referral", title="Adressage d'un patient", finish=_finish, on_cancel=_release,
    expires_after=timedelta(minutes=30),
    steps=(
        Step("colleague", "À quel confrère adressez-vous votre patient ? Numéro d'un résultat "
             "de recherche ou d'un favori, ou son nom. (Which colleague?)", _colleague,
             next=lambda c: "place" if len(c.data["colleague"]["places"]) > 1 else "motif"),
        Step("place", lambda c: "Quel lieu de consultation ?\n" + _numbered(
            [label for _, label in c.data["colleague"]["places"]]), _place),
        Step("motif", lambda c: "Quel motif ?\n" + _numbered(
            [f"{label} ({minutes} min)" for _, label, minutes in c.data["colleague"]["motifs"]]),
             _motif),
        Step("slot", lambda c: ("Ce créneau vient d'être pris. "
                                if c.data.get("slot", {}).get("taken") else "")
             + _slot_question(c), _slot_choice, next=_after_slot),
        Step("civility", "Le patient : civilité (Mme ou M.) ?", _field(fields.civility)),
        Step("first_name", "Prénom ?", _field(fields.name)),
        Step("last_name", "Nom ?", _field(fields.name)),
        Step("birth_name", "Nom de naissance (ou - s'il est le même) ?",
             _field(lambda t: fields.name(t, optional=True))),
        Step("birth_date", "Date de naissance (JJ/MM/AAAA) ?", _birth),
        Step("born_in_france", "Né(e) en France ? (oui/non)", _yes_no,
             next=lambda c: "birth_city" if c.data["born_in_france"] else "birth_country"),
        Step("birth_city", "Ville de naissance ?", _field(fields.city), next="address"),
        Step("birth_country", "Pays de naissance ?", _field(fields.city)),
        Step("address", "Adresse (numéro et rue) ?", _field(fields.address)),
        Step("postal_code", "Code postal ?", _field(fields.postal_code)),
        Step("city", "Ville ?", _field(fields.city)),
        Step("mobile", "Téléphone mobile (pour le SMS de confirmation) ?", _field(fields.mobile)),
        Step("email", "Adresse e-mail (pour la confirmation) ?", _field(fields.email)),
        Step("already_patient", "Déjà patient(e) de ce praticien ? (oui/non)", _yes_no),
        Step("message", "Un message pour votre confrère (ou aucun) ?", _message),
        Step("attach", "Joindre des documents (PDF, JPEG, PNG, 50 Mo au plus) ? (oui/non)",
             _yes_no, next=lambda c: "document" if c.data["attach"] else "summary"),
        Step("document", "Envoyez le document.", _document, wants_attachment=True),
        Step("more", "Document reçu. Un autre ? (oui/non)", _yes_no,
             next=lambda c: "document" if c.data["more"] else "summary"),
        Step("summary", _summary, _confirm, next=FINISH),
    ),
)
