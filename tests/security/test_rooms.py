"""Adversarial cases on rooms, against the real Synapse and its access-rules module: every field
of a room creation, every state event type, redactions, knocks, messages, aliases and
publication, reading a room from outside — for an unverified, a pending, a refused, a revoked
and a verified account. Each case names the rule (refusal code) it checks."""

from __future__ import annotations

import pytest
from tests.security.canaries import canary
from tests.security.room_actors import (
    MEGOLM,
    NOT_VERIFIED,
    STATES,
    Actor,
    bot_conversation,
    cases,
    code,
    home,
    megolm_content,
    new_actor,
    rule,
    set_state,
    with_canary,
)

pytestmark = pytest.mark.e2e


async def _creation(stack, actor, **request):
    """A creation request as the actor may otherwise make it: unverified ones only with the
    bot, so what is refused is the field under test."""
    if actor.state != "verified":
        request.setdefault("invite", [stack.bot_id])
        request.setdefault("is_direct", True)
    return await actor.create_room(**request)


# -- createRoom: every field through the same rules --------------------------------------

CREATION_FIELDS = [
    ("third_party_invite", {"invite_3pid": [{"medium": "email", "address": "x@example.org",
                                             "id_server": "localhost", "id_access_token": "x"}]}),
    ("join_rule_not_invite", {"preset": "public_chat"}),
    ("publication_disabled", {"visibility": "public"}),
    ("aliases_disabled", {"room_alias_name": "cardiologie"}),
    ("room_type_refused", {"creation_content": {"type": "org.example.leak"}}),
    ("power_escalation", {"power_level_content_override": {"users_default": 100}}),
    ("power_escalation", {"power_level_content_override": {"events": {"m.room.encryption": 0}}}),
    ("join_rule_not_invite", {"initial_state": [{"type": "m.room.join_rules", "state_key": "",
                                                 "content": {"join_rule": "public"}}]}),
    ("join_rule_not_invite", {"initial_state": [{"type": "m.room.join_rules", "state_key": "",
                                                 "content": {"join_rule": "knock"}}]}),
    ("history_world_readable", {"initial_state": [{
        "type": "m.room.history_visibility", "state_key": "",
        "content": {"history_visibility": "world_readable"}}]}),
    ("guest_access", {"initial_state": [{"type": "m.room.guest_access", "state_key": "",
                                         "content": {"guest_access": "can_join"}}]}),
    ("megolm_rotation_out_of_bounds", {"initial_state": [{
        "type": "m.room.encryption", "state_key": "",
        "content": {"algorithm": MEGOLM, "rotation_period_msgs": 10000}}]}),
    ("unencrypted_room", {"initial_state": [{"type": "m.room.encryption", "state_key": "",
                                             "content": {"algorithm": "none"}}]}),
    ("state_type_refused", {"initial_state": [{"type": "org.example.patient", "state_key": "",
                                               "content": {"name": "PATIENT"}}]}),
    ("room_avatar_refused", {"initial_state": [{"type": "m.room.avatar", "state_key": "",
                                                "content": {"url": "mxc://localhost/x"}}]}),
    ("aliases_disabled", {"initial_state": [{"type": "m.room.canonical_alias", "state_key": "",
                                             "content": {"alias": "#x:localhost"}}]}),
]


@pytest.mark.parametrize("state", ["unverified", "verified"])
@pytest.mark.parametrize("expected,request_", cases(CREATION_FIELDS, lambda r: r[0]))
async def test_creation_fields_go_through_the_rules(stack, state, expected, request_):
    actor = await new_actor(stack, state, "create")
    request_ = with_canary(request_, canary("patient"))
    status, body = await _creation(stack, actor, **request_)
    assert status == 403, body
    assert code(body) == expected


@rule("member_in_initial_state")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_initial_state_invite_cannot_bring_a_verified_practitioner(stack, state):
    actor = await new_actor(stack, state, "smuggle")
    verified = await new_actor(stack, "verified", "target")
    status, body = await _creation(stack, actor, initial_state=[
        {"type": "m.room.member", "state_key": verified.user_id,
         "content": {"membership": "invite"}}])
    assert status == 403 and code(body) == "member_in_initial_state", body
    status, synced = await verified.call("GET", "/sync?timeout=0")
    assert status == 200 and not synced.get("rooms", {}).get("invite")


