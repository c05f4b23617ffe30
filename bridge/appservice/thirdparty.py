"""Third-party look-ups (`/_matrix/app/v1/thirdparty/...`): the directory for Matrix clients.

Clients that support third-party networks search the protocol `fr.confrere.annuaire`
through Synapse. Synapse does not tell the appservice who asks (it forwards only the search
fields, which the client chooses), so the answer must be safe for an unverified account: the
public directory only, each person named by the ghost user standing for them, never whether
they are on Confrère nor their Matrix account. Verified practitioners learn that from the
bot's `!annuaire`; inviting a ghost reaches the person once they are verified.
"""

from __future__ import annotations

from aiohttp import web

from bridge.directory.ghosts import ghost_user_id, national_id_of
from bridge.appservice.server import PREFIX, _error, authorise
from bridge.directory.service import DirectoryService
from bridge.storage.database import Database

PROTOCOL = "fr.confrere.annuaire"
MAX_RESULTS = 20


class ThirdPartyAPI:
    def __init__(self, hs_token: str, database: Database, directory: DirectoryService,
                 ghost_prefix: str, server_name: str) -> None:
        self._hs_token = hs_token.encode()
        self.db = database
        self.directory = directory
        self.ghost_prefix = ghost_prefix
        self.server_name = server_name

    def routes(self) -> list[web.RouteDef]:
        base = PREFIX + "/thirdparty"
        return [
            web.get(base + "/protocol/{protocol}", self.protocol),
            web.get(base + "/user/{protocol}", self.users),
            web.get(base + "/user", self.user_by_id),
            web.get(base + "/location/{protocol}", self.no_locations),
            web.get(base + "/location", self.no_locations),
        ]

    async def protocol(self, request: web.Request) -> web.Response:
        if (denied := authorise(request, self._hs_token)) is not None:
            return denied
        if request.match_info["protocol"] != PROTOCOL:
            return _error(404, "M_NOT_FOUND", "Unknown protocol")
        return web.json_response({
            "user_fields": ["search"], "location_fields": [], "icon": "",
            "field_types": {"search": {"regexp": ".*",
                                       "placeholder": "Nom, spécialité, ville, CPTS…"}},
            "instances": [{"desc": "Annuaire national des professionnels de santé",
                           "network_id": "annuaire", "fields": {}}],
        })

    async def users(self, request: web.Request) -> web.Response:
        if (denied := authorise(request, self._hs_token)) is not None:
            return denied
        if request.match_info["protocol"] != PROTOCOL:
            return _error(404, "M_NOT_FOUND", "Unknown protocol")
        text = request.query.get("search", "")[:500]
        if not text.strip():
            return web.json_response([])
        page = await self.directory.search(text, page_size=MAX_RESULTS)
        return web.json_response(await self._entries(page.results))

    async def user_by_id(self, request: web.Request) -> web.Response:
        if (denied := authorise(request, self._hs_token)) is not None:
            return denied
        national_id = national_id_of(self.ghost_prefix, request.query.get("userid", ""),
                                     self.server_name)
        person = await self.directory.get(national_id) if national_id else None
        return web.json_response(await self._entries([person] if person else []))

    async def no_locations(self, request: web.Request) -> web.Response:
        if (denied := authorise(request, self._hs_token)) is not None:
            return denied
        return web.json_response([])

    async def _entries(self, people: list) -> list[dict]:
        """Open data only: the ghost for each person, whoever asks (see the module's doc)."""
        return [{"userid": ghost_user_id(self.ghost_prefix, person.national_id,
                                         self.server_name),
                 "protocol": PROTOCOL, "fields": {
                     "search": person.display_name, "national_id": person.national_id,
                     "display_name": person.display_name,
                     "profession": person.specialty or person.profession,
                     "city": next((s.city for s in person.sites if s.city), ""),
                 }} for person in people]
