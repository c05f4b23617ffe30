"""Recording a guest's invitation, and the e-mail telling them a colleague wrote.

Call `record_invitation` in the same transaction as whatever decided the invitation; the mail
goes through the outbox (`enqueue`), so it exists iff the invitation was committed. At most one
mail per guest per day whatever the number of invitations; none after an opt-out; none when
no address is known (the caller tells the inviter, `Outcome.NO_ADDRESS`).
"""

from __future__ import annotations

import enum
import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.directory.ghosts import ghost_user_id
from bridge.guests.models import GuestContact, GuestInvitation
from bridge.guests.standins import email_stand_in
from bridge.guests.tokens import (
    SIGNUP_PARAM,
    UNSUBSCRIBE_PARAM,
    SignupPrefill,
    make_signup_token,
    make_unsubscribe_token,
)
from bridge.mail.outbox import enqueue
from bridge.storage.models import utcnow

UNSUBSCRIBE_PATH = "/invitations/stop"
MAIL_EVERY = timedelta(days=1)
_ENV = Environment(loader=FileSystemLoader(Path(__file__).parents[1] / "mail" / "templates"),
                   autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True)


class Outcome(enum.Enum):
    MAILED = "mailed"
    ALREADY_MAILED_TODAY = "already_mailed_today"
    OPTED_OUT = "opted_out"
    NO_ADDRESS = "no_address"


@dataclass(frozen=True)
class Guest:
    """Who is invited: `guest_key` is the national id, or the lowercased e-mail."""

    guest_key: str
    first_name: str
    last_name: str
    national_id: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class MailContext:
    web_url: str  # the service's public address (signup page, unsubscribe route)
    secret: str  # settings.secrets.web_secret
    domain: str = "confrere.local"


def directory_guest(practitioner, email: str | None = None) -> Guest:
    """A guest from the directory; `email` given by the inviter wins over the directory's
    (an MSSanté address first, then any address of the practitioner's sites)."""
    return Guest(practitioner.national_id, practitioner.first_name, practitioner.last_name,
                 national_id=practitioner.national_id,
                 email=(email or directory_address(practitioner) or None))


def email_guest(email: str, first_name: str, last_name: str) -> Guest:
    address = email.strip().lower()
    if "@" not in address or len(address) > 254:
        raise ValueError("not an e-mail address")
    return Guest(address, first_name.strip(), last_name.strip(), email=address)


def directory_address(practitioner) -> str:
    addresses = [site.email.strip() for site in getattr(practitioner, "sites", ()) if site.email]
    secure = [a for a in addresses if a.lower().endswith("mssante.fr")]
    return (secure or addresses or [""])[0]


def stand_in_of(guest: Guest, contact: GuestContact | None, ghost_prefix: str,
                server_name: str) -> str:
    if guest.national_id:
        return ghost_user_id(ghost_prefix, guest.national_id, server_name)
    return contact.stand_in if contact is not None else email_stand_in(ghost_prefix,
                                                                       server_name)


async def record_invitation(session: AsyncSession, guest: Guest, room_id: str, inviter: str,
                            inviter_name: str, mail: MailContext, *, ghost_prefix: str,
                            server_name: str, now: datetime | None = None
                            ) -> tuple[str, Outcome]:
    """Record that `inviter` invited `guest` to `room_id`; return the stand-in to invite
    (record first: the rules accept an e-mail stand-in only with a pending invitation) and
    what happened about the e-mail."""
    now = now or utcnow()
    contact = await session.get(GuestContact, guest.guest_key)
    stand_in = stand_in_of(guest, contact, ghost_prefix, server_name)
    if contact is None:
        contact = GuestContact(guest_key=guest.guest_key, stand_in=stand_in,
                               first_name=guest.first_name, last_name=guest.last_name)
        session.add(contact)
    if guest.email:
        contact.email = guest.email
    session.add(GuestInvitation(guest_key=guest.guest_key, stand_in=stand_in, room_id=room_id,
                                inviter=inviter, created_at=now))
    await session.flush()
    if contact.opted_out_at is not None:
        return stand_in, Outcome.OPTED_OUT
    if not contact.email:
        return stand_in, Outcome.NO_ADDRESS
    last = contact.last_mailed_at
    if last is not None and (last if last.tzinfo else last.replace(tzinfo=now.tzinfo)) \
            > now - MAIL_EVERY:
        return stand_in, Outcome.ALREADY_MAILED_TODAY
    count = (await session.execute(select(func.count()).select_from(GuestInvitation).where(
        GuestInvitation.guest_key == guest.guest_key, GuestInvitation.done_at.is_(None))
    )).scalar_one()
    text, html = _render(guest, inviter_name, count, mail)
    enqueue(session, kind="guest_invitation", recipient=contact.email,
            subject=f"{inviter_name} vous a écrit sur Confrère", text=text, html=html,
            domain=mail.domain)
    contact.last_mailed_at = now
    return stand_in, Outcome.MAILED


