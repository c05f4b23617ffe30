"""Referral (adressage) in the product: `!adresser`, `!agenda`, and the workers that tell
everyone (SMS, integrator webhooks, purge of patient details).

The booking dialog itself is declared in `bridge/referral/dialog.py`; this module gives it
what only the running service has: who "3" or "Dr Martin" is (`find_colleague`), the
attachment bytes (`read_attachment`, downloaded and decrypted by the bot like identity
photos) and the colleague's notice (`notify_colleague`, the bot's encrypted DM). Only
verified practitioners may refer or read an agenda, and only in their direct conversation
with the bot: patient details and the feed URL (a secret) never go to a shared room.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import aiohttp
from nio.crypto.attachments import decrypt_attachment
from nio.exceptions import EncryptionError

from bridge.accounts.states import State
from bridge.agenda import feed
from bridge.agenda.listing import agenda_text
from bridge.agenda.slots import PARIS
from bridge.commands import Command, CommandContext
from bridge.context import Feature, HandlerContext
from bridge.dialogs import Answer, DialogContext, Invalid
from bridge.directory.membership import verified_members
from bridge.handlers import agenda_setup
from bridge.handlers.documents import (
    DOWNLOAD_FAILED_FR,
    UNDECRYPTABLE_FR,
    UNENCRYPTED_MEDIA_FR,
    fetch_capped,
)
from bridge.identity.documents import DocumentRefused
from bridge.referral.dialog import MB, REFERRAL_DIALOG, ReferralDialogServices
from bridge.referral.models import Referral
from bridge.referral.patient import Patient
from bridge.referral.service import Booked, ReferralPurgeWorker, colleague_message
from bridge.sms.devpage import DevSmsPage
from bridge.sms.outbox import SmsWorker
from bridge.sms.provider import DevSmsSink, provider_from
from bridge.storage.sealing import SealedBox
from bridge.webhooks.outbox import WebhookWorker

log = logging.getLogger(__name__)

SECTION = "Adressage"
UNVERIFIED_FR = ("L'adressage et l'agenda sont réservés aux praticiens dont l'identité est "
                 "vérifiée : écrivez !verifier pour commencer.\n(Referral and agenda are for "
                 "verified practitioners: type !verify.)")
NOT_LINKED_FR = ("Votre compte n'est lié à aucune entrée de l'annuaire : l'agenda n'est pas "
                 "disponible.\n(Your account is not linked to a directory entry.)")
DM_ONLY_FR = ("Pour protéger les données des patients, utilisez cette commande dans votre "
              "conversation directe avec moi.\n(Use this command in your direct conversation "
              "with me.)")
AGENDA_USAGE_FR = ("Usage : !agenda jour, !agenda semaine, !agenda flux (adresse privée de votre "
                   "agenda pour votre application de calendrier), !agenda flux revoquer.\n"
                   "(Usage: !agenda day|week|feed|feed revoke.)")


# -- what the dialog gets from the service ---------------------------------------------------
def dialog_services(ctx: HandlerContext) -> ReferralDialogServices:
    """The `services.referral` the booking dialog reads (set once by the service)."""
    assert ctx.referrals is not None
    settings = ctx.settings.referral

    async def read_attachment(event: Any, cap: int) -> tuple[bytes, str, dict]:
        return await _read_attachment(ctx, event, cap)

    return ReferralDialogServices(
        ctx.database, ctx.referrals, find_colleague, read_attachment, notify_colleague,
        hold_minutes=settings.hold_minutes, page_size=settings.slots_per_page,
        max_document_bytes=settings.max_document_mb * MB)


async def find_colleague(text: str, context: DialogContext) -> dict | None:
    """A number from the last listing shown in this conversation, or a name with exactly
    one match in the directory; None otherwise (the dialog asks again)."""
    services: HandlerContext = context.services
    text = text.strip().lstrip("#").rstrip(".")
    national_id = None
    if text.isdigit():
        last = await services.last_results(context.user_id, context.room_id)
        national_id = last.numbered(int(text)) if last is not None else None
    elif 2 <= len(text) <= 200:
        found = await services.directory.search(text, page_size=2)
        if found.total == 1 and not found.fuzzy:
            national_id = found.results[0].national_id
    person = await services.directory.get(national_id) if national_id else None
    if person is None:
        return None
    return {"national_id": person.national_id, "name": person.display_name}


async def _read_attachment(ctx: HandlerContext, event: Any, cap: int
                           ) -> tuple[bytes, str, dict]:
    """Download (capped) and decrypt an encrypted attachment; its `file` keys are kept to
    forward the same ciphertext to the colleague."""
    if not hasattr(event, "key"):
        raise Invalid(UNENCRYPTED_MEDIA_FR)
    content = event.source.get("content", {})
    declared = (content.get("info") or {}).get("size")
    if isinstance(declared, int) and declared > cap:
        raise Invalid(f"Document trop lourd : {cap // MB} Mo au plus. (Document too large.)")
    try:
        ciphertext = await fetch_capped(ctx.http, ctx.require_bot(), event.url, cap)
        data = decrypt_attachment(ciphertext, event.key["k"], event.hashes["sha256"], event.iv)
    except DocumentRefused as refused:
        raise Invalid(refused.message_fr) from None
    except (EncryptionError, KeyError, TypeError, ValueError):
        raise Invalid(UNDECRYPTABLE_FR) from None
    except aiohttp.ClientError as exc:
        log.warning("referral document download failed: %s", type(exc).__name__)
        raise Invalid(DOWNLOAD_FAILED_FR) from None
    return data, str(event.body or "document")[:200], dict(content.get("file") or {})


async def notify_colleague(context: DialogContext, booked: Booked, data: dict) -> None:
    """Wake the outboxes, then the bot tells the colleague in their DM with it (their
    onboarding conversation) with the documents; a colleague not on Confrère is told by
    the webhook and the feed only."""
    services: HandlerContext = context.services
    if services.outbox is not None:
        services.outbox.poke()
    for name in (SmsWorker.name, WebhookWorker.name):
        if (worker := services.workers.get(name)) is not None:
            worker.poke()
    members = await verified_members(services.database, [booked.slot.national_id])
    colleague = members.get(booked.slot.national_id)
    account = await services.verification.account(colleague) if colleague else None
    if account is None or not account.onboarding_room_id:
        return
    async with services.database.session() as session:
        referral = await session.get(Referral, booked.referral_id)
    details = services.referrals.details(referral) if referral else None
    if details is None:
        return
    referrer = await services.verification.account(context.user_id)
    referrer_name = (f"{referrer.first_name} {referrer.last_name}" if referrer
                     else context.user_id)
    place_id = data.get("place") or data["colleague"]["places"][0][0]
    place = dict(map(tuple, data["colleague"]["places"])).get(place_id, "")
    documents = details.get("documents") or []
    text, html = colleague_message(booked.slot, Patient.from_json(details["patient"]),
                                   details.get("message", ""), referrer_name, place,
                                   data["motif"]["label"], documents)
    try:  # the booking stands whatever happens here: the feed and webhook carry it too
        bot = services.require_bot()
        await bot.send_text(account.onboarding_room_id, text, html)
        for document in documents:
            if document.get("ref"):
                await bot.send_encrypted_file(account.onboarding_room_id, document["name"],
                                              document["type"], document["size"],
                                              document["ref"])
    except Exception as exc:  # noqa: BLE001 - never fail a booking already committed
        log.warning("could not tell the colleague of referral %s (%s)", booked.reference,
                    type(exc).__name__)


# -- commands --------------------------------------------------------------------------------
async def _allowed(ctx: CommandContext) -> bool:
    """Verified, and in a direct conversation with the bot; else say why (False)."""
    state = await ctx.services.verification.state_for_rules(ctx.sender)
    if state["verification"] != State.VERIFIED:
        await ctx.reply(UNVERIFIED_FR)
        return False
    bot = ctx.services.bot
    room = bot.client.rooms.get(ctx.room_id) if bot is not None and bot.client else None
    if room is None or room.member_count > 2:
        await ctx.reply(DM_ONLY_FR)
        return False
    return True


async def refer(ctx: CommandContext) -> None:
    """`!adresser [N|nom]`: start the booking dialog; a hint is the first answer."""
    if not await _allowed(ctx):
        return
    hint = ctx.args.strip()
    held: list[tuple[str, str | None]] = []

    async def first(text: str, html: str | None = None) -> None:
        if hint:
            held.append((text, html))  # the hint answers this question at once
        else:
            await ctx.reply(text, html)

    dialogs = ctx.services.dialogs
    started = await dialogs.start(REFERRAL_DIALOG.name, ctx.sender, ctx.room_id, first)
    if not started or not hint:
        for text, html in held:
            await ctx.reply(text, html)
        return
    await dialogs.handle(ctx.sender, ctx.room_id, Answer(text=hint), ctx.reply)


async def agenda(ctx: CommandContext) -> None:
    """`!agenda jour|semaine|flux|flux revoquer`, and `lieu|horaires|motif` to declare it."""
    if not await _allowed(ctx):
        return
    account = await ctx.services.verification.account(ctx.sender)
    national_id = account.national_id if account is not None else None
    if not national_id:
        await ctx.reply(NOT_LINKED_FR)
        return
    verb, _, rest = ctx.args.strip().partition(" ")
    if await agenda_setup.setup(ctx, national_id, verb.casefold(), rest):
        return
    words = ctx.args.casefold().split()
    db = ctx.services.database
    if words in ([], ["jour"], ["day"], ["semaine"], ["week"]):
        days = 7 if words and words[0] in ("semaine", "week") else 1
        today = datetime.now(PARIS).date()
        await ctx.reply(await agenda_text(db, ctx.services.referrals, national_id, today, days))
        return
    if words in (["flux"], ["feed"]):
        token = await feed.rotate(db, national_id)
        url = f"{ctx.services.settings.service.url}/agenda/{token}.ics"
        await ctx.reply(
            f"Adresse privée de votre agenda (iCalendar), à ajouter dans votre application de "
            f"calendrier :\n{url}\nC'est un secret : ne la partagez pas. Toute adresse "
            "précédente ne fonctionne plus ; !agenda flux revoquer la désactive.\n(Your "
            "private calendar feed URL: keep it secret. Older URLs no longer work.)")
        return
    if words in (["flux", "revoquer"], ["flux", "révoquer"], ["feed", "revoke"]):
        count = await feed.revoke(db, national_id)
        await ctx.reply("Adresse de l'agenda révoquée : elle ne fonctionne plus. (Feed URL "
                        "revoked.)" if count else "Aucune adresse d'agenda active. (No active "
                        "feed URL.)")
        return
    await ctx.reply(AGENDA_USAGE_FR + "\n" + agenda_setup.USAGE_FR)


# -- workers and pages -----------------------------------------------------------------------
def _workers(ctx: HandlerContext) -> list:
    assert ctx.referrals is not None
    settings, key = ctx.settings, ctx.settings.secrets.sealing_key
    return [
        SmsWorker(ctx.database, SealedBox(key, "sms"), provider_from(settings),
                  retry_ceiling=settings.sms.retry_max_seconds),
        WebhookWorker(ctx.database, key,
                      retry_ceiling=settings.referral.webhook_retry_max_seconds),
        ReferralPurgeWorker(ctx.referrals),
    ]


def _routes(ctx: HandlerContext) -> list:
    """`/_dev/sms` when the SMS provider is the development sink (the worker's own)."""
    worker = ctx.workers.get(SmsWorker.name)
    provider = getattr(worker, "provider", None)
    return DevSmsPage(provider).routes() if isinstance(provider, DevSmsSink) else []


FEATURE = Feature(
    name="referral",
    commands=(
        Command(name="adresser", aliases=("refer",), handler=refer, usage="[N|nom]",
                section=SECTION,
                help_fr="adresser un patient à un confrère : prendre rendez-vous pour lui",
                help_en="refer a patient: book an appointment with a colleague"),
        Command(name="agenda", aliases=("calendar",), handler=agenda,
                usage="jour|semaine|flux|flux revoquer|lieu|horaires|motif", section=SECTION,
                help_fr="vos rendez-vous adressés, l'adresse privée de votre agenda, ou le "
                        "déclarer (lieu, horaires, motif)",
                help_en="your referred appointments, your private calendar feed, or declare "
                        "your agenda"),
    ),
    dialogs=(REFERRAL_DIALOG,),
    workers=_workers,
    routes=_routes,
)
