"""Adversarial cases on the service's HTTP surfaces: the appservice and internal APIs (secrets
only in the Authorization header, compared in constant time), the integrator API, the signup
forms (CSRF, brute force, enumeration), one-time links, PSC states and Onfido webhooks."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bridge.appservice.server import AppserviceAPI
from bridge.appservice.thirdparty import ThirdPartyAPI
from bridge.appservice.transactions import EventProcessor, TransactionStore
from bridge.identity.onfido import sign
from bridge.integrator_api.tokens import create_token, revoke_token
from bridge.web.internal import InternalAPI
from tests.e2e import psc_flow
from tests.e2e.test_documents import onfido  # noqa: F401 - fixture
from tests.security.canaries import plant
from tests.security.identity_flows import mailed_code
from tests.signup.client import SignupClient, unique_email, valid_form

HS_TOKEN = plant("hs-token-" + "x" * 32)
MODULE_SECRET = plant("module-secret-" + "y" * 32)
APPSERVICE_PATHS = [
    ("PUT", "/_matrix/app/v1/transactions/t1"), ("GET", "/_matrix/app/v1/users/@g:localhost"),
    ("GET", "/_matrix/app/v1/rooms/%23a:localhost"), ("POST", "/_matrix/app/v1/ping"),
    ("GET", "/_matrix/app/v1/thirdparty/protocol/fr.confrere.annuaire"),
    ("GET", "/_matrix/app/v1/thirdparty/user/fr.confrere.annuaire"),
    ("GET", "/_matrix/app/v1/thirdparty/user"),
    ("GET", "/_matrix/app/v1/thirdparty/location"),
]


async def serve(*route_lists) -> TestClient:
    app = web.Application()
    for routes in route_lists:
        app.add_routes(routes)
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def appservice(database):
    async def nobody(user_id: str) -> bool:
        return False

    client = await serve(
        AppserviceAPI(HS_TOKEN, TransactionStore(database), EventProcessor(database),
                      nobody).routes(),
        ThirdPartyAPI(HS_TOKEN, database, None, "annuaire_", "localhost").routes())
    yield client
    await client.close()


@pytest.mark.rule("hs_token_header_only")
@pytest.mark.parametrize("method,path", APPSERVICE_PATHS)
async def test_appservice_refuses_its_token_in_the_query_string(appservice, method, path):
    """Before: `?access_token=<hs_token>` was accepted (URLs reach proxies' logs)."""
    separator = "&" if "?" in path else "?"
    response = await appservice.request(method, f"{path}{separator}access_token={HS_TOKEN}",
                                        json={"events": []})
    assert response.status == 401
    assert (await response.json())["errcode"] == "M_UNAUTHORIZED"
    both = await appservice.request(method, f"{path}{separator}access_token={HS_TOKEN}",
                                    json={"events": []},
                                    headers={"Authorization": f"Bearer {HS_TOKEN}"})
    assert both.status == 401, "a token leaked into a URL is refused even with the header"


@pytest.mark.rule("hs_token_header_only")
@pytest.mark.parametrize("method,path", APPSERVICE_PATHS)
@pytest.mark.parametrize("headers,status", [
    ({}, 401), ({"Authorization": "Bearer "}, 401), ({"Authorization": HS_TOKEN}, 401),
    ({"Authorization": f"Token {HS_TOKEN}"}, 401), ({"Authorization": "Bearer wrong"}, 403),
    ({"Authorization": f"Bearer {HS_TOKEN[:-1]}"}, 403),
])
async def test_appservice_refuses_missing_or_wrong_tokens(appservice, method, path, headers,
                                                         status):
    response = await appservice.request(method, path, json={"events": []}, headers=headers)
    assert response.status == status


@pytest.fixture
async def internal():
    async def state(user_id: str) -> dict:
        return {"user_id": user_id, "verification": "verified", "onboarding_rooms": []}

    client = await serve(InternalAPI(MODULE_SECRET, state).routes())
    yield client
    await client.close()


@pytest.mark.rule("module_secret")
@pytest.mark.parametrize("headers,query", [
    ({}, ""), ({"Authorization": "Bearer wrong"}, ""), ({"Authorization": MODULE_SECRET}, ""),
    ({}, f"?access_token={MODULE_SECRET}"), ({"X-Secret": MODULE_SECRET}, ""),
    ({"Authorization": f"Bearer {MODULE_SECRET}x"}, ""),
])
async def test_internal_api_without_the_right_secret_says_nothing(internal, headers, query):
    response = await internal.get(f"/_confrere/internal/v1/users/@a:localhost{query}",
                                  headers=headers)
    assert response.status == 403
    assert "verification" not in await response.text()


@pytest.mark.rule("module_secret")
async def test_internal_api_answers_with_the_secret(internal):
    response = await internal.get("/_confrere/internal/v1/users/@a:localhost",
                                  headers={"Authorization": f"Bearer {MODULE_SECRET}"})
    assert response.status == 200 and (await response.json())["verification"] == "verified"


# -- on the running stack -----------------------------------------------------------------

async def api(stack, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.settings.service.url}/api/v1/directory/search?q=faure",
                            headers=headers) as response:
            return response.status