@rule("member_in_initial_state")
async def test_initial_state_invite_of_an_unverified_by_a_verified(stack):
    verified = await new_actor(stack, "verified", "smuggle")
    unverified = await new_actor(stack, "unverified", "target")
    status, body = await verified.create_room(initial_state=[
        {"type": "m.room.member", "state_key": unverified.user_id,
         "content": {"membership": "invite"}}])
    assert status == 403 and code(body) == "member_in_initial_state", body


@rule("member_in_initial_state")
@pytest.mark.parametrize("state", ["unverified", "verified"])
async def test_initial_state_join_cannot_give_a_per_room_name(stack, state):
    actor = await new_actor(stack, state, "badge")
    status, body = await _creation(stack, actor, initial_state=[
        {"type": "m.room.member", "state_key": actor.user_id,
         "content": {"membership": "join", "displayname": "Pr Imposteur — Cardiologie"}}])
    assert status == 403 and code(body) == "member_in_initial_state", body


@rule("federation_disabled")
async def test_rooms_never_federate_and_never_admit_guests(stack):
    actor = await new_actor(stack, "verified", "fed")
    status, body = await actor.create_room(name="Cas", creation_content={"m.federate": True})
    assert status == 200, body
    room_id = body["room_id"]
    _, create = await actor.call("GET", f"/rooms/{room_id}/state/m.room.create/")
    assert create.get("m.federate") is False
    _, guests = await actor.call("GET", f"/rooms/{room_id}/state/m.room.guest_access/")
    assert guests.get("guest_access") == "forbidden"
    _, encryption = await actor.call("GET", f"/rooms/{room_id}/state/m.room.encryption/")
    assert encryption.get("algorithm") == MEGOLM


@rule("remote_user")
async def test_inviting_a_remote_user_says_so(stack):
    actor, room_id = await home(stack, "verified")
    status, body = await actor.call("POST", f"/rooms/{room_id}/invite",
                                    {"user_id": "@x:other.example"})
    assert status == 403 and code(body) == "remote_user", body
    assert "serveur" in body["error"] and "server" in body["error"]


# -- state events in a room, for every actor ------------------------------------------------

REFUSED_STATE = [
    ("join_rule_not_invite", "m.room.join_rules", "", {"join_rule": "public"}),
    ("join_rule_not_invite", "m.room.join_rules", "", {"join_rule": "knock"}),
    ("join_rule_not_invite", "m.room.join_rules", "", {"join_rule": "restricted", "allow": [
        {"type": "m.room_membership", "room_id": "!x:localhost"}]}),
    ("history_world_readable", "m.room.history_visibility", "",
     {"history_visibility": "world_readable"}),
    ("guest_access", "m.room.guest_access", "", {"guest_access": "can_join"}),
    ("unencrypted_room", "m.room.encryption", "", {"algorithm": "none"}),
    ("megolm_rotation_out_of_bounds", "m.room.encryption", "",
     {"algorithm": MEGOLM, "rotation_period_ms": 30 * 24 * 3600 * 1000}),
    ("aliases_disabled", "m.room.canonical_alias", "", {"alias": "#cardio:localhost"}),
    ("room_avatar_refused", "m.room.avatar", "", {"url": "mxc://localhost/photo"}),
    ("state_type_refused", "org.example.notes", "", {"patient": "PATIENT"}),
    ("state_type_refused", "m.room.server_acl", "", {"allow": ["*"], "deny": []}),
    ("state_type_refused", "im.vector.modular.widgets", "w1", {"url": "https://evil.example"}),
    ("third_party_invite", "m.room.third_party_invite", "token", {"display_name": "x"}),
]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("expected,event_type,state_key,content",
                         cases(REFUSED_STATE, lambda r: r[1]))
async def test_state_that_weakens_or_leaks_is_refused(stack, state, expected, event_type,
                                                      state_key, content):
    actor, room_id = await home(stack, state)
    content = with_canary(content, canary("patient"))
    status, body = await actor.put_state(room_id, event_type, content, state_key)
    assert status == 403, body
    if state == "verified":
        assert code(body) == expected
    else:  # their bot conversation: the content rule, or the bot's power levels
        assert code(body) in (expected, None), body


