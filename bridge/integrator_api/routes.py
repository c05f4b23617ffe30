"""`/api/v1` routes: directory search and look-up, behind integrator bearer tokens.

Described by `openapi.json` (served at `/api/v1/openapi.json`). Errors are JSON with a
French message first and an English one.
"""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import web

from bridge.directory.membership import verified_members
from bridge.directory.service import DirectoryService
from bridge.integrator_api.tokens import integrator_for
from bridge.storage.database import Database

PREFIX = "/api/v1"
OPENAPI = Path(__file__).with_name("openapi.json")
MAX_QUERY = 500


def error(status: int, code: str, fr: str, en: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": fr, "message_en": en}},
                             status=status)


class IntegratorAPI:
    """Directory routes; plus the FHIR agenda routes when `agenda` (an `AgendaAPI` from
    `bridge/integrator_api/agenda.py`) is given."""

    def __init__(self, database: Database, directory: DirectoryService,
                 agenda=None) -> None:
        self.db = database
        self.directory = directory
        self.agenda = agenda

    def routes(self) -> list[web.RouteDef]:
        return (self.agenda.routes() if self.agenda is not None else []) + [
            web.get(PREFIX + "/openapi.json", self.openapi),
            web.get(PREFIX + "/directory/search", self.search),
            web.get(PREFIX + "/directory/practitioners/{national_id}", self.practitioner),
        ]

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(json.loads(OPENAPI.read_text(encoding="utf-8")))

    async def _authorised(self, request: web.Request) -> web.Response | None:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return error(401, "unauthorized", "Jeton d'accès manquant (en-tête Authorization).",
                         "Missing bearer token.")
        if await integrator_for(self.db, header[7:].strip()) is None:
            return error(403, "forbidden", "Jeton d'accès invalide ou révoqué.",
                         "Invalid or revoked token.")
        return None

    async def search(self, request: web.Request) -> web.Response:
        if (denied := await self._authorised(request)) is not None:
            return denied
        query = request.query
        text = query.get("q", "")
        try:
            page = int(query.get("page", "1"))
            page_size = int(query.get("page_size", "20"))
            if page < 1 or not 1 <= page_size <= 100:
                raise ValueError
        except ValueError:
            return error(400, "bad_request", "page ≥ 1 et page_size entre 1 et 100.",
                         "page must be ≥ 1 and page_size between 1 and 100.")
        if len(text) > MAX_QUERY:
            text = text[:MAX_QUERY]
        result = await self.directory.search(
            text, profession=query.get("profession") or None,
            specialty=query.get("specialty") or None, city=query.get("city") or None,
            page=page, page_size=page_size,
        )
        body = result.to_json()
        members = await verified_members(self.db, [p.national_id for p in result.results])
        for item in body["results"]:
            item["confrere_user_id"] = members.get(item["national_id"])
        return web.json_response(body)

    async def practitioner(self, request: web.Request) -> web.Response:
        if (denied := await self._authorised(request)) is not None:
            return denied
        national_id = request.match_info["national_id"]
        person = await self.directory.get(national_id) if len(national_id) <= 20 else None
        if person is None:
            return error(404, "not_found", "Aucun praticien avec cet identifiant national.",
                         "No practitioner with this national identifier.")
        body = person.to_json()
        body["confrere_user_id"] = (await verified_members(self.db, [person.national_id])
                                    ).get(person.national_id)
        return web.json_response(body)
