"""`/_dev/mail`: what the development SMTP catcher received (only when it runs)."""

from __future__ import annotations

from aiohttp import web

from bridge.mail.catcher import MailCatcher
from bridge.web.templating import render


class DevMailPage:
    def __init__(self, catcher: MailCatcher) -> None:
        self.catcher = catcher

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_dev/mail", self.page)]

    async def page(self, request: web.Request) -> web.Response:
        return render("devmail.html", title="Courriels reçus (développement)",
                      messages=list(self.catcher.messages),
                      smtp=f"{self.catcher.host}:{self.catcher.port}")