@pytest.mark.e2e
@pytest.mark.rule("integrator_token")
async def test_integrator_api_refuses_forged_revoked_and_misplaced_tokens(stack):
    token = plant(await create_token(stack.service.database, "sec-integrator"))
    assert await api(stack, token) == 200
    for forged in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", "cfr_x",
                   "", token.upper()):
        assert await api(stack, forged) in (401, 403), forged
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.settings.service.url}/api/v1/directory/search",
                            params={"q": "faure", "access_token": token}) as response:
            assert response.status == 401, "a token in the URL is not a credential"
    await revoke_token(stack.service.database, "sec-integrator")
    assert await api(stack, token) == 403


@pytest.fixture
async def browser(stack):
    made: list[SignupClient] = []

    def make() -> SignupClient:
        made.append(SignupClient(stack.settings.service.url))
        return made[-1]

    yield make
    for client in made:
        await client.close()


@pytest.mark.e2e
@pytest.mark.rule("csrf")
async def test_signup_form_without_a_genuine_fresh_token_changes_nothing(stack, browser):
    client, other = browser(), browser()
    email = unique_email("csrf")
    await client.get("/signup")
    genuine = client.last.token("/signup")
    await other.get("/signup")
    foreign = other.last.token("/signup")
    code_form = client.last.token("/signup")  # right browser, wrong form below
    for token in ("", "A" * 75, foreign):
        page = await client.post("/signup", valid_form(email=email), token=token)
        assert page.status == 403, token
    assert stack.service.mail.catcher.to(email) == []
    assert (await client.post("/signup", valid_form(email=email), token=genuine)).status == 200
    replay = await client.post("/signup", valid_form(email=email), token=genuine)
    assert replay.status == 403
    wrong_form = await client.post("/signup/code", {"code": "123456"}, token=code_form)
    assert wrong_form.status == 403, "a token is bound to its form"


@pytest.mark.e2e
@pytest.mark.rule("code_attempts")
async def test_code_brute_force_burns_the_code(stack, browser):
    client = browser()
    email = unique_email("brute")
    await client.start(email=email)
    code = await mailed_code(stack, email)
    for guess in range(5):
        wrong = f"{(int(code) + 1 + guess) % 1_000_000:06d}"
        assert (await client.submit_code(wrong)).status == 400
    page = await client.submit_code(code)
    assert page.status == 400 and "n'est plus valable" in page.field_error("code")
    from tests.security.identity_flows import account_by_email
    assert await account_by_email(stack, email) is None


