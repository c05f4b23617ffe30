"""Adversarial cases for "Se connecter avec Pro Santé Connect" (Matrix SSO through the service).

Each case walks the real chain (Synapse → service → PSC simulator → service → Synapse) hop by
hop over HTTP, so that it can forge, replay or cut a hop. The rule id names what it checks.
"""

from __future__ import annotations

import base64
import urllib.parse

import aiohttp
import pytest
import yaml

from bridge.config import ConfigError, load_settings, write_default_config
from bridge.homeserver import render_synapse_config
from bridge.sso import CLIENT_ID, TOKEN_PATH, client_secret, synapse_redirect_uri
from tests.e2e import sso_flow
from tests.e2e.sso_flow import HttpWalk, token_in
from tests.security.canaries import plant

e2e = pytest.mark.e2e


@pytest.fixture
async def walk(stack):
    walker = HttpWalk(stack)
    yield walker
    await walker.close()


@pytest.fixture
def simulator(stack):
    """The stack's PSC simulator, put back as it was after the test."""
    sim = stack.service.services.psc_simulator
    saved = (sim.tamper, sim.signing, sim.userinfo_as_jwt)
    yield sim
    sim.tamper, sim.signing, sim.userinfo_as_jwt = saved


async def _exchange(stack, token: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{stack.settings.synapse.url}/_matrix/client/v3/login",
                             json={"type": "m.login.token", "token": token}) as response:
            return response.status, await response.json()


async def _token_for(stack, walk, national_id: str) -> str:
    status, location, body = await walk.login(national_id)
    token = token_in(location, body)
    assert token, (status, body[:300])
    return plant(token)


def _basic(secret: str) -> str:
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


# -- PSC's answer is validated by the verification path's own code ---------------------------
@e2e
@pytest.mark.rule("sso.psc_id_token")
@pytest.mark.parametrize("tamper", ["bad_signature", "alg_none", "wrong_aud", "wrong_iss",
                                    "wrong_acr", "wrong_nonce", "expired"])
async def test_forged_or_foreign_psc_token_is_refused(stack, walk, simulator, tamper):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "psctamper", national_id)
    simulator.tamper = tamper
    status, location, body = await walk.login(national_id)
    assert status == 400 and not location
    assert "Connexion refusée" in body and token_in(location, body) is None


@e2e
@pytest.mark.rule("sso.psc_id_token")
async def test_hs256_id_token_and_userinfo_as_jwt_are_accepted(stack, walk, simulator):
    """PSC's other dialect (HS256 with the client secret, userinfo as a signed JWT) works."""
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "pschs", national_id)
    simulator.signing, simulator.userinfo_as_jwt = "HS256", True
    status, body = await _exchange(stack, await _token_for(stack, walk, national_id))
    assert status == 200 and body["user_id"] == user_id


# -- state, nonce, browser binding, codes ------------------------------------------------------
@e2e
@pytest.mark.rule("sso.state_single_use")
async def test_replayed_psc_callback_is_refused(stack, walk):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "pscreplay", national_id)
    callback = await walk.at_psc(await walk.to_psc(), national_id)
    first, fields, _ = await walk.answer(callback)
    assert first == 200 and fields
    walk.cookies["confrere_sso"] = "replayed"  # even with a cookie, the state is spent
    again, location, body = await walk.get(callback)
    assert again == 400 and not location and "Session inconnue" in body


@e2e
@pytest.mark.rule("sso.state_bound_to_browser")
async def test_callback_in_another_browser_is_refused(stack, walk):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "pscbind", national_id)
    callback = await walk.at_psc(await walk.to_psc(), national_id)
    other = HttpWalk(stack)  # the victim's browser, without the login's cookie
    try:
        status, location, body = await other.get(callback)
    finally:
        await other.close()
    assert status == 400 and not location and "Session inconnue" in body
    status, location, _ = await walk.get(callback)  # and the state is spent for everybody
    assert status == 400 and not location