def _render(guest: Guest, inviter_name: str, count: int, mail: MailContext) -> tuple[str, str]:
    base = mail.web_url.rstrip("/")
    signup = make_signup_token(mail.secret, SignupPrefill(
        guest.first_name, guest.last_name, guest.national_id, guest.email))
    context = {
        "first_name": guest.first_name, "inviter": inviter_name, "count": count,
        "subject": f"{inviter_name} vous a écrit sur Confrère",
        "signup_url": f"{base}/signup?{urllib.parse.urlencode({SIGNUP_PARAM: signup})}",
        "unsubscribe_url": f"{base}{UNSUBSCRIBE_PATH}?" + urllib.parse.urlencode(
            {UNSUBSCRIBE_PARAM: make_unsubscribe_token(mail.secret, guest.guest_key)}),
    }
    return (_ENV.get_template("guest_invitation.txt").render(**context),
            _ENV.get_template("guest_invitation.html").render(**context))


async def ensure_registered(http: aiohttp.ClientSession, synapse_url: str, as_token: str,
                            stand_in: str) -> None:
    """Create the stand-in's Matrix user (appservice registration); already there is fine."""
    async with http.post(f"{synapse_url.rstrip('/')}/_matrix/client/v3/register",
                         headers={"Authorization": f"Bearer {as_token}"},
                         json={"type": "m.login.application_service", "inhibit_login": True,
                               "username": stand_in[1:].split(":", 1)[0]}) as answer:
        body = await answer.json(content_type=None)
        if answer.status != 200 and body.get("errcode") != "M_USER_IN_USE":
            raise RuntimeError(f"stand-in registration refused ({answer.status})")


def stand_in_name(guest: Guest) -> str:
    """What the room's members read for the stand-in: "Prénom NOM (invité)"."""
    return f"{guest.first_name} {guest.last_name.upper()} (invité)".strip()


async def name_stand_in(http: aiohttp.ClientSession, synapse_url: str, admin_token: str,
                        stand_in: str, guest: Guest) -> None:
    """Set the stand-in's display name (users cannot: `enable_set_displayname: false`)."""
    from bridge.matrix.synapse_admin import set_display_name

    await set_display_name(http, synapse_url, admin_token, stand_in, stand_in_name(guest))


async def pending_for(session: AsyncSession, guest_key: str) -> list[GuestInvitation]:
    """Rooms still waiting for this guest (for the welcome: inviter and date only)."""
    rows = await session.execute(select(GuestInvitation).where(
        GuestInvitation.guest_key == guest_key, GuestInvitation.done_at.is_(None))
        .order_by(GuestInvitation.created_at))
    return list(rows.scalars())


async def pending_for_account(session: AsyncSession, national_id: str | None,
                              email: str | None) -> list[GuestInvitation]:
    """What the bot's welcome lists before verification: the rooms waiting for this person
    (show `inviter` and `created_at` only — never the room's name or members)."""
    keys = [k for k in (national_id, email.strip().lower() if email else None) if k]
    found: list[GuestInvitation] = []
    for key in keys:
        found += await pending_for(session, key)
    return sorted(found, key=lambda row: row.created_at)
