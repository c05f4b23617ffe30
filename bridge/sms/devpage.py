"""`/_dev/sms`: what the development SMS sink received (only when it is the provider)."""

from __future__ import annotations

from html import escape

from aiohttp import web

from bridge.sms.provider import DevSmsSink


class DevSmsPage:
    def __init__(self, sink: DevSmsSink) -> None:
        self.sink = sink

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/_dev/sms", self.page), web.get("/_dev/sms.json", self.json)]

    async def page(self, request: web.Request) -> web.Response:
        rows = "".join(
            f"<tr><td>{m['received_at']:%d/%m/%Y %H:%M:%S}</td><td>{escape(m['to'])}</td>"
            f"<td>{escape(m['text'])}</td></tr>" for m in self.sink.messages)
        html = ("<!doctype html><meta charset=utf-8><title>SMS (développement)</title>"
                "<h1>SMS reçus (développement) / SMS received</h1><table><tr><th>Reçu</th>"
                f"<th>À</th><th>Texte</th></tr>{rows}</table>")
        return web.Response(text=html, content_type="text/html")

    async def json(self, request: web.Request) -> web.Response:
        return web.json_response([{**m, "received_at": m["received_at"].isoformat()}
                                  for m in self.sink.messages])
