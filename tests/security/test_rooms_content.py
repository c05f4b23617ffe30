"""Adversarial cases on what a room carries, against the real Synapse: redactions, messages
(only Megolm ciphertext), and what a non-member can read of a room — for an unverified, a
pending, a refused, a revoked and a verified account. Each case names its rule."""

from __future__ import annotations

import pytest

from tests.security.canaries import canary
from tests.security.room_actors import (
    STATES,
    cases,
    code,
    home,
    megolm_content,
    new_actor,
    rule,
    with_canary,
)

pytestmark = pytest.mark.e2e


# -- redactions --------------------------------------------------------------------------------

SECURITY_STATE = ["m.room.encryption", "m.room.join_rules", "m.room.history_visibility",
                  "m.room.power_levels", "m.room.create", "m.room.guest_access"]


@rule("redact_state")
@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("event_type", SECURITY_STATE)
async def test_security_state_cannot_be_redacted(stack, state, event_type):
    actor, room_id = await home(stack, state)
    status, event = await actor.call("GET", f"/rooms/{room_id}/state")
    target = next(e["event_id"] for e in event if e["type"] == event_type)
    status, body = await actor.call("PUT", f"/rooms/{room_id}/redact/{target}/r{target[1:9]}",
                                    {})
    assert status == 403 and code(body) == "redact_state", body
    _, after = await actor.call("GET", f"/rooms/{room_id}/state/{event_type}/")
    assert after  # still there, not emptied


@rule("reason_in_clear")
@pytest.mark.parametrize("state", STATES)
async def test_messages_can_be_redacted_but_without_a_reason_in_clear(stack, state):
    actor, room_id = await home(stack, state)
    status, sent = await actor.send(room_id, "m.room.encrypted", megolm_content())
    assert status == 200, sent
    event_id = sent["event_id"]
    status, body = await actor.call("PUT", f"/rooms/{room_id}/redact/{event_id}/a{event_id[1:9]}",
                                    {"reason": canary("patient")})
    assert status == 403 and code(body) == "reason_in_clear", body
    status, body = await actor.call("PUT", f"/rooms/{room_id}/redact/{event_id}/b{event_id[1:9]}",
                                    {})
    assert status == 200, body


# -- messages ---------------------------------------------------------------------------------

REFUSED_MESSAGES = [
    ("unencrypted_message", "m.room.message", {"msgtype": "m.text", "body": "PATIENT"}),
    ("unencrypted_message", "m.sticker", {"body": "PATIENT", "url": "mxc://localhost/s",
                                          "info": {}}),
    ("unencrypted_message", "m.reaction", {"body": "PATIENT", "m.relates_to": {
        "rel_type": "m.annotation", "event_id": "$x", "key": "👍"}}),
    ("unencrypted_message", "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": "$x", "key": "PATIENT" * 6}}),
    ("unencrypted_message", "m.poll.start", {"m.poll": {"question": {"m.text": "PATIENT"}}}),
    ("unencrypted_message", "org.matrix.msc3381.poll.start", {
        "org.matrix.msc3381.poll.start": {"question": {"body": "PATIENT"}}}),
    ("unencrypted_message", "m.call.invite", {"call_id": "1", "version": 1, "lifetime": 60000,
                                              "offer": {"type": "offer", "sdp": "x"}}),
    ("unencrypted_message", "org.example.custom", {"patient": "PATIENT"}),
    ("not_megolm_ciphertext", "m.room.encrypted", megolm_content(body="PATIENT")),
    ("not_megolm_ciphertext", "m.room.encrypted", megolm_content(ciphertext="PATIENT")),
    ("unencrypted_message", "m.room.encrypted", {**megolm_content(), "algorithm": "plain"}),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("expected,event_type,content",
                         cases(REFUSED_MESSAGES, lambda r: r[1]))
async def test_only_megolm_ciphertext_is_sent(stack, state, expected, event_type, content):
    actor, room_id = await home(stack, state)
    content = with_canary(content, canary("patient"))
    status, body = await actor.send(room_id, event_type, content)
    assert status == 403 and code(body) == expected, body


@rule("megolm_only")
@pytest.mark.parametrize("relation", [None, {"rel_type": "m.annotation", "key": "👍"},
                                      {"rel_type": "m.replace"},
                                      {"m.in_reply_to": {}},
                                      {"rel_type": "m.thread", "is_falling_back": True,
                                       "m.in_reply_to": {}}])
async def test_encrypted_messages_reactions_edits_replies_threads_pass(stack, relation):
    actor, room_id = await home(stack, "verified")
    _, first = await actor.send(room_id, "m.room.encrypted", megolm_content())
    if relation is not None:
        relation = dict(relation)
        if "rel_type" in relation:
            relation["event_id"] = first["event_id"]
        if "m.in_reply_to" in relation:
            relation["m.in_reply_to"] = {"event_id": first["event_id"]}
    extra = {"m.relates_to": relation} if relation else {}
    status, body = await actor.send(room_id, "m.room.encrypted", megolm_content(**extra))
    assert status == 200, body


@rule("clear_reaction_shape")
@pytest.mark.parametrize("state", ["verified"])
async def test_a_reaction_as_element_sends_it_passes(stack, state):
    """matrix-js-sdk sends reactions unencrypted; exactly that shape is accepted."""
    actor, room_id = await home(stack, state)
    _, first = await actor.send(room_id, "m.room.encrypted", megolm_content())
    status, body = await actor.send(room_id, "m.reaction", {"m.relates_to": {
        "rel_type": "m.annotation", "event_id": first["event_id"], "key": "👍"}})
    assert status == 200, body


# -- reading a room from outside ---------------------------------------------------------------

@rule("history_world_readable")
@pytest.mark.parametrize("state", STATES)
async def test_a_non_member_reads_nothing_of_a_room(stack, state):
    owner = await new_actor(stack, "verified", "private")
    name = canary("patient")
    _, created = await owner.create_room(name=name, topic=name)
    room_id = created["room_id"]
    status, body = await owner.put_state(room_id, "m.room.history_visibility",
                                         {"history_visibility": "world_readable"})
    assert status == 403, body
    outsider = await new_actor(stack, state, "outsider")
    for method, path, prefix in [
        ("GET", f"/rooms/{room_id}/state", "/_matrix/client/v3"),
        ("GET", f"/rooms/{room_id}/state/m.room.name/", "/_matrix/client/v3"),
        ("GET", f"/rooms/{room_id}/members", "/_matrix/client/v3"),
        ("GET", f"/rooms/{room_id}/joined_members", "/_matrix/client/v3"),
        ("GET", f"/rooms/{room_id}/messages?dir=b", "/_matrix/client/v3"),
        ("GET", f"/rooms/{room_id}/initialSync", "/_matrix/client/v3"),
        ("GET", f"/room_summary/{room_id}", "/_matrix/client/v1"),
        ("GET", f"/im.nheko.summary/rooms/{room_id}/summary", "/_matrix/client/unstable"),
        ("GET", f"/rooms/{room_id}/hierarchy", "/_matrix/client/v1"),
        ("POST", "/publicRooms", "/_matrix/client/v3"),
    ]:
        status, body = await outsider.call(method, path, {} if method == "POST" else None,
                                           prefix=prefix)
        assert name not in str(body), (path, status)
        assert owner.user_id not in str(body), (path, status)
        if "publicRooms" not in path:
            assert status in (403, 404), (path, status, body)