@rule("power_escalation")
async def test_power_levels_never_escalate(stack):
    actor, room_id = await home(stack, "verified")
    _, current = await actor.call("GET", f"/rooms/{room_id}/state/m.room.power_levels/")
    for change in ({"users_default": 100}, {"state_default": 0},
                   {"events": {**current.get("events", {}), "m.room.encryption": 0}}):
        status, body = await actor.put_state(room_id, "m.room.power_levels",
                                             {**current, **change})
        assert status == 403 and code(body) == "power_escalation", (change, body)


@rule("power_locked")
@pytest.mark.parametrize("state", STATES)
async def test_the_bot_conversation_gives_the_practitioner_no_power(stack, state):
    actor = await new_actor(stack, state, "dm")
    room_id = await bot_conversation(stack, actor)
    _, levels = await actor.call("GET", f"/rooms/{room_id}/state/m.room.power_levels/")
    assert levels["users"].get(actor.user_id, levels.get("users_default", 0)) == 0
    status, body = await actor.put_state(room_id, "m.room.power_levels", {
        **levels, "users": {**levels["users"], actor.user_id: 100}})
    assert status == 403 and code(body) == "power_locked", body
    status, body = await actor.put_state(room_id, "m.room.join_rules", {"join_rule": "public"})
    assert status == 403, body


ALLOWED_STATE = [
    ("m.room.name", "", {"name": "Réunion de service"}),
    ("m.room.topic", "", {"topic": "Staff du mardi"}),
    ("m.room.history_visibility", "", {"history_visibility": "joined"}),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_ms": 604800000,
                               "rotation_period_msgs": 100}),
    ("m.room.join_rules", "", {"join_rule": "invite"}),
    ("m.room.avatar", "", {}),
]


@rule("state_allowlist")
@pytest.mark.parametrize("event_type,state_key,content", ALLOWED_STATE,
                         ids=[t for t, _, _ in ALLOWED_STATE])
async def test_verified_practitioners_keep_normal_room_settings(stack, event_type, state_key,
                                                                content):
    actor = await new_actor(stack, "verified", "settings")
    _, created = await actor.create_room(name="Cas")
    status, body = await actor.put_state(created["room_id"], event_type, content, state_key)
    assert status == 200, body


@rule("not_verified")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_a_former_member_cannot_rename_a_room(stack, state):
    owner = await new_actor(stack, "verified", "owner")
    member = await new_actor(stack, "verified", "member")
    _, created = await owner.create_room(name="Cas", invite=[member.user_id],
                                         power_level_content_override={
                                             "users": {member.user_id: 50}})
    room_id = created["room_id"]
    assert (await member.call("POST", f"/rooms/{room_id}/join", {}))[0] == 200
    await set_state(stack, member.user_id, state)
    status, body = await member.put_state(room_id, "m.room.name", {"name": canary("patient")})
    assert status == 403 and code(body) == "not_verified", body


# -- knocks ----------------------------------------------------------------------------------

@rule("knock_refused")
@pytest.mark.parametrize("state", STATES)
async def test_knocks_are_refused_and_their_reason_reaches_nobody(stack, state):
    owner, room_id = await home(stack, "verified")
    knocker = await new_actor(stack, state, "knock")
    reason = canary("patient")
    status, body = await knocker.call("POST", f"/knock/{room_id}", {"reason": reason})
    assert status == 403 and code(body) == "knock_refused", body
    _, synced = await owner.call("GET", "/sync?timeout=0")
    assert reason not in str(synced)


# -- aliases and the room directory -------------------------------------------------------------

@rule("aliases_disabled")
@pytest.mark.parametrize("state", STATES)
async def test_no_room_alias_for_anyone(stack, state):
    actor, room_id = await home(stack, state)
    status, body = await actor.call("PUT", f"/directory/room/%23c{actor.user_id[1:9]}:"
                                    f"{stack.settings.server_name}", {"room_id": room_id})
    assert status == 403 and code(body) == "aliases_disabled", body


