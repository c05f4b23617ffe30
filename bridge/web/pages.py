"""Public pages: the home page (signup comes with its own issue) and the health check."""

from __future__ import annotations

from html import escape
from typing import Awaitable, Callable

from aiohttp import web

HealthProbe = Callable[[], Awaitable[dict]]


class Pages:
    def __init__(self, homeserver_url: str, server_name: str, health: HealthProbe) -> None:
        self.homeserver_url = homeserver_url
        self.server_name = server_name
        self.health_probe = health

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/", self.home), web.get("/_confrere/health", self.health)]

    async def home(self, request: web.Request) -> web.Response:
        hs = escape(self.homeserver_url)
        html = f"""<!doctype html>
<html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Confrère — messagerie sécurisée des professionnels de santé</title></head>
<body><main>
<h1>Confrère</h1>
<p>Messagerie sécurisée et adressage de patients entre professionnels de santé.</p>
<p><a href="/signup">Créez gratuitement votre compte</a></p>
<p>Adresse du serveur Matrix à saisir dans Element ou tout client Matrix :
<code>{hs}</code> (serveur <code>{escape(self.server_name)}</code>).</p>
</main></body></html>"""
        return web.Response(text=html, content_type="text/html")

    async def health(self, request: web.Request) -> web.Response:
        report = await self.health_probe()
        return web.json_response(report, status=200 if report.get("status") == "ok" else 503)
