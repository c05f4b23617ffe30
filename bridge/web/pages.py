"""Public pages: the home page (signup comes with its own issue) and the health check."""

from __future__ import annotations

from typing import Awaitable, Callable

from aiohttp import web

from bridge.web.templating import render

HealthProbe = Callable[[], Awaitable[dict]]


class Pages:
    def __init__(self, homeserver_url: str, server_name: str, health: HealthProbe) -> None:
        self.homeserver_url = homeserver_url
        self.server_name = server_name
        self.health_probe = health

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/", self.home), web.get("/_confrere/health", self.health)]

    async def home(self, request: web.Request) -> web.Response:
        return render("home.html", title="Confrère", homeserver_url=self.homeserver_url,
                      server_name=self.server_name)

    async def health(self, request: web.Request) -> web.Response:
        report = await self.health_probe()
        return web.json_response(report, status=200 if report.get("status") == "ok" else 503)
