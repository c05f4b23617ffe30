"""An Onfido v3.6 simulator for development (`confrere up`) and the tests.

It speaks the documented endpoints under `/v3.6` — applicants, documents and live photos
(multipart), checks and reports — checks `Authorization: Token token=…`, answers validation
errors the way Onfido shapes them, completes each check after `delay_seconds` with the
`outcome` tests choose (clear or consider), and posts the `check.completed` webhook signed with
`X-SHA2-Signature` to `webhook_url`. `deliver_webhooks = False` simulates lost webhooks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from bridge.identity.documents import sniff
from bridge.identity.onfido import sign

log = logging.getLogger(__name__)

PREFIX = "/v3.6"
DOCUMENT_TYPES = ("passport", "national_identity_card", "driving_licence",
                  "residence_permit", "unknown")
REPORTS = ("document", "facial_similarity_photo")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _error(status: int, kind: str, message: str, fields: dict | None = None) -> web.Response:
    return web.json_response({"error": {"type": kind, "message": message,
                                        "fields": fields or {}}}, status=status)


@dataclass
class OnfidoSimulator:
    """Serve with `app()`; set `base_url` (where it listens) and `webhook_url` before use."""

    api_token: str
    webhook_token: str
    base_url: str = ""
    webhook_url: str = ""
    outcome: str = "clear"  # clear | consider: the result of the next checks
    delay_seconds: float = 0.2
    deliver_webhooks: bool = True
    applicants: dict = field(default_factory=dict)
    documents: dict = field(default_factory=dict)
    live_photos: dict = field(default_factory=dict)
    checks: dict = field(default_factory=dict)
    reports: dict = field(default_factory=dict)
    webhooks_sent: list = field(default_factory=list)  # (raw body, signature, HTTP status)
    _tasks: set = field(default_factory=set)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._authorise], client_max_size=20 * 1024 * 1024)
        app.add_routes([
            web.post(PREFIX + "/applicants", self.create_applicant),
            web.get(PREFIX + "/applicants/{id}", self.get_applicant),
            web.post(PREFIX + "/documents", self.upload_document),
            web.post(PREFIX + "/live_photos", self.upload_live_photo),
            web.post(PREFIX + "/checks", self.create_check),
            web.get(PREFIX + "/checks/{id}", self.get_check),
            web.get(PREFIX + "/reports", self.list_reports),
            web.get(PREFIX + "/reports/{id}", self.get_report),
        ])
        app.on_cleanup.append(self._cancel_tasks)
        return app

    @property
    def api_url(self) -> str:
        return self.base_url.rstrip("/") + PREFIX

    def _href(self, kind: str, ident: str) -> str:
        return f"{PREFIX}/{kind}/{ident}"

    @web.middleware
    async def _authorise(self, request: web.Request, handler):
        expected = f"Token token={self.api_token}"
        given = request.headers.get("Authorization", "")
        if not secrets.compare_digest(given.encode(), expected.encode()):
            return _error(401, "authorization_error", "Authorization error: please re-check "
                          "your API token and try again")
        return await handler(request)

    # -- applicants, documents, live photos -----------------------------------------------
    async def create_applicant(self, request: web.Request) -> web.Response:
        body = await _json(request)
        missing = {name: ["can't be blank"] for name in ("first_name", "last_name")
                   if not str(body.get(name, "")).strip()}
        if missing:
            return _error(422, "validation_error", "There was a validation error on this "
                          "request", missing)
        ident = secrets.token_hex(16)
        self.applicants[ident] = {"id": ident, "created_at": _now(),
                                  "first_name": body["first_name"],
                                  "last_name": body["last_name"],
                                  "href": self._href("applicants", ident)}
        return web.json_response(self.applicants[ident], status=201)

    async def get_applicant(self, request: web.Request) -> web.Response:
        applicant = self.applicants.get(request.match_info["id"])
        if applicant is None:
            return _error(404, "resource_not_found", "The resource could not be found.")
        return web.json_response(applicant)

    async def upload_document(self, request: web.Request) -> web.Response:
        form, data, problem = await self._multipart(request)
        if problem:
            return problem
        errors = {}
        if form.get("type") not in DOCUMENT_TYPES:
            errors["type"] = ["is not included in the list"]
        if form.get("side", "front") not in ("front", "back"):
            errors["side"] = ["is not included in the list"]
        if errors:
            return _error(422, "validation_error", "There was a validation error", errors)
        ident = secrets.token_hex(16)
        self.documents[ident] = {
            "id": ident, "created_at": _now(), "applicant_id": form["applicant_id"],
            "type": form["type"], "side": form.get("side", "front"),
            "issuing_country": form.get("issuing_country"), "file_size": len(data),
            "file_type": sniff(data), "href": self._href("documents", ident),
            "download_href": self._href("documents", ident) + "/download"}
        return web.json_response(self.documents[ident], status=201)

    async def upload_live_photo(self, request: web.Request) -> web.Response:
        form, data, problem = await self._multipart(request)
        if problem:
            return problem
        ident = secrets.token_hex(16)
        self.live_photos[ident] = {"id": ident, "created_at": _now(),
                                   "applicant_id": form["applicant_id"],
                                   "file_size": len(data), "file_type": sniff(data),
                                   "href": self._href("live_photos", ident)}
        return web.json_response(self.live_photos[ident], status=201)

    async def _multipart(self, request: web.Request):
        """(text fields, file bytes, error response or None) of a multipart upload."""
        if not request.content_type.startswith("multipart/"):
            return {}, b"", _error(422, "validation_error", "multipart/form-data expected")
        form: dict[str, str] = {}
        data = b""
        reader = await request.multipart()
        async for part in reader:
            if part.name == "file":
                data = await part.read()
            elif part.name:
                form[part.name] = await part.text()
        if form.get("applicant_id") not in self.applicants:
            return form, data, _error(422, "validation_error", "There was a validation error",
                                      {"applicant_id": ["is invalid"]})
        if sniff(data) not in ("image/jpeg", "image/png", "application/pdf"):
            return form, data, _error(422, "validation_error", "There was a validation error",
                                      {"file": ["is invalid"]})
        return form, data, None

    # -- checks and reports ---------------------------------------------------------------
    async def create_check(self, request: web.Request) -> web.Response:
        body = await _json(request)
        applicant_id = body.get("applicant_id")
        if applicant_id not in self.applicants:
            return _error(422, "validation_error", "There was a validation error",
                          {"applicant_id": ["is invalid"]})
        names = body.get("report_names") or []
        if not names or any(name not in REPORTS for name in names):
            return _error(422, "validation_error", "There was a validation error",
                          {"report_names": ["is invalid"]})
        ident = secrets.token_hex(16)
        report_ids = []
        for name in names:
            report_id = secrets.token_hex(16)
            self.reports[report_id] = {"id": report_id, "name": name, "status": "awaiting_data",
                                       "result": None, "sub_result": None, "breakdown": {},
                                       "check_id": ident, "created_at": _now(),
                                       "href": self._href("reports", report_id)}
            report_ids.append(report_id)
        self.checks[ident] = {"id": ident, "created_at": _now(), "status": "in_progress",
                              "result": None, "applicant_id": applicant_id,
                              "report_ids": report_ids, "href": self._href("checks", ident),
                              "document_ids": body.get("document_ids") or []}
        task = asyncio.create_task(self._complete_later(ident, self.outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response(self.checks[ident], status=201)

    async def get_check(self, request: web.Request) -> web.Response:
        check = self.checks.get(request.match_info["id"])
        if check is None:
            return _error(404, "resource_not_found", "The resource could not be found.")
        return web.json_response(check)

    async def list_reports(self, request: web.Request) -> web.Response:
        check = self.checks.get(request.query.get("check_id", ""))
        if check is None:
            return _error(404, "resource_not_found", "The resource could not be found.")
        return web.json_response({"reports": [self.reports[r] for r in check["report_ids"]]})

    async def get_report(self, request: web.Request) -> web.Response:
        report = self.reports.get(request.match_info["id"])
        if report is None:
            return _error(404, "resource_not_found", "The resource could not be found.")
        return web.json_response(report)

    def complete(self, check_id: str, outcome: str) -> None:
        """Finish a check now: reports, then the check, as Onfido would."""
        check = self.checks[check_id]
        for report_id in check["report_ids"]:
            report = self.reports[report_id]
            flagged = outcome == "consider" and report["name"] == "document"
            report.update(status="complete", result="consider" if flagged else "clear",
                          sub_result=("suspected" if flagged else "clear")
                          if report["name"] == "document" else None,
                          breakdown={"visual_authenticity": {
                              "result": "consider" if flagged else "clear"}})
        check.update(status="complete", result=outcome,
                     completed_at_iso8601=_now())

    async def _complete_later(self, check_id: str, outcome: str) -> None:
        await asyncio.sleep(self.delay_seconds)
        self.complete(check_id, outcome)
        if self.deliver_webhooks:
            await self.send_webhook(check_id)

    def webhook_body(self, check_id: str) -> bytes:
        check = self.checks[check_id]
        return json.dumps({"payload": {
            "resource_type": "check", "action": "check.completed",
            "object": {"id": check_id, "status": check["status"],
                       "completed_at_iso8601": check.get("completed_at_iso8601"),
                       "href": self.api_url + f"/checks/{check_id}"}}}).encode()

    async def send_webhook(self, check_id: str, *, body: bytes | None = None,
                           signature: str | None = None) -> int:
        """POST the signed webhook (or the given body/signature) to `webhook_url`."""
        raw = body if body is not None else self.webhook_body(check_id)
        signed = signature if signature is not None else sign(raw, self.webhook_token)
        try:
            async with aiohttp.ClientSession() as http, http.post(
                    self.webhook_url, data=raw, headers={"Content-Type": "application/json",
                                                         "X-SHA2-Signature": signed}) as response:
                status = response.status
        except aiohttp.ClientError as exc:
            log.warning("simulated webhook not delivered: %s", type(exc).__name__)
            status = 0
        self.webhooks_sent.append((raw, signed, status))
        return status

    async def _cancel_tasks(self, _app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def _json(request: web.Request) -> dict:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
