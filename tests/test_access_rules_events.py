"""The pure event predicates (`bridge/synapse_module/events.py`): which state anyone may set,
power levels, memberships, room creation requests and messages — each case with the refusal
code a client would see."""

from __future__ import annotations

import base64

import pytest

from bridge.synapse_module import events, rules
from bridge.synapse_module.rules import Parties, UserState

BOT = "@confrere:localhost"
PARTIES = Parties(BOT, "@confrere_")
VERIFIED = UserState("@v:localhost", "verified")
MEGOLM = rules.MEGOLM
CIPHERTEXT = base64.b64encode(bytes([3]) + bytes(range(100))).decode().rstrip("=")


def encrypted(**extra) -> dict:
    return {"algorithm": MEGOLM, "ciphertext": CIPHERTEXT, "session_id": "sess",
            "sender_key": "key", "device_id": "DEV", **extra}


# -- state events --------------------------------------------------------------------------

ALLOWED_STATE = [
    ("m.room.name", "", {"name": "Staff"}),
    ("m.room.topic", "", {"topic": "Réunion"}),
    ("m.room.avatar", "", {}),
    ("m.room.pinned_events", "", {"pinned": ["$a"]}),
    ("m.room.join_rules", "", {"join_rule": "invite"}),
    ("m.room.history_visibility", "", {"history_visibility": "shared"}),
    ("m.room.history_visibility", "", {"history_visibility": "joined"}),
    ("m.room.history_visibility", "", {"history_visibility": "invited"}),
    ("m.room.guest_access", "", {"guest_access": "forbidden"}),
    ("m.room.encryption", "", {"algorithm": MEGOLM}),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_ms": 604800000,
                               "rotation_period_msgs": 100}),
    ("m.room.canonical_alias", "", {}),
    ("m.space.child", "!child:localhost", {"via": ["localhost"]}),
    ("m.space.parent", "!space:localhost", {"via": ["localhost"]}),
    ("m.room.tombstone", "", {"body": "", "replacement_room": "!new:localhost"}),
    ("m.room.create", "", {"room_version": "10", "m.federate": False}),
    ("m.room.create", "", {"type": "m.space", "m.federate": False}),
    ("m.room.create", "", {"type": "fr.confrere.case", "m.federate": False}),
]

REFUSED_STATE = [
    ("m.room.join_rules", "", {"join_rule": "public"}, "join_rule_not_invite"),
    ("m.room.join_rules", "", {"join_rule": "knock"}, "join_rule_not_invite"),
    ("m.room.join_rules", "", {"join_rule": "restricted", "allow": []}, "join_rule_not_invite"),
    ("m.room.join_rules", "", {"join_rule": "knock_restricted"}, "join_rule_not_invite"),
    ("m.room.join_rules", "", {}, "join_rule_not_invite"),
    ("m.room.history_visibility", "", {"history_visibility": "world_readable"},
     "history_world_readable"),
    ("m.room.history_visibility", "", {}, "history_world_readable"),
    ("m.room.guest_access", "", {"guest_access": "can_join"}, "guest_access"),
    ("m.room.encryption", "", {"algorithm": "none"}, "unencrypted_room"),
    ("m.room.encryption", "", {}, "unencrypted_room"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_ms": 604800001},
     "megolm_rotation_out_of_bounds"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_ms": 0},
     "megolm_rotation_out_of_bounds"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_ms": "1"},
     "megolm_rotation_out_of_bounds"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_msgs": 101},
     "megolm_rotation_out_of_bounds"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_msgs": 0},
     "megolm_rotation_out_of_bounds"),
    ("m.room.encryption", "", {"algorithm": MEGOLM, "rotation_period_msgs": True},
     "megolm_rotation_out_of_bounds"),
    ("m.room.canonical_alias", "", {"alias": "#x:localhost"}, "aliases_disabled"),
    ("m.room.canonical_alias", "", {"alt_aliases": ["#x:localhost"]}, "aliases_disabled"),
    ("m.room.aliases", "localhost", {"aliases": ["#x:localhost"]}, "aliases_disabled"),
    ("m.room.avatar", "", {"url": "mxc://localhost/abc"}, "room_avatar_refused"),
    ("m.room.third_party_invite", "tok", {"display_name": "x"}, "third_party_invite"),
    ("m.room.server_acl", "", {"allow": ["*"]}, "state_type_refused"),
    ("m.room.retention", "", {"max_lifetime": 1}, "state_type_refused"),
    ("im.vector.modular.widgets", "w", {"url": "https://x"}, "state_type_refused"),
    ("org.matrix.msc3401.call.member", "@v:localhost", {}, "state_type_refused"),
    ("m.call.member", "@v:localhost", {}, "state_type_refused"),
    ("fr.confrere.case", "", {"patient": "CanariPatient"}, "case_state_refused"),
    ("com.example.notes", "", {"patient": "Dupont"}, "state_type_refused"),
    ("m.room.name", "other", {"name": "x"}, "state_type_refused"),
    ("m.room.pinned_events", "", {"pinned": "x"}, "state_type_refused"),
    ("m.room.create", "", {"m.federate": True}, "federation_disabled"),
    ("m.room.create", "", {"type": "com.example.room", "m.federate": False},
     "room_type_refused"),
]


