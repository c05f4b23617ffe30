"""`POST /webhooks/onfido`: Onfido tells the service that a check is complete.

The raw body is read once and handed, with `X-SHA2-Signature`, to the document checks, which
verify the signature before parsing anything, refuse replays and unknown checks, and read the
result from Onfido itself rather than trusting the webhook's body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

from bridge.identity.onfido import WEBHOOK_PATH

if TYPE_CHECKING:
    from bridge.identity.document_checks import DocumentChecks



class OnfidoWebhook:
    def __init__(self, checks: DocumentChecks) -> None:
        self.checks = checks

    def routes(self) -> list[web.RouteDef]:
        return [web.post(WEBHOOK_PATH, self.receive)]

    async def receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        status, reason = await self.checks.on_webhook(raw, request.headers.get("X-SHA2-Signature"))
        return web.json_response({"status": reason}, status=status)