@e2e
@pytest.mark.rule("sso.code_single_use")
async def test_replayed_code_gives_no_second_login(stack, walk):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "psccode", national_id)
    status, fields, _ = await walk.answer(await walk.at_psc(await walk.to_psc(), national_id))
    code = plant(fields["code"])
    saved = dict(walk.cookies)
    status, location, body = await walk.to_synapse(fields)
    assert plant(token_in(location, body) or "")
    walk.cookies = saved  # the same browser session, the same code, again
    status, location, body = await walk.to_synapse(fields)
    assert token_in(location, body) is None
    async with aiohttp.ClientSession() as http:  # and straight at the token endpoint
        async with http.post(stack.settings.service.internal + TOKEN_PATH, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": synapse_redirect_uri(stack.settings), "code_verifier": "x" * 43},
                headers={"Authorization": _basic(client_secret(stack.settings))}) as response:
            assert response.status == 400 and (await response.json())["error"] == "invalid_grant"


@e2e
@pytest.mark.rule("sso.op_client_and_pkce")
async def test_token_endpoint_wants_synapse_secret_and_pkce(stack, walk):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "pscpkce", national_id)
    status, fields, _ = await walk.answer(await walk.at_psc(await walk.to_psc(), national_id))
    code = fields["code"]
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": synapse_redirect_uri(stack.settings), "code_verifier": "y" * 43}
    url = stack.settings.service.internal + TOKEN_PATH
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=form, headers={"Authorization": _basic("guess")}) as r:
            assert r.status == 401 and (await r.json())["error"] == "invalid_client"
        async with http.post(url, data=form, headers={
                "Authorization": _basic(client_secret(stack.settings))}) as r:
            assert r.status == 400 and "id_token" not in await r.json()
    # The stolen code was spent by the wrong verifier: Synapse gets nothing from it either.
    status, location, body = await walk.to_synapse(fields)
    assert token_in(location, body) is None


@e2e
@pytest.mark.rule("sso.op_keys_public")
async def test_jwks_publishes_no_private_key(stack):
    async with aiohttp.ClientSession() as http:
        async with http.get(stack.settings.service.internal + "/sso/jwks") as response:
            keys = (await response.json())["keys"]
    assert keys and all(key["kty"] == "RSA" and not {"d", "p", "q"} & set(key) for key in keys)


# -- redirects ---------------------------------------------------------------------------------
@e2e
@pytest.mark.rule("sso.no_open_redirect")
@pytest.mark.parametrize("change", [
    {"redirect_uri": "https://evil.example/_synapse/client/oidc/callback"},
    {"client_id": "another"}, {"code_challenge_method": "plain"}, {"code_challenge": ""},
    {"response_type": "token"}, {"response_mode": "query"}])
async def test_authorization_request_not_from_synapse_is_refused(stack, walk, change):
    status, authorize, _ = await walk.get(sso_flow.redirect_url(stack))
    parsed = urllib.parse.urlparse(authorize)
    query = dict(urllib.parse.parse_qsl(parsed.query), **change)
    status, location, body = await walk.get(
        parsed._replace(query=urllib.parse.urlencode(query)).geturl())
    assert status == 400 and not location and "Demande de connexion invalide" in body


@e2e
@pytest.mark.rule("sso.no_open_redirect")
async def test_untrusted_redirect_url_gets_a_confirmation_page_not_the_token(stack):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "pscevil", national_id)
    walk = HttpWalk(stack)
    try:
        psc = await walk.to_psc("https://evil.example/steal")
        status, fields, _ = await walk.answer(await walk.at_psc(psc, national_id))
        status, location, body = await walk.to_synapse(fields)
    finally:
        await walk.close()
    assert status == 200 and not location  # no silent redirect carrying the token
    assert "Continue to your account" in body and "evil.example" in body


# -- which account -------------------------------------------------------------------------------
@e2e
@pytest.mark.rule("sso.unknown_national_id")
async def test_unknown_national_id_creates_nothing(stack, walk):
    from sqlalchemy import func, select

    from bridge.accounts.models import Account

    async with stack.service.database.session() as session:
        before = (await session.execute(select(func.count(Account.id)))).scalar_one()
    national_id = sso_flow.new_national_id()
    status, location, body = await walk.login(national_id, first="Inès", last="Inconnue")
    assert status == 404 and not location
    assert "S&#39;inscrire avec Pro Santé Connect" in body or \
        "S'inscrire avec Pro Santé Connect" in body
    async with stack.service.database.session() as session:
        after = (await session.execute(select(func.count(Account.id)))).scalar_one()
    assert after == before


