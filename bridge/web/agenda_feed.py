"""`GET /agenda/{token}.ics`: a practitioner's private iCalendar feed (see bridge/agenda/feed.py).

An unknown, revoked or malformed token gets the same 404 as anything else (no oracle); the
token never reaches a log line (aiohttp's access log is off in the service, and nothing here
logs the path).
"""

from __future__ import annotations

from aiohttp import web

from bridge.agenda import feed
from bridge.referral.service import ReferralService
from bridge.storage.database import Database


def agenda_feed_routes(database: Database, referrals: ReferralService) -> list[web.RouteDef]:
    """The route list the lead mounts on the web app."""

    def initials(referral) -> str:
        patient = referrals.patient_of(referral)
        return patient.initials if patient else ""

    async def serve(request: web.Request) -> web.Response:
        national_id = await feed.owner_of(database, request.match_info["token"])
        if national_id is None:
            raise web.HTTPNotFound(text="Agenda introuvable. (Not found.)")
        body = await feed.calendar(database, national_id, initials)
        return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                            headers={"Cache-Control": "private, no-store",
                                     "Referrer-Policy": "no-referrer"})

    return [web.get("/agenda/{token}.ics", serve)]
