"""The practitioner's private iCalendar feed (RFC 5545): secret-token URL, revocable, rotated.

Privacy decision: calendar apps sync a subscribed feed to third-party clouds (Google, Apple,
Microsoft), outside the practitioner's control. So the feed carries the motif, the place and
the patient's *initials* only — never the name, birth date, phone or message; the full details
stay in the encrypted DM and the practice software. The token is stored as SHA-256 (a database
leak gives no usable URL); `rotate` revokes the old URL and returns a new one.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select, update

from bridge.agenda.models import AgendaBooking, AgendaMotif, AgendaPlace, FeedToken
from bridge.agenda.slots import aware
from bridge.referral.models import Referral
from bridge.storage.database import Database
from bridge.storage.models import utcnow

PREFIX = "cfa_"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def rotate(db: Database, national_id: str) -> str:
    """Revoke every feed URL of this practitioner and return a new token (shown once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    async with db.session() as session, session.begin():
        await session.execute(update(FeedToken).where(
            FeedToken.national_id == national_id, FeedToken.revoked_at.is_(None)).values(
            revoked_at=utcnow()))
        session.add(FeedToken(national_id=national_id, token_hash=_digest(token)))
    return token


async def revoke(db: Database, national_id: str) -> int:
    async with db.session() as session, session.begin():
        result = await session.execute(update(FeedToken).where(
            FeedToken.national_id == national_id, FeedToken.revoked_at.is_(None)).values(
            revoked_at=utcnow()))
    return result.rowcount


async def owner_of(db: Database, token: str) -> str | None:
    """The practitioner of a live feed token, else None (looked up by hash)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    async with db.session() as session:
        row = await session.scalar(select(FeedToken).where(
            FeedToken.token_hash == _digest(token), FeedToken.revoked_at.is_(None)))
    return row.national_id if row else None


async def calendar(db: Database, national_id: str, initials_of, now: datetime | None = None,
                   ) -> bytes:
    """The feed: bookings from 30 days ago to a year ahead; cancelled ones as CANCELLED so
    subscribed apps remove them. `initials_of(referral)` gives "C.D." (or "" once purged)."""
    now = now or utcnow()
    async with db.session() as session:
        rows = (await session.execute(
            select(Referral, AgendaBooking, AgendaMotif, AgendaPlace)
            .join(AgendaBooking, AgendaBooking.id == Referral.booking_id)
            .outerjoin(AgendaMotif, AgendaMotif.id == AgendaBooking.motif_id)
            .outerjoin(AgendaPlace, AgendaPlace.id == AgendaBooking.place_id)
            .where(AgendaBooking.national_id == national_id,
                   AgendaBooking.starts_at >= now - timedelta(days=30),
                   AgendaBooking.starts_at < now + timedelta(days=366))
            .order_by(AgendaBooking.starts_at))).all()
    cal = Calendar()
    cal.add("prodid", "-//Confrère//Agenda//FR")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Confrère — rendez-vous adressés")
    for referral, booked, motif, place in rows:
        event = Event()
        event.add("uid", f"{referral.reference}@confrere")
        event.add("dtstamp", now)
        event.add("dtstart", aware(booked.starts_at))
        event.add("dtend", aware(booked.ends_at))
        initials = initials_of(referral)
        event.add("summary", " — ".join(x for x in (motif.label if motif else "RDV",
                                                    initials) if x))
        if place is not None:
            event.add("location", ", ".join(x for x in (place.name, place.address,
                                                        place.postal_code, place.city) if x))
        event.add("status", "CANCELLED" if referral.status == "cancelled" else "CONFIRMED")
        cal.add_component(event)
    return cal.to_ical()