@e2e
@pytest.mark.rule("sso.revoked_account")
async def test_revoked_account_is_refused_with_its_reason(stack, walk):
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "pscrev", national_id)
    await stack.service.verification.revoke(user_id, stack.settings.admin_user_id,
                                            "radiation du tableau")
    status, location, body = await walk.login(national_id)
    assert status == 403 and not location and "radiation du tableau" in body


@e2e
@pytest.mark.rule("sso.revoked_account")
async def test_revoked_between_psc_answer_and_synapse_is_refused(stack, walk):
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "pscrace", national_id)
    status, fields, _ = await walk.answer(await walk.at_psc(await walk.to_psc(), national_id))
    assert fields
    await stack.service.verification.revoke(user_id, stack.settings.admin_user_id, "test")
    status, location, body = await walk.to_synapse(fields)
    assert token_in(location, body) is None


@e2e
@pytest.mark.rule("sso.account_of_the_national_id")
async def test_account_linked_to_another_national_id_is_never_reached(stack, walk):
    mine, theirs = sso_flow.new_national_id(), sso_flow.new_national_id()
    alice = await sso_flow.sso_account(stack, "pscalice", mine, first="Alice", last="Durand")
    # Same names as Alice, another national identifier: not Alice's account.
    status, location, body = await walk.login(theirs, first="Alice", last="Durand")
    assert status == 404 and token_in(location, body) is None
    other = HttpWalk(stack)
    try:
        status, answer = await _exchange(stack, await _token_for(stack, other, mine))
    finally:
        await other.close()
    assert status == 200 and answer["user_id"] == alice


@e2e
@pytest.mark.rule("sso.verified_only")
@pytest.mark.parametrize("state", ["pending", "refused", "unverified"])
async def test_account_not_verified_is_refused(stack, walk, state):
    national_id = sso_flow.new_national_id()
    await sso_flow.sso_account(stack, "pscunv", national_id, state=state)
    status, location, body = await walk.login(national_id)
    assert status == 404 and token_in(location, body) is None


@e2e
@pytest.mark.rule("national_id_one_account")
async def test_one_identifier_never_logs_into_two_accounts(stack, walk):
    """A second account on the same national id cannot exist (unique index), so a PSC login
    can only ever open the one account linked to it."""
    from sqlalchemy.exc import IntegrityError

    national_id = sso_flow.new_national_id()
    first = await sso_flow.sso_account(stack, "pscdup", national_id)
    with pytest.raises(IntegrityError):
        await sso_flow.sso_account(stack, "pscdup", national_id)
    status, answer = await _exchange(stack, await _token_for(stack, walk, national_id))
    assert status == 200 and answer["user_id"] == first
    plant(answer["access_token"])


# -- Synapse's login token -----------------------------------------------------------------------
@e2e
@pytest.mark.rule("sso.login_token_single_use")
async def test_login_token_works_once(stack, walk):
    national_id = sso_flow.new_national_id()
    user_id = await sso_flow.sso_account(stack, "psconce", national_id)
    token = await _token_for(stack, walk, national_id)
    status, answer = await _exchange(stack, token)
    assert status == 200 and answer["user_id"] == user_id
    plant(answer["access_token"])
    status, answer = await _exchange(stack, token)
    assert status == 403 and answer["errcode"] == "M_FORBIDDEN"


# -- configuration ---------------------------------------------------------------------------------
def _rendered(tmp_path, env: dict) -> dict:
    write_default_config(tmp_path)
    return yaml.safe_load(render_synapse_config(load_settings(tmp_path, env)).read_text())


@pytest.mark.rule("sso.password_login_off")
def test_password_login_can_be_turned_off(tmp_path):
    config = _rendered(tmp_path, {"CONFRERE_AUTH__PASSWORD_LOGIN": "false"})
    assert config["password_config"]["enabled"] is False
    provider = config["oidc_providers"][0]
    assert provider["enable_registration"] is False and provider["pkce_method"] == "always"


@pytest.mark.rule("sso.password_login_off")
def test_psc_login_off_and_refusing_both(tmp_path):
    config = _rendered(tmp_path, {"CONFRERE_AUTH__PSC_LOGIN": "false"})
    assert "oidc_providers" not in config and config["password_config"]["enabled"] is True
    with pytest.raises(ConfigError):
        load_settings(tmp_path, {"CONFRERE_AUTH__PSC_LOGIN": "false",
                                 "CONFRERE_AUTH__PASSWORD_LOGIN": "false"})


