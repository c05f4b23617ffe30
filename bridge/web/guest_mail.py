"""`/invitations/stop`: the link in guest invitation e-mails that stops them.

GET shows a confirmation button (mail scanners and link previews follow GET links: the opt-out
is stored only by the POST); POST stores it. The signed token names the guest and nothing
else; a bad token gets the same neutral page as a good one and changes nothing. Wire with
`app.add_routes(guest_mail_routes(database, settings.secrets.web_secret))`.
"""

from __future__ import annotations

from aiohttp import web

from bridge.guests.invitations import UNSUBSCRIBE_PATH
from bridge.guests.models import GuestContact
from bridge.guests.tokens import UNSUBSCRIBE_PARAM, open_unsubscribe_token
from bridge.storage.database import Database
from bridge.storage.models import utcnow
from bridge.web.templating import render

TITLE = "Invitations Confrère"


def guest_mail_routes(database: Database, secret: str) -> list[web.RouteDef]:
    async def confirm(request: web.Request) -> web.Response:
        token = request.query.get(UNSUBSCRIBE_PARAM, "")
        if open_unsubscribe_token(secret, token) is None:
            return _invalid()
        return render("guest_stop.html", title=TITLE, token=token, action=UNSUBSCRIBE_PATH,
                      message="Vous ne souhaitez plus être prévenu par e-mail quand un confrère "
                              "vous écrit sur Confrère ?",
                      message_en="You no longer want an e-mail when a colleague writes to you "
                                 "on Confrère?")

    async def stop(request: web.Request) -> web.Response:
        form = await request.post()
        key = open_unsubscribe_token(secret, str(form.get(UNSUBSCRIBE_PARAM, "")))
        if key is None:
            return _invalid()
        async with database.session() as session, session.begin():
            contact = await session.get(GuestContact, key)
            if contact is not None and contact.opted_out_at is None:
                contact.opted_out_at = utcnow()
        return render("guest_stop.html", title=TITLE, token="", action="",
                      message="C'est noté : vous ne recevrez plus ces e-mails.",
                      message_en="Done: you will not receive these e-mails any more.")

    return [web.get(UNSUBSCRIBE_PATH, confirm), web.post(UNSUBSCRIBE_PATH, stop)]


def _invalid() -> web.Response:
    return render("guest_stop.html", status=400, title=TITLE, token="", action="",
                  message="Ce lien n'est pas valide.", message_en="This link is not valid.")