@rule("publication_disabled")
@pytest.mark.parametrize("state", STATES)
async def test_no_room_is_published(stack, state):
    actor, room_id = await home(stack, state)
    status, body = await actor.call("PUT", f"/directory/list/room/{room_id}",
                                    {"visibility": "public"})
    assert status == 403 and code(body) == "publication_disabled", body


# -- ghosts ------------------------------------------------------------------------------------

@rule("ghost_action")
async def test_a_ghost_joins_but_never_speaks(stack):
    owner, room_id = await home(stack, "verified")
    prefix, server = stack.settings.appservice.ghost_prefix, stack.settings.server_name
    ghost = f"@{prefix}810000575141:{server}"
    assert (await owner.call("POST", f"/rooms/{room_id}/invite", {"user_id": ghost}))[0] == 200
    appservice = Actor(stack, ghost, stack.settings.secrets.as_token, "ghost")
    status, body = await appservice.call("POST", "/register", {
        "type": "m.login.application_service", "username": ghost[1:].split(":")[0],
        "inhibit_login": True})
    assert status in (200, 400), body
    status, body = await appservice.call("POST", f"/rooms/{room_id}/join?user_id={ghost}", {})
    assert status == 200, body
    status, body = await appservice.call(
        "PUT", f"/rooms/{room_id}/send/m.room.encrypted/g1?user_id={ghost}", megolm_content())
    assert status == 403 and code(body) == "ghost_action", body
    status, body = await appservice.call(
        "PUT", f"/rooms/{room_id}/state/m.room.name/?user_id={ghost}", {"name": "x"})
    assert status == 403 and code(body) == "ghost_action", body
    status, body = await appservice.call("POST", f"/createRoom?user_id={ghost}", {})
    assert status == 403 and code(body) == "ghost_action", body


# -- joins and invitations ------------------------------------------------------------------------

@rule("not_verified")
@pytest.mark.parametrize("path", ["/join/{room}?server_name=localhost", "/rooms/{room}/join"])
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_not_verified_accounts_join_no_practitioner_room(stack, state, path):
    owner, room_id = await home(stack, "verified")
    actor = await new_actor(stack, state, "joiner")
    status, body = await actor.call("POST", path.format(room=room_id), {})
    assert status == 403 and code(body) == "not_verified", body


@rule("not_verified")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_not_verified_accounts_bring_nobody_into_their_bot_conversation(stack, state):
    actor, room_id = await home(stack, state)
    colleague = await new_actor(stack, "verified", "guest")
    status, body = await actor.call("POST", f"/rooms/{room_id}/invite",
                                    {"user_id": colleague.user_id})
    assert status == 403 and code(body) == "not_verified", body


@rule("invitee_not_verified")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_verified_practitioners_invite_no_unverified_account(stack, state):
    owner, room_id = await home(stack, "verified")
    other = await new_actor(stack, state, "invitee")
    status, body = await owner.call("POST", f"/rooms/{room_id}/invite",
                                    {"user_id": other.user_id})
    assert status == 403 and code(body) == "invitee_not_verified", body
    status, body = await owner.create_room(name="Cas", invite=[other.user_id])
    assert status == 403 and code(body) == "invitee_not_verified", body


# -- what Element does keeps working ---------------------------------------------------------------

@rule("element_compatibility")
async def test_element_direct_message_and_space_requests_pass(stack):
    alice = await new_actor(stack, "verified", "element")
    bob = await new_actor(stack, "verified", "element")
    status, body = await alice.create_room(
        preset="trusted_private_chat", is_direct=True, invite=[bob.user_id],
        initial_state=[{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": MEGOLM}}])
    assert status == 200, body
    assert (await bob.call("POST", f"/rooms/{body['room_id']}/join", {}))[0] == 200
    status, body = await alice.create_room(
        name="Pôle cardio", preset="private_chat", creation_content={"type": "m.space"},
        power_level_content_override={"events_default": 100, "invite": 0},
        initial_state=[{"type": "m.room.history_visibility", "state_key": "",
                        "content": {"history_visibility": "invited"}}])
    assert status == 200, body
    space = body["room_id"]
    _, child = await alice.create_room(name="Staff")
    status, body = await alice.put_state(space, "m.space.child", {"via": ["localhost"]},
                                         child["room_id"])
    assert status == 200, body
