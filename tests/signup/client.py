"""A browser-like HTTP client for the signup pages: cookies, CSRF tokens, its own address."""

from __future__ import annotations

import html
import itertools
import re
import uuid
from dataclasses import dataclass

import aiohttp

from tests.security.canaries import plant

_ips = itertools.count(1)
CODE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)
STRONG_PASSWORD = plant("Tisane-Verveine-2026", "password")


def unique_email(prefix: str = "camille") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@exemple.fr"


def valid_form(**overrides: str) -> dict[str, str]:
    form = {"first_name": "Camille", "last_name": "Bernard", "email": unique_email(),
            "exercise_mode": "liberal", "identifier": "10001045367",
            "password": STRONG_PASSWORD, "accept_terms": "oui", "accept_privacy": "oui"}
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def code_in(text: str) -> str:
    match = CODE.search(text)
    assert match, "no code in the mail"
    return plant(match.group(1), "one-time code")


@dataclass
class Page:
    status: int
    url: str
    text: str

    def token(self, action: str) -> str:
        match = re.search(rf'action="{re.escape(action)}"[^>]*>\s*<input type="hidden" '
                          r'name="csrf" value="([^"]+)"', self.text)
        assert match, f"no form posting to {action}"
        return match.group(1)

    def field_error(self, name: str) -> str | None:
        match = re.search(rf'<p class="error" id="{name}-erreur">(.*?)</p>', self.text, re.DOTALL)
        if not match:
            return None
        return html.unescape(re.sub(r"<[^>]+>", "", match.group(1))).replace("Erreur : ", "").strip()

    def value_of(self, name: str) -> str | None:
        match = re.search(rf'<input id="{name}" name="{name}"[^>]*?value="([^"]*)"', self.text,
                          re.DOTALL)
        return html.unescape(match.group(1)) if match else None


class SignupClient:
    def __init__(self, base_url: str, ip: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        n = next(_ips)
        self.ip = ip or f"198.51.{n // 250}.{n % 250 + 1}"
        self.http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True),
                                          headers={"X-Forwarded-For": self.ip})
        self.last: Page | None = None

    async def close(self) -> None:
        await self.http.close()

    async def _page(self, response: aiohttp.ClientResponse) -> Page:
        self.last = Page(response.status, str(response.url), await response.text())
        return self.last

    async def get(self, path: str) -> Page:
        async with self.http.get(self.base + path) as response:
            return await self._page(response)

    async def post(self, path: str, data: dict[str, str], token_from: str | None = None,
                   token: str | None = None) -> Page:
        """POST with the token of the current page's form for `path` (unless given)."""
        if token is None:
            if self.last is None:
                await self.get(token_from or path)
            token = self.last.token(path)
        async with self.http.post(self.base + path, data=dict(data, csrf=token)) as response:
            return await self._page(response)

    async def start(self, **overrides: str) -> Page:
        """Open the form and submit it (valid unless overridden)."""
        await self.get("/signup")
        return await self.post("/signup", valid_form(**overrides))

    async def submit_code(self, code: str) -> Page:
        if self.last is None or 'action="/signup/code"' not in self.last.text:
            await self.get("/signup/code")
        return await self.post("/signup/code", {"code": code})

    async def resend(self) -> Page:
        if self.last is None or 'action="/signup/resend"' not in self.last.text:
            await self.get("/signup/code")
        return await self.post("/signup/resend", {})