@pytest.mark.parametrize("etype,key,content", ALLOWED_STATE)
def test_allowed_state(etype, key, content):
    assert events.state_refusal(etype, key, content) is None


@pytest.mark.parametrize("etype,key,content,code", REFUSED_STATE)
def test_refused_state(etype, key, content, code):
    refusal = events.state_refusal(etype, key, content)
    assert refusal is not None and refusal.code == code


def test_bot_may_set_our_own_state_but_not_weaken_a_room():
    assert events.state_refusal("fr.confrere.status", "", {"id": "c1"}, bot=True) is None
    assert events.state_refusal("m.room.join_rules", "", {"join_rule": "public"},
                                bot=True) is rules.JOIN_RULE_NOT_INVITE


@pytest.mark.parametrize("content,current,code", [
    ({"users": {"@a": 100, "@b": 100}}, {"users": {"@a": 100}}, None),
    ({"users": {"@a": 50, "@b": 50}}, {"users": {"@a": 50}}, None),
    ({"users": {"@a": 50, "@b": 100}}, {"users": {"@a": 50}}, "power_escalation"),
    ({"users": {"@a": 50, "@c": 100}}, {"users": {"@a": 50, "@c": 100}}, None),
    ({"users": {"@a": 100}, "users_default": 50}, {"users": {"@a": 100}}, "power_escalation"),
    ({"users": {"@a": 100}, "state_default": 0}, {"users": {"@a": 100}}, "power_escalation"),
    ({"users": {"@a": 100}, "events": {"m.room.encryption": 0}}, {"users": {"@a": 100}},
     "power_escalation"),
    ({"users": {"@a": 100}, "events": {"m.room.join_rules": 10}}, {"users": {"@a": 100}},
     "power_escalation"),
    ({"users": {"@a": 100}, "events": {"m.room.power_levels": 0}}, {"users": {"@a": 100}},
     "power_escalation"),
    ({"users": {"@a": 100}, "events": {"m.room.name": 0}}, {"users": {"@a": 100}}, None),
    ({"users": {"@a": "100"}}, {"users": {"@a": 100}}, "power_escalation"),
    ({"users": []}, {"users": {"@a": 100}}, "power_escalation"),
    ({"users": {"@a": 0, "@b": 100}}, {"users": {"@a": 0}}, "power_escalation"),
    ({"users": {"@a": 100, "@b": 101}}, {"users": {"@a": 100}}, "power_escalation"),
])
def test_power_levels(content, current, code):
    refusal = events.power_levels_refusal("@a", content, current)
    assert (refusal.code if refusal else None) == code


