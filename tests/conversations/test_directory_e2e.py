"""Finding colleagues in any client: Synapse's user directory and profiles, through the real
Synapse and the access-rules module."""

from __future__ import annotations

import uuid

import pytest

from tests.conversations.helpers import code, raw, set_badge
from tests.e2e.harness import wait

pytestmark = pytest.mark.e2e


async def search(stack, client, term: str) -> set[str]:
    status, body = await raw(stack, client.client.access_token, "POST", "/user_directory/search",
                             {"search_term": term, "limit": 50})
    assert status == 200, body
    return {hit["user_id"] for hit in body["results"]}


async def test_directory_finds_verified_colleagues_by_name_specialty_city(stack):
    city = f"Ville{uuid.uuid4().hex[:6]}"
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    carol = await stack.practitioner("carol", verified=False)
    await set_badge(stack, bob.user_id, f"Dr Bob MARTIN — Cardiologie, {city}")
    await set_badge(stack, carol.user_id, f"Carol DURAND — Cardiologie, {city}")

    async def found() -> bool:
        return bob.user_id in await search(stack, alice, city)

    assert await wait(found, 15), "bob never appeared in the directory"
    hits = await search(stack, alice, city)
    assert carol.user_id not in hits  # unverified accounts never appear
    assert bob.user_id in await search(stack, alice, f"cardiologie {city}")
    assert bob.user_id in await search(stack, alice, "martin")
    # ghosts are appservice users: Synapse's directory never indexes them (nor the bot)
    ghost = f"@{stack.settings.appservice.ghost_prefix}810000100007:{stack.settings.server_name}"
    assert ghost not in await search(stack, alice, "810000100007")


async def test_unverified_searcher_finds_no_one(stack):
    city = f"Ville{uuid.uuid4().hex[:6]}"
    bob = await stack.practitioner("bob", verified=True)
    dave = await stack.practitioner("dave", verified=False)
    await set_badge(stack, bob.user_id, f"Dr Bob MARTIN — Cardiologie, {city}")
    alice = await stack.practitioner("alice", verified=True)

    async def indexed() -> bool:
        return bob.user_id in await search(stack, alice, city)

    assert await wait(indexed, 15)
    assert await search(stack, dave, city) == set()
    assert await search(stack, dave, stack.settings.bot.localpart) == set()


async def test_profiles_between_verified_practitioners_without_shared_room(stack):
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    carol = await stack.practitioner("carol", verified=False)
    await set_badge(stack, bob.user_id, "Dr Bob MARTIN — Cardiologie, Lyon")
    status, body = await raw(stack, alice.client.access_token, "GET", f"/profile/{bob.user_id}")
    assert status == 200 and body.get("displayname") == "Dr Bob MARTIN — Cardiologie, Lyon"
    status, body = await raw(stack, alice.client.access_token, "GET",
                             f"/profile/{bob.user_id}/displayname")
    assert status == 200
    # an unverified account learns nothing about who is on Confrère
    status, body = await raw(stack, carol.client.access_token, "GET", f"/profile/{bob.user_id}")
    assert status == 403 and code(body) == "profile_hidden"
    # nor is an unverified account's profile shown to a verified one outside shared rooms
    status, body = await raw(stack, alice.client.access_token, "GET", f"/profile/{carol.user_id}")
    assert status == 403 and code(body) == "profile_hidden"
    # own profile, and the bot's, always
    status, _ = await raw(stack, carol.client.access_token, "GET", f"/profile/{carol.user_id}")
    assert status == 200
    status, _ = await raw(stack, alice.client.access_token, "GET", f"/profile/{stack.bot_id}")
    assert status == 200
