"""A small client for the Onfido v3.6 API, and the check of its webhook signature.

Only what a document check needs: applicant → document sides → live photo → check with the
`document` and `facial_similarity_photo` reports, then reading the check and its reports. The
token travels in `Authorization: Token token=…` and is never logged; errors carry the HTTP
status and Onfido's error type only (their messages may echo what we sent).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import aiohttp

from bridge.identity.documents import Photo

WEBHOOK_PATH = "/webhooks/onfido"  # served by web/onfido.py, told to Onfido

REPORT_NAMES = ("document", "facial_similarity_photo")
FINAL_STATUSES = ("complete", "withdrawn")


class OnfidoError(RuntimeError):
    """Onfido answered with an error, or could not be reached."""


def signature_valid(raw_body: bytes, header: str | None, webhook_token: str) -> bool:
    """`X-SHA2-Signature`: lowercase hex HMAC-SHA256 of the raw body, compared in constant time."""
    if not header or not webhook_token:
        return False
    expected = hmac.new(webhook_token.encode(), raw_body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())


def sign(raw_body: bytes, webhook_token: str) -> str:
    """What Onfido puts in `X-SHA2-Signature` (used by the simulator and the tests)."""
    return hmac.new(webhook_token.encode(), raw_body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class CheckOutcome:
    """A check as read back from Onfido: its status, its result and a one-line summary."""

    check_id: str
    status: str
    result: str | None
    summary: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


class OnfidoClient:
    def __init__(self, base_url: str, api_token: str, http: aiohttp.ClientSession,
                 timeout_seconds: float = 30) -> None:
        self.base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Token token={api_token}"}
        self.http = http
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict:
        try:
            async with self.http.request(method, self.base_url + path, headers=self._headers,
                                         timeout=self.timeout, **kwargs) as response:
                body = await response.json(content_type=None)
                if response.status >= 300:
                    kind = (body or {}).get("error", {}).get("type", "?") \
                        if isinstance(body, dict) else "?"
                    raise OnfidoError(f"{method} {path.split('?')[0]}: {response.status} {kind}")
                return body
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OnfidoError(f"{method} {path.split('?')[0]}: {type(exc).__name__}") from exc

    async def create_applicant(self, first_name: str, last_name: str) -> str:
        body = await self._call("POST", "/applicants",
                                json={"first_name": first_name, "last_name": last_name})
        return body["id"]

    async def upload_document(self, applicant_id: str, photo: Photo, document_type: str,
                              side: str, issuing_country: str) -> str:
        form = aiohttp.FormData()
        form.add_field("applicant_id", applicant_id)
        form.add_field("type", document_type)
        form.add_field("side", side)
        form.add_field("issuing_country", issuing_country)
        form.add_field("file", photo.data, filename=_filename(photo),
                       content_type=photo.mimetype)
        return (await self._call("POST", "/documents", data=form))["id"]

    async def upload_live_photo(self, applicant_id: str, photo: Photo) -> str:
        form = aiohttp.FormData()
        form.add_field("applicant_id", applicant_id)
        form.add_field("file", photo.data, filename=_filename(photo),
                       content_type=photo.mimetype)
        return (await self._call("POST", "/live_photos", data=form))["id"]

    async def create_check(self, applicant_id: str, document_ids: list[str]) -> dict:
        return await self._call("POST", "/checks", json={
            "applicant_id": applicant_id, "report_names": list(REPORT_NAMES),
            "document_ids": document_ids})

    async def outcome(self, check_id: str) -> CheckOutcome:
        """`GET /checks/{id}` and, once it is complete, its reports as a short summary."""
        check = await self._call("GET", f"/checks/{check_id}")
        summary = ""
        if check.get("status") == "complete":
            reports = (await self._call("GET", f"/reports?check_id={check_id}")).get("reports", [])
            summary = summarise(reports)
        return CheckOutcome(check_id, check.get("status", "?"), check.get("result"), summary)


def summarise(reports: list[dict]) -> str:
    """`document : consider (suspected) ; facial_similarity_photo : clear` — no personal data."""
    parts = []
    for report in reports:
        text = f"{report.get('name', '?')} : {report.get('result') or report.get('status', '?')}"
        if report.get("sub_result"):
            text += f" ({report['sub_result']})"
        flagged = [name for name, part in (report.get("breakdown") or {}).items()
                   if isinstance(part, dict) and part.get("result") not in (None, "clear")]
        if flagged:
            text += f" — à revoir : {', '.join(sorted(flagged))}"
        parts.append(text)
    return " ; ".join(parts) or "aucun rapport"


def _filename(photo: Photo) -> str:
    return f"{photo.kind}.{'png' if photo.mimetype == 'image/png' else 'jpg'}"