@pytest.mark.parametrize("content,ghost,profile,code", [
    ({"membership": "knock", "reason": "Dr X"}, False, None, "knock_refused"),
    ({"membership": "knock"}, True, None, "knock_refused"),
    ({"membership": "join", "displayname": "Pr Imposteur"}, False, ("Dr A", None),
     "per_room_profile"),
    ({"membership": "join", "avatar_url": "mxc://x/y"}, False, ("Dr A", None),
     "per_room_profile"),
    ({"membership": "join", "displayname": "Dr A"}, False, ("Dr A", None), None),
    ({"membership": "join"}, False, ("Dr A", None), None),
    ({"membership": "invite", "reason": "patient Dupont"}, False, None, "reason_in_clear"),
    ({"membership": "ban", "reason": "x"}, False, None, "reason_in_clear"),
    ({"membership": "invite", "third_party_invite": {}}, False, None, "third_party_invite"),
    ({"membership": "weird"}, False, None, "membership_refused"),
    ({"membership": "join"}, True, None, None),
    ({"membership": "leave"}, True, None, None),
    ({"membership": "invite"}, True, None, "ghost_action"),
])
def test_membership_content(content, ghost, profile, code):
    refusal = events.membership_refusal("@a:localhost", "@a:localhost"
                                        if content["membership"] != "invite" else "@b:localhost",
                                        content, ghost=ghost, profile=profile)
    assert (refusal.code if refusal else None) == code


# -- room creation requests ----------------------------------------------------------------

REFUSED_REQUESTS = [
    ({"invite_3pid": [{"medium": "email", "address": "x@y"}]}, "third_party_invite"),
    ({"preset": "public_chat"}, "join_rule_not_invite"),
    ({"visibility": "public"}, "publication_disabled"),
    ({"room_alias_name": "cardio"}, "aliases_disabled"),
    ({"creation_content": {"type": "org.example.x"}}, "room_type_refused"),
    ({"creation_content": "x"}, "room_type_refused"),
    ({"power_level_content_override": {"users_default": 100}}, "power_escalation"),
    ({"power_level_content_override": {"users": {"@b:localhost": 1000}}}, "power_escalation"),
    ({"power_level_content_override": {"events": {"m.room.encryption": 0}}},
     "power_escalation"),
    ({"power_level_content_override": "x"}, "power_escalation"),
    ({"initial_state": [{"type": "m.room.member", "state_key": "@v:localhost",
                         "content": {"membership": "invite"}}]}, "member_in_initial_state"),
    ({"initial_state": [{"type": "m.room.member", "state_key": "@u:localhost",
                         "content": {"membership": "join", "displayname": "Pr X"}}]},
     "member_in_initial_state"),
    ({"initial_state": [{"type": "m.room.join_rules", "state_key": "",
                         "content": {"join_rule": "public"}}]}, "join_rule_not_invite"),
    ({"initial_state": [{"type": "m.room.history_visibility", "state_key": "",
                         "content": {"history_visibility": "world_readable"}}]},
     "history_world_readable"),
    ({"initial_state": [{"type": "m.room.guest_access", "state_key": "",
                         "content": {"guest_access": "can_join"}}]}, "guest_access"),
    ({"initial_state": [{"type": "m.room.encryption", "state_key": "",
                         "content": {"algorithm": MEGOLM, "rotation_period_msgs": 100000}}]},
     "megolm_rotation_out_of_bounds"),
    ({"initial_state": [{"type": "m.room.power_levels", "state_key": "",
                         "content": {"users_default": 100}}]}, "power_escalation"),
    ({"initial_state": [{"type": "com.example.patient", "state_key": "",
                         "content": {"name": "Dupont"}}]}, "state_type_refused"),
    ({"initial_state": [{"type": "m.room.avatar", "state_key": "",
                         "content": {"url": "mxc://x/y"}}]}, "room_avatar_refused"),
    ({"initial_state": [{"type": "m.room.canonical_alias", "state_key": "",
                         "content": {"alias": "#x:localhost"}}]}, "aliases_disabled"),
    ({"initial_state": ["x"]}, "state_type_refused"),
]