@pytest.mark.rule("sso.no_open_redirect")
@pytest.mark.parametrize("client", ["https://element.example.org", "element.example.org/",
                                    "javascript://x/", "https:///path"])
def test_trusted_client_must_be_a_full_prefix(tmp_path, client):
    write_default_config(tmp_path)
    with pytest.raises(ConfigError):
        load_settings(tmp_path, {"CONFRERE_AUTH__TRUSTED_CLIENTS": client})
    load_settings(tmp_path, {"CONFRERE_AUTH__TRUSTED_CLIENTS": "https://element.example.org/"})


@e2e
@pytest.mark.rule("sso.start_rate_limit")
async def test_login_starts_are_bounded_per_address(stack, walk):
    """Each start stores a session; one address cannot fill the database with them."""
    from aiohttp import web

    from bridge.sso import AUTHORIZE_PATH, CALLBACK_PATH
    from bridge.sso.pages import SsoPages
    from bridge.sso.provider import Provider, SynapseClient
    from bridge.web.ratelimit import RateLimiter

    settings = stack.settings
    client = SynapseClient(CLIENT_ID, client_secret(settings), synapse_redirect_uri(settings))
    provider = Provider(stack.service.database, client, "http://issuer.test/sso",
                        lambda user_id: True)
    limiter = RateLimiter(sso_flow.new_national_id())  # its own buckets, not the stack's
    pages = SsoPages(stack.service.services.psc, provider, stack.service.verification, False,
                     limiter, 2)
    app = web.Application()
    app.add_routes(pages.routes(AUTHORIZE_PATH, CALLBACK_PATH))
    runner = web.AppRunner(app)
    await runner.setup()
    port = sso_flow.free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        status, authorize, _ = await walk.get(sso_flow.redirect_url(stack))
        query = urllib.parse.urlparse(authorize).query
        answers = [await walk.get(f"http://127.0.0.1:{port}{AUTHORIZE_PATH}?{query}")
                   for _ in range(3)]
    finally:
        await runner.cleanup()
    assert [a[0] for a in answers] == [302, 302, 429]
    assert "Trop de connexions" in answers[2][2] and not answers[2][1]


@e2e
@pytest.mark.rule("sso.password_login_off")
async def test_psc_only_server_refuses_passwords_and_shows_the_logo(tmp_path):
    """A real Synapse rendered with `auth.password_login: false` and a recorded logo."""
    from bridge.matrix.synapse_admin import register_with_shared_secret
    from bridge.sso import LOGO_FILE
    from bridge.supervisor import SynapseProcess
    from tests.e2e.harness import stack_environment

    env = {**stack_environment(), "CONFRERE_AUTH__PASSWORD_LOGIN": "false"}
    write_default_config(tmp_path)
    settings = load_settings(tmp_path, env)
    settings.synapse_dir.mkdir(parents=True, exist_ok=True)
    (settings.synapse_dir / LOGO_FILE).write_text("mxc://localhost/psclogo\n")
    synapse = SynapseProcess(render_synapse_config(settings), settings.synapse.url,
                             settings.logs_dir / "synapse.stdout.log")
    await synapse.start()
    try:
        base = settings.synapse.url
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/_matrix/client/v3/login") as response:
                flows = {flow["type"]: flow for flow in (await response.json())["flows"]}
            password = plant("Mot-de-passe-Xy9-" + sso_flow.new_national_id())
            user = await register_with_shared_secret(
                http, base, settings.secrets.registration_shared_secret, "seulpsc", password)
            async with http.post(f"{base}/_matrix/client/v3/login", json={
                    "type": "m.login.password", "password": password,
                    "identifier": {"type": "m.id.user", "user": user["user_id"]}}) as response:
                refused = response.status
    finally:
        await synapse.stop()
    assert "m.login.password" not in flows
    assert flows["m.login.sso"]["identity_providers"] == [{
        "id": "oidc-psc", "name": "Pro Santé Connect", "icon": "mxc://localhost/psclogo",
        "brand": "pro-sante-connect"}]
    assert refused in (400, 403)
