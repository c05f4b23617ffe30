"""The "Se connecter avec Pro Santé Connect" chain as a browser walks it, for tests and bench.

Synapse's `/login/sso/redirect/oidc-psc` → the service's `/sso/authorize` → the PSC simulator
(custom identity form) → the service's `/sso/psc/callback` → Synapse's OIDC callback → (the
confirmation page for an untrusted client) → the client address with `loginToken`.
"""

from __future__ import annotations

import asyncio
import html
import random
import re
import urllib.parse
import uuid

import aiohttp
from aiohttp import web
from nio import LoginResponse
from sqlalchemy import update

from bridge.accounts.models import Account
from tests.e2e.harness import free_port
from tests.e2e.matrix_client import TestClient

# Where the client (Element's page) would be: a blank page served here, see `client_page`.
CLIENT_URL = f"http://127.0.0.1:{free_port()}/after-login"
_client_runner: web.AppRunner | None = None


async def client_page() -> None:
    """Serve the client's landing page once for the session (a real page rather than a
    Playwright route: routes on a redirect target add a second, slower request)."""
    global _client_runner
    if _client_runner is None:
        async def landing(request: web.Request) -> web.Response:
            return web.Response(text="<title>client</title>ok", content_type="text/html")

        app = web.Application()
        app.router.add_get("/after-login", landing)
        _client_runner = web.AppRunner(app, access_log=None)
        await _client_runner.setup()
        port = urllib.parse.urlparse(CLIENT_URL).port
        await web.TCPSite(_client_runner, "127.0.0.1", port).start()
IDP = "oidc-psc"


def new_national_id() -> str:
    """A fresh '8' + 11-digit identifier, so accounts in the shared stack never collide."""
    return "8" + "".join(random.choice("0123456789") for _ in range(11))


def redirect_url(stack, client_url: str = CLIENT_URL) -> str:
    query = urllib.parse.urlencode({"redirectUrl": client_url})
    return f"{stack.settings.synapse.url}/_matrix/client/v3/login/sso/redirect/{IDP}?{query}"


async def sso_account(stack, prefix: str, national_id: str, *, state: str = "verified",
                      first: str = "Claire", last: str = "Martin",
                      password: bool = False) -> str:
    """A Confrère account linked to `national_id`; without a password unless asked (as an
    account created through PSC would be). Returns the Matrix user id."""
    localpart = f"{prefix}{uuid.uuid4().hex[:8]}"
    user_id = f"@{localpart}:{stack.settings.server_name}"
    body: dict = {"displayname": f"{first} {last}"}
    if password:
        body["password"] = uuid.uuid4().hex
    async with aiohttp.ClientSession() as http:
        async with http.put(
            f"{stack.settings.synapse.url}/_synapse/admin/v2/users/{user_id}", json=body,
            headers={"Authorization": f"Bearer {stack.service.services.admin.access_token}"},
        ) as response:
            assert response.status in (200, 201), await response.text()
    await stack.add_account(user_id, first_name=first, last_name=last, state=state)
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == user_id)
                              .values(national_id=national_id))
    return user_id


async def walk(page, stack, national_id: str, *, first: str = "Claire", last: str = "Martin",
               client_url: str = CLIENT_URL, confirm: bool = True) -> str:
    """Click through the chain with the given PSC identity; return the URL it ends on."""
    await client_page()
    await page.goto(redirect_url(stack, client_url))
    await page.fill('input[name="given_name"]', first)
    await page.fill('input[name="family_name"]', last)
    await page.fill('input[name="national_id"]', national_id)
    await page.get_by_role("button", name="Se connecter").click()
    await page.wait_for_url(lambda url: "/wallet/auth" not in url)
    await page.wait_for_load_state()
    if confirm and "Continue to your account" in await page.title():
        await page.get_by_role("link", name="Continue").click()
        await page.wait_for_url(CLIENT_URL + "**")
    return page.url


def login_token(url: str) -> str | None:
    return urllib.parse.parse_qs(urllib.parse.urlparse(url).query).get("loginToken", [None])[0]