@pytest.mark.parametrize("request_,code", REFUSED_REQUESTS)
def test_refused_creation_requests(request_, code):
    refusal = events.creation_request_refusal(request_)
    assert refusal is not None and refusal.code == code
    # the same for a verified creator, before any verification question
    assert rules.may_create_room(VERIFIED, request_, PARTIES).code == code


@pytest.mark.parametrize("request_", [
    {"name": "Staff", "invite": ["@v2:localhost"]},
    {"preset": "private_chat"},
    {"preset": "trusted_private_chat", "is_direct": True, "invite": ["@v2:localhost"]},
    {"creation_content": {"type": "m.space"}},
    {"power_level_content_override": {"users": {"@creator": 100, "@b": 100}}},
    {"initial_state": [{"type": "m.room.encryption", "state_key": "",
                        "content": {"algorithm": MEGOLM}},
                       {"type": "m.room.history_visibility", "state_key": "",
                        "content": {"history_visibility": "joined"}}]},
])
def test_allowed_creation_requests(request_):
    assert events.creation_request_refusal(request_) is None


# -- messages ------------------------------------------------------------------------------

@pytest.mark.parametrize("etype,content,code", [
    ("m.room.encrypted", encrypted(), None),
    ("m.room.encrypted", encrypted(**{"m.relates_to": {"rel_type": "m.annotation",
                                                       "event_id": "$x", "key": "👍"}}), None),
    ("m.room.encrypted", encrypted(**{"m.relates_to": {
        "rel_type": "m.thread", "event_id": "$x", "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$y"}}}), None),
    ("m.room.encrypted", {k: v for k, v in encrypted().items()
                          if k not in ("sender_key", "device_id")}, None),
    ("m.room.encrypted", encrypted(body="en clair"), "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(ciphertext="x"), "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(ciphertext="bonjour patient Dupont"), "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(ciphertext=base64.b64encode(b"A" * 100).decode()),
     "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(session_id=""), "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(sender_key=1), "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(algorithm="m.olm.v1.curve25519-aes-sha2"),
     "unencrypted_message"),
    ("m.room.encrypted", encrypted(**{"m.relates_to": {"rel_type": "m.annotation",
                                                       "event_id": "$x", "key": "x" * 40}}),
     "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(**{"m.relates_to": {"m.new_content": {"body": "x"}}}),
     "not_megolm_ciphertext"),
    ("m.room.encrypted", encrypted(**{"m.relates_to": {"m.in_reply_to": {"event_id": "$y",
                                                                         "body": "x"}}}),
     "not_megolm_ciphertext"),
    ("m.room.message", {"msgtype": "m.text", "body": "x"}, "unencrypted_message"),
    ("m.sticker", {"body": "x", "url": "mxc://x/y"}, "unencrypted_message"),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x",
                                     "key": "👍"}}, None),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x",
                                     "key": "👍"}, "body": "x"}, "unencrypted_message"),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x",
                                     "key": "x" * 33}}, "unencrypted_message"),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.replace", "event_id": "$x",
                                     "key": "👍"}}, "unencrypted_message"),
    ("m.reaction", {"m.relates_to": {"rel_type": "m.annotation", "event_id": "$x",
                                     "key": "👍", "m.new_content": {}}}, "unencrypted_message"),
    ("m.poll.start", {"question": "x"}, "unencrypted_message"),
    ("org.matrix.msc3381.poll.start", {"question": "x"}, "unencrypted_message"),
    ("m.call.invite", {"offer": {}}, "unencrypted_message"),
    ("com.example.custom", {"x": 1}, "unencrypted_message"),
    ("m.room.redaction", {"redacts": "$x"}, None),
    ("m.room.redaction", {}, None),
    ("m.room.redaction", {"redacts": "$x", "reason": "patient Dupont"}, "reason_in_clear"),
    ("m.room.redaction", {"redacts": "$x", "note": "x"}, "not_megolm_ciphertext"),
])
def test_messages(etype, content, code):
    refusal = events.message_refusal(etype, content)
    assert (refusal.code if refusal else None) == code
