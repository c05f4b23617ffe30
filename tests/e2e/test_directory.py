"""The directory where practitioners and integrators use it: the bot in an encrypted DM,
the integrator API with its tokens, and Matrix's third-party look-up through Synapse."""

from __future__ import annotations

import aiohttp
import pytest

from bridge.integrator_api.tokens import create_token, revoke_token

pytestmark = pytest.mark.e2e

PROTOCOL = "fr.confrere.annuaire"


async def test_search_from_the_bot(stack):
    alice = await stack.practitioner("alice", verified=True)
    dm = await alice.open_dm(stack.bot_id)
    answer = await alice.ask(dm, stack.bot_id, "!annuaire karimo")
    assert answer.decrypted
    first = answer.body.splitlines()[1]
    assert first.startswith("1. ") and "KARIMO" in first and "Pneumologie" in first
    assert "(+2 autre(s) lieu(x))" in first, "one person with three sites is listed once"
    assert "pas encore sur Confrère" in first
    typo = await alice.ask(dm, stack.bot_id, "!search abdelak")
    assert "Abdelhak" in typo.body
    specialty = await alice.ask(dm, stack.bot_id, "!annuaire cardiologue ajaccio")
    assert "FAURE" in specialty.body.splitlines()[1]
    nothing = await alice.ask(dm, stack.bot_id, "!annuaire zzzqqq ☃ \"' OR 1=1")
    assert "Aucun praticien" in nothing.body
    last = await alice.ask(dm, stack.bot_id, "!suite")
    assert "Aucune" in last.body or "dernière page" in last.body


async def test_favourites_from_the_bot(stack):
    bob = await stack.practitioner("bob", verified=True)
    dm = await bob.open_dm(stack.bot_id)
    await bob.ask(dm, stack.bot_id, "!annuaire karimo")
    added = await bob.ask(dm, stack.bot_id, "!favori 1")
    assert "Ajouté" in added.body
    again = await bob.ask(dm, stack.bot_id, "!favori 1")
    assert "Déjà" in again.body
    listing = await bob.ask(dm, stack.bot_id, "!favoris")
    assert "KARIMO" in listing.body
    bad = await bob.ask(dm, stack.bot_id, "!favori 42")
    assert "Numéro inconnu" in bad.body
    removed = await bob.ask(dm, stack.bot_id, "!favori -1")
    assert "Retiré" in removed.body
    empty = await bob.ask(dm, stack.bot_id, "!favoris")
    assert "pas encore de favoris" in empty.body


async def test_verified_colleague_is_shown_on_confrere(stack):
    await stack.free_national_id("810000575141")
    faure = await stack.practitioner("faure", verified=True)
    async with stack.service.database.session() as session, session.begin():
        from sqlalchemy import update

        from bridge.accounts.models import Account
        await session.execute(update(Account).where(Account.user_id == faure.user_id)
                              .values(national_id="810000575141"))
    carol = await stack.practitioner("carol", verified=True)
    dm = await carol.open_dm(stack.bot_id)
    answer = await carol.ask(dm, stack.bot_id, "!annuaire faure")
    assert "✓ sur Confrère" in answer.body.splitlines()[1]

    # an unverified account searches the same open directory, but is not told who is here
    newcomer = await stack.practitioner("newcomer", verified=False)
    onboarding = await stack.onboarding_dm(newcomer)
    answer = await newcomer.ask(onboarding, stack.bot_id, "!annuaire faure")
    assert "FAURE" in answer.body.splitlines()[1]
    assert "sur Confrère" not in answer.body.splitlines()[1]
    assert faure.user_id not in answer.body and "@" not in answer.body
    assert "une fois votre identité vérifiée" in answer.body


async def _api(stack, path: str, token: str | None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{stack.settings.service.url}/api/v1{path}",
                            headers=headers) as response:
            return response.status, await response.json()


async def test_integrator_api_with_and_without_token(stack):
    status, body = await _api(stack, "/directory/search?q=karimo", None)
    assert status == 401 and body["error"]["code"] == "unauthorized"
    status, body = await _api(stack, "/directory/search?q=karimo", "cfr_forged")
    assert status == 403
    token = await create_token(stack.service.database, "logiciel-test")
    status, body = await _api(stack, "/directory/search?q=karimo", token)
    assert status == 200 and body["results"][0]["last_name"] == "KARIMO"
    assert len(body["results"][0]["sites"]) == 3 and body["results"][0]["confrere_user_id"] is None
    status, body = await _api(stack, "/directory/search?q=m%C3%A9decin&city=13&page_size=5", token)
    assert status == 200 and all(
        any(site["department_code"] == "13" or site["postal_code"].startswith("13")
            for site in person["sites"]) for person in body["results"])
    status, body = await _api(stack, "/directory/search?q=x&page=0", token)
    assert status == 400
    status, body = await _api(stack, "/directory/practitioners/810000575141", token)
    assert status == 200 and body["last_name"] == "FAURE"
    status, body = await _api(stack, "/directory/practitioners/819999999999", token)
    assert status == 404
    status, spec = await _api(stack, "/openapi.json", None)
    assert status == 200 and "/directory/search" in spec["paths"]
    await revoke_token(stack.service.database, "logiciel-test")
    status, _ = await _api(stack, "/directory/search?q=karimo", token)
    assert status == 403, "a revoked token is refused"


async def test_third_party_lookup_through_synapse(stack):
    dave = await stack.practitioner("dave", verified=True)
    headers = {"Authorization": f"Bearer {dave.client.access_token}"}
    base = f"{stack.settings.synapse.url}/_matrix/client/v3/thirdparty"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/protocols", headers=headers) as response:
            protocols = await response.json()
        async with http.get(f"{base}/user/{PROTOCOL}", params={"search": "karimo"},
                            headers=headers) as response:
            users = await response.json()
    assert PROTOCOL in protocols
    prefix = stack.settings.appservice.ghost_prefix
    assert users and users[0]["userid"] == f"@{prefix}810000495951:{stack.settings.server_name}"
    assert users[0]["fields"]["national_id"] == "810000495951"
    assert "on_confrere" not in users[0]["fields"], "Synapse does not say who asks: never said"