@pytest.mark.e2e
@pytest.mark.rule("no_enumeration")
async def test_signup_pages_do_not_tell_known_from_unknown_addresses(stack, browser):
    known_client = await stack.practitioner("known", verified=False)
    from tests.security.identity_flows import account_by_email  # noqa: F401

    account = await stack.service.verification.account(known_client.user_id)
    fresh = unique_email("fresh")
    known_page = await browser().start(email=account.email)
    fresh_page = await browser().start(email=fresh)
    assert known_page.status == fresh_page.status == 200
    strip = lambda page, email: page.text.replace(email, "X").split('name="csrf"')[0]  # noqa: E731
    assert strip(known_page, account.email) == strip(fresh_page, fresh)
    client = browser()
    await client.start(email=account.email)
    wrong = await client.submit_code("000000")
    other = browser()
    await other.start(email=unique_email("fresh"))
    wrong_fresh = await other.submit_code("000000")
    assert wrong.status == wrong_fresh.status == 400
    assert wrong.field_error("code") == wrong_fresh.field_error("code")


@pytest.mark.e2e
@pytest.mark.rule("one_time_link")
async def test_verification_link_and_psc_state_work_once(stack):
    client = await stack.practitioner("links", verified=False, first_name="Zoé",
                                      last_name="Aubert")
    dm = await stack.onboarding_dm(client)
    link = psc_flow.link_in((await client.ask(dm, stack.bot_id, "!verifier")).body)
    status, _, callback = await psc_flow.follow(link, "custom", {
        "national_id": "899700000012", "given_name": "Autre", "family_name": "Personne"})
    assert status == 403  # names differ: refused, and the link is spent
    status, _ = await psc_flow.get(link)
    assert status == 410, "a one-time link opens once"
    status, page = await psc_flow.get(callback)
    assert status == 400 and "Session inconnue" in page, "a PSC answer is accepted once"
    base = stack.settings.service.url
    for forged in ("", "state=x&code=y", "state=" + "A" * 43 + "&code=y"):
        status, _ = await psc_flow.get(f"{base}/verification/psc/callback?{forged}")
        assert status == 400


@pytest.mark.e2e
@pytest.mark.rule("onfido_webhook_signature")
async def test_onfido_webhook_forged_or_altered_is_refused(stack, onfido):  # noqa: F811
    url = stack.settings.service.url + "/webhooks/onfido"
    body = json.dumps({"payload": {"resource_type": "check", "action": "check.completed",
                                   "object": {"id": "chk-forged", "status": "complete"}}})
    raw = body.encode()
    altered = raw.replace(b"chk-forged", b"chk-other1")
    cases = [({}, raw), ({"X-SHA2-Signature": ""}, raw),
             ({"X-SHA2-Signature": sign(raw, "not-the-token")}, raw),
             ({"X-SHA2-Signature": sign(raw, onfido.webhook_token)}, altered),
             ({"X-SHA2-Signature": sign(raw, onfido.webhook_token).upper() + "0"}, raw)]
    async with aiohttp.ClientSession() as http:
        for headers, data in cases:
            async with http.post(url, data=data, headers=headers) as response:
                assert response.status == 401, headers
        async with http.post(url, data=raw, headers={
                "X-SHA2-Signature": sign(raw, onfido.webhook_token)}) as response:
            assert response.status == 404, "signed but about no check of ours: nothing acts"


class FakeProvider:
    """Stands for Pro Santé Connect's authorization endpoint (no network)."""

    async def authorization_url(self, state: str, nonce: str, challenge: str) -> str:
        return f"https://psc.invalid/auth?state={state}"


@pytest.mark.rule("psc_signup_rate_limit")
async def test_psc_signup_button_is_rate_limited_per_client_address(database):
    """Each press stores an OIDC session server-side: unlimited presses would fill the table."""
    from bridge.verification.service import VerificationService
    from bridge.web.psc import PscPages

    pages = PscPages(FakeProvider(), VerificationService(database), "web-secret-" + "z" * 30,
                     signups_per_ip_per_hour=3)
    client = await serve(pages.routes())
    try:
        statuses = []
        for _ in range(5):
            response = await client.get("/psc/signup", allow_redirects=False)
            statuses.append(response.status)
        assert statuses == [302, 302, 302, 429, 429]
        assert "Trop de connexions" in await response.text()
    finally:
        await client.close()
