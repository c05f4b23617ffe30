"""Log in to Matrix with Pro Santé Connect: a real Chromium through the whole redirect chain,
the login token exchanged by a real matrix-nio client, then an encrypted talk with the bot."""

from __future__ import annotations

import time

import aiohttp
import pytest

from bridge.sso import IDP_NAME, synapse_context
from tests.browser import launch
from tests.e2e import sso_flow
from tests.e2e.harness import Stack, stack_environment
from tests.security.canaries import plant

pytestmark = pytest.mark.e2e


async def _login_flows(stack) -> list[dict]:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.settings.synapse.url}/_matrix/client/v3/login") as r:
            return (await r.json())["flows"]


async def test_login_screen_offers_pro_sante_connect_and_password(stack):
    flows = {flow["type"]: flow for flow in await _login_flows(stack)}
    assert "m.login.password" in flows and "m.login.token" in flows
    providers = flows["m.login.sso"]["identity_providers"]
    assert [(p["id"], p["name"], p.get("brand")) for p in providers] == [
        (sso_flow.IDP, IDP_NAME, "pro-sante-connect")]
    # The logo went to Synapse's media store at start; the rendering now carries it.
    icon = synapse_context(stack.settings)["idp_icon"]
    assert icon.startswith("mxc://")
    server, media_id = icon[len("mxc://"):].split("/")
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.settings.synapse.url}/_matrix/client/v1/media/download/{server}/{media_id}",
            headers={"Authorization": f"Bearer {stack.service.context.admin_token}"},
        ) as response:
            assert response.status == 200
            assert (await response.read()).startswith(b"\x89PNG")


async def test_browser_login_then_encrypted_talk_with_the_bot(stack):
    playwright_api = pytest.importorskip("playwright.async_api")
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "psclogin", national_id)  # no password at all
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            started = time.perf_counter()
            final = await sso_flow.walk(page, stack, national_id)
        finally:
            await browser.close()
    token = sso_flow.login_token(final)
    assert final.startswith(sso_flow.CLIENT_URL) and token, final
    plant(token)
    client = await sso_flow.token_client(stack, user_id, token)
    print(f"\nPSC login: {time.perf_counter() - started:.2f} s from the button to a synced client")
    dm = await client.open_dm(stack.bot_id)
    answer = await client.ask(dm, stack.bot_id, "!aide")
    assert answer.decrypted and "!aide" in answer.body
    # The one-time code went to Synapse in a POST body: not in its access log.
    for log in stack.settings.logs_dir.glob("synapse*.log"):
        assert "oidc/callback?code=" not in log.read_text(errors="replace"), log
    # The account has no password: the button is its only way in.
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.settings.synapse.url}/_matrix/client/v3/login", json={
                "type": "m.login.password", "identifier": {"type": "m.id.user", "user": user_id},
                "password": "anything"}) as response:
            assert response.status == 403


async def test_unknown_identity_is_offered_signup_not_an_account(stack):
    playwright_api = pytest.importorskip("playwright.async_api")
    national_id = sso_flow.new_national_id()
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            final = await sso_flow.walk(page, stack, national_id, first="Paul", last="Nouveau")
            heading = await page.locator("h1").inner_text()
            signup = page.get_by_role("link", name="S'inscrire avec Pro Santé Connect")
            href = await signup.get_attribute("href")
        finally:
            await browser.close()
    assert "/sso/psc/callback" in final and sso_flow.login_token(final) is None
    assert heading == "Aucun compte Confrère pour cette identité"
    assert href == "/psc/signup"


async def test_revoked_account_is_refused_with_its_reason(stack):
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "pscrevoked", national_id)
    await stack.service.verification.revoke(user_id, stack.settings.admin_user_id,
                                            "inscription à l'Ordre suspendue")
    walk = sso_flow.HttpWalk(stack)
    try:
        status, location, body = await walk.login(national_id)
    finally:
        await walk.close()
    assert status == 403 and not location
    assert "Compte révoqué" in body and "inscription à l'Ordre suspendue" in body


async def test_login_after_a_service_restart_new_signing_key(stack):
    """The provider's key lives in memory: after a restart Synapse must pick up the new one."""
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "pscrestart", national_id)
    walk = sso_flow.HttpWalk(stack)
    try:
        status, location, body = await walk.login(national_id)  # Synapse caches this key
        assert sso_flow.token_in(location, body)
        await stack.restart_service()
        status, location, body = await walk.login(national_id)
    finally:
        await walk.close()
    token = plant(sso_flow.token_in(location, body) or "")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.settings.synapse.url}/_matrix/client/v3/login",
                             json={"type": "m.login.token", "token": token}) as response:
            assert response.status == 200 and (await response.json())["user_id"] == user_id


async def test_trusted_client_gets_the_token_straight_away(tmp_path):
    """A client address in `auth.trusted_clients` (another origin, like a hosted Element) gets
    the token by redirect, right after the form the service posts to Synapse. Its own stack:
    the shared one trusts no client."""
    playwright_api = pytest.importorskip("playwright.async_api")
    env = {**stack_environment(), "CONFRERE_AUTH__TRUSTED_CLIENTS": sso_flow.CLIENT_URL}
    own = await Stack.start(tmp_path, env)
    try:
        national_id = sso_flow.new_national_id()
        user_id = await sso_flow.sso_account(own, "psctrusted", national_id)
        async with playwright_api.async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                page = await browser.new_page()
                await sso_flow.walk(page, own, national_id, confirm=False)
                await page.wait_for_url(sso_flow.CLIENT_URL + "**")
                token = plant(sso_flow.login_token(page.url) or "")
            finally:
                await browser.close()
        client = await sso_flow.token_client(own, user_id, token)
        assert client.client.user_id == user_id
    finally:
        await own.stop()
