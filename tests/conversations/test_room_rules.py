"""Unit tests of the new pure predicates: case state, space links, retention, directory and
profile visibility."""

from __future__ import annotations

import pytest

from bridge.synapse_module import events, rules
from bridge.synapse_module.rules import Parties, UserState

CASE = "fr.confrere.case"
DAY = 24 * 3600 * 1000
BOUNDS = (DAY, 730 * DAY)
PARTIES = Parties("@confrere:localhost", "@confrere_", BOUNDS)


def state(user: str, verification: str) -> UserState:
    return UserState(user, verification)


@pytest.mark.parametrize("room_type", [events.CASE_ROOM, events.TELEEXPERTISE_ROOM])
def test_case_id_only_in_case_rooms(room_type):
    assert events.state_refusal(CASE, "", {"case_id": "C-7K3M9QXA"}, room_type=room_type) is None
    assert events.state_refusal(CASE, "", {"case_id": "C-7K3M9QXA"}, bot=True,
                                room_type=room_type) is None


@pytest.mark.parametrize("key,content,room_type", [
    ("", {"case_id": "C-7K3M9QXA"}, None),
    ("", {"case_id": "C-7K3M9QXA"}, "m.space"),
    ("x", {"case_id": "C-7K3M9QXA"}, events.CASE_ROOM),
    ("", {"case_id": "C-7K3M9QXA", "patient": "Dupont"}, events.CASE_ROOM),
    ("", {"case_id": "Jean Dupont 12/03/1960"}, events.CASE_ROOM),
    ("", {"case_id": 12}, events.CASE_ROOM),
    ("", {}, events.CASE_ROOM),
])
def test_case_state_refused_otherwise(key, content, room_type):
    for bot in (False, True):
        refusal = events.state_refusal(CASE, key, content, room_type=room_type, bot=bot)
        assert refusal is not None and refusal.code == "case_state_refused"


def test_case_state_in_creation_request():
    request = {"creation_content": {"type": events.CASE_ROOM},
               "initial_state": [{"type": CASE, "state_key": "",
                                  "content": {"case_id": "C-ABCDEF12"}}]}
    assert events.creation_request_refusal(request) is None
    request["initial_state"][0]["content"]["nom"] = "Dupont"
    assert events.creation_request_refusal(request).code == "case_state_refused"
    request["creation_content"] = {}
    request["initial_state"][0]["content"] = {"case_id": "C-ABCDEF12"}
    assert events.creation_request_refusal(request).code == "case_state_refused"


@pytest.mark.parametrize("content,ok", [
    ({"max_lifetime": 365 * DAY}, True),
    ({"max_lifetime": 365 * DAY, "min_lifetime": DAY}, True),
    ({"max_lifetime": 1000}, False),
    ({"max_lifetime": 3650 * DAY}, False),
    ({"max_lifetime": "365d"}, False),
    ({"max_lifetime": 365 * DAY, "note": "x"}, False),
    ({"min_lifetime": 400 * DAY, "max_lifetime": 365 * DAY}, False),
    ({}, False),
])
def test_retention_within_bounds(content, ok):
    refusal = events.state_refusal("m.room.retention", "", content, retention=BOUNDS)
    assert (refusal is None) is ok
    assert events.state_refusal("m.room.retention", "", content).code == "state_type_refused"


@pytest.mark.parametrize("key,content,ok", [
    ("!room:localhost", {"via": ["localhost"]}, True),
    ("!room:localhost", {"via": ["localhost"], "suggested": True, "order": "a1"}, True),
    ("!room:localhost", {}, True),
    ("", {"via": ["localhost"]}, False),
    ("!room:localhost", {"via": ["localhost"], "name": "Jean Dupont"}, False),
    ("!room:localhost", {"via": "localhost"}, False),
    ("!room:localhost", {"via": ["localhost"], "order": "é" * 3}, False),
    ("!room:localhost", {"via": ["localhost"], "order": "x" * 51}, False),
    ("!room:localhost", {"suggested": "yes"}, False),
])
def test_space_links(key, content, ok):
    for event_type in ("m.space.child", "m.space.parent"):
        refusal = events.state_refusal(event_type, key, content)
        assert (refusal is None) is ok, (event_type, key, content)


def test_directory_shows_verified_to_verified_only():
    verified, unverified = state("@a:l", "verified"), state("@b:l", "unverified")
    colleague = state("@c:l", "verified")
    assert rules.may_find_in_directory(verified, "@c:l", colleague, PARTIES)
    assert rules.may_find_in_directory(verified, "@confrere:localhost", None, PARTIES)
    assert not rules.may_find_in_directory(unverified, "@c:l", colleague, PARTIES)
    assert not rules.may_find_in_directory(None, "@c:l", colleague, PARTIES)
    assert not rules.may_find_in_directory(verified, "@b:l", unverified, PARTIES)
    assert not rules.may_find_in_directory(verified, "@c:l", None, PARTIES)
    ghost = state("@confrere_810000000001:localhost", "ghost")
    assert not rules.may_find_in_directory(verified, ghost.user_id, ghost, PARTIES)


def test_profiles_verified_to_verified():
    verified, unverified = state("@a:l", "verified"), state("@b:l", "pending")
    assert rules.may_see_profile(verified, "@c:l", state("@c:l", "verified"), PARTIES) is None
    assert rules.may_see_profile(verified, "@b:l", unverified, PARTIES).code == "profile_hidden"
    assert rules.may_see_profile(unverified, "@a:l", verified, PARTIES).code == "profile_hidden"
    assert rules.may_see_profile(None, "@a:l", verified, PARTIES).code == "service_unreachable"
    ghost = "@confrere_810000000001:localhost"
    assert rules.may_see_profile(verified, ghost, state(ghost, "ghost"), PARTIES) is None
    assert rules.may_see_profile(verified, ghost, state(ghost, "unknown"), PARTIES) is not None