async def token_client(stack, user_id: str, token: str) -> TestClient:
    """A matrix-nio client logged in with `m.login.token`, synced, keys uploaded."""
    client = TestClient(stack.settings.synapse.url, user_id,
                        stack.data_dir / "clients" / f"sso-{uuid.uuid4().hex[:8]}")
    response = await client.client.login(token=token, device_name="SSO test client")
    assert isinstance(response, LoginResponse), response
    assert client.client.user_id == user_id
    await client.client.sync(timeout=0, full_state=True)
    if client.client.should_upload_keys:
        await client.client.keys_upload()
    client._task = asyncio.create_task(client._sync_loop())
    stack.clients.append(client)
    return client


class HttpWalk:
    """The same chain without a browser, one hop at a time, cookies kept by hand (all hosts
    are 127.0.0.1, and Synapse's session cookie is `Secure`, which aiohttp would hold back
    over http). For the adversarial cases that need to stop, replay or alter a hop."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.http = aiohttp.ClientSession()
        self.cookies: dict[str, str] = {}

    async def close(self) -> None:
        await self.http.close()

    async def get(self, url: str) -> tuple[int, str, str]:
        """One GET, no redirect followed: (status, Location, body)."""
        async with self.http.get(url, allow_redirects=False, headers=self._cookie()) as r:
            self._keep(r)
            return r.status, r.headers.get("Location", ""), await r.text()

    async def post_form(self, url: str, form: dict) -> tuple[int, str, str]:
        async with self.http.post(url, data=form, allow_redirects=False,
                                  headers=self._cookie()) as r:
            self._keep(r)
            return r.status, r.headers.get("Location", ""), await r.text()

    def _cookie(self) -> dict:
        if not self.cookies:
            return {}
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def _keep(self, response) -> None:
        for name, morsel in response.cookies.items():
            if morsel.value and morsel["max-age"] != "0":
                self.cookies[name] = morsel.value
            else:
                self.cookies.pop(name, None)

    async def to_psc(self, client_url: str = CLIENT_URL) -> str:
        """Synapse → service → the PSC simulator's authorization URL."""
        status, authorize, _ = await self.get(redirect_url(self.stack, client_url))
        assert status in (302, 303), status
        status, psc, body = await self.get(authorize)
        assert status == 302, (status, body[:300])
        return psc

    async def at_psc(self, psc_url: str, national_id: str, first: str = "Claire",
                     last: str = "Martin") -> str:
        """Pick a custom identity at the simulator; return the service callback URL."""
        parsed = urllib.parse.urlparse(psc_url)
        form = dict(urllib.parse.parse_qsl(parsed.query))
        form.update(identity="custom", national_id=national_id, given_name=first,
                    family_name=last)
        status, callback, _ = await self.post_form(psc_url.split("?")[0], form)
        assert status == 302, status
        return callback

    async def answer(self, callback: str) -> tuple[int, dict | None, str]:
        """Open the service's PSC callback: (status, the fields it posts to Synapse, body)."""
        status, _, body = await self.get(callback)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                 body))
        if status != 200 or 'method="post"' not in body or "code" not in fields:
            return status, None, body
        action = html.unescape(re.search(r'action="([^"]+)"', body).group(1))
        assert action == self.stack.settings.synapse.client_url.rstrip("/") + \
            "/_synapse/client/oidc/callback", action
        return status, {k: html.unescape(v) for k, v in fields.items()}, body

    async def to_synapse(self, fields: dict) -> tuple[int, str, str]:
        """Submit the code to Synapse's callback, as the page's script does."""
        url = self.stack.settings.synapse.client_url.rstrip("/") + "/_synapse/client/oidc/callback"
        return await self.post_form(url, fields)

    async def login(self, national_id: str, **names) -> tuple[int, str, str]:
        """The whole chain to Synapse's answer: (status, Location, body) of its callback."""
        callback = await self.at_psc(await self.to_psc(), national_id, **names)
        status, fields, body = await self.answer(callback)
        if fields is None:
            return status, "", body
        return await self.to_synapse(fields)


def token_in(location: str, body: str) -> str | None:
    """The loginToken from a redirect, or from Synapse's confirmation page link."""
    if location:
        return login_token(location)
    match = re.search(r'href="([^"]*loginToken=[^"]*)"', body)
    return login_token(html.unescape(match.group(1))) if match else None
