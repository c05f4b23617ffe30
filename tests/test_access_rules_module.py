"""The module's rules in isolation: each predicate, exemptions, caching, failing closed."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from bridge.synapse_module import AccessRules, events, refusals, rules
from bridge.synapse_module.rules import Parties, UserState
from bridge.synapse_module.to_device import guard_to_device

pytest.importorskip("synapse")

from synapse.api.errors import SynapseError  # noqa: E402
from synapse.module_api import NOT_SPAM  # noqa: E402
from synapse.module_api.errors import Codes, ConfigError  # noqa: E402

BOT = "@confrere:localhost"
SERVICE = "@confrere-appservice:localhost"
GHOST = "@confrere_810001:localhost"
PARTIES = Parties(BOT, "@confrere_")
VERIFIED = UserState("@v:localhost", "verified")
UNVERIFIED = UserState("@u:localhost", "unverified", frozenset({"!onboarding"}))
PENDING = UserState("@p:localhost", "pending", frozenset({"!onboarding"}))
REFUSED = UserState("@f:localhost", "refused", frozenset({"!onboarding"}))
REVOKED = UserState("@r:localhost", "revoked", frozenset({"!onboarding"}))
ADMIN = UserState("@admin:localhost", "unverified", administrator=True)
NOT_VERIFIED_ACTORS = [UNVERIFIED, PENDING, REFUSED, REVOKED]
MEGOLM = rules.MEGOLM
CIPHERTEXT = base64.b64encode(bytes([3]) + bytes(range(100))).decode().rstrip("=")


def encrypted(**extra) -> dict:
    return {"algorithm": MEGOLM, "ciphertext": CIPHERTEXT, "session_id": "sess",
            "sender_key": "key", "device_id": "DEV", **extra}


class FakeHttp:
    """Stands for Synapse's http client; answers or fails as the test says."""

    def __init__(self, answers=None, error: Exception | None = None) -> None:
        self.answers, self.error, self.calls = answers or {}, error, 0

    async def get_json(self, url, headers=None):
        self.calls += 1
        assert headers[b"Authorization"] == [b"Bearer s3cret"]
        if self.error:
            raise self.error
        user = url.rsplit("/", 1)[-1].replace("%40", "@").replace("%3A", ":")
        return self.answers.get(user, {"verification": "unverified"})


def _module(http: FakeHttp, cache_seconds: float = 30, profiles=None, store=None) -> AccessRules:
    api = MagicMock()
    api.http_client = http
    def is_mine(user_id):
        if not str(user_id).startswith("@") or ":" not in str(user_id):
            raise ValueError("not a user id")  # as Synapse's UserID.from_string does
        return str(user_id).endswith(":localhost")

    api.is_mine.side_effect = is_mine
    del api._clock
    del api._hs

    async def profile(localpart):
        name, avatar = (profiles or {}).get(localpart, (localpart, None))
        return SimpleNamespace(display_name=name, avatar_url=avatar)

    async def get_event(event_id, allow_none=False, allow_rejected=False):
        return (store or {}).get(event_id)

    api.get_profile_for_user.side_effect = profile
    api._store.get_event.side_effect = get_event
    config = AccessRules.parse_config({
        "service_url": "http://127.0.0.1:1", "secret": "s3cret", "bot_user_id": BOT,
        "exempt_users": [SERVICE], "ghost_prefix": "@confrere_", "cache_seconds": cache_seconds,
    })
    return AccessRules(config, api)


def _event(sender, etype, content, state_key=None, room_id="!r", redacts=None,
           event_id="$new"):
    return SimpleNamespace(sender=sender, type=etype, content=content, state_key=state_key,
                           room_id=room_id, redacts=redacts, event_id=event_id,
                           is_state=lambda: state_key is not None)


def _room(creator="@v:localhost", members=("@v:localhost",), power=None, extra=()):
    """The state of an existing room, as Synapse hands it to `check_event_allowed`."""
    state = {("m.room.create", ""): _event(creator, "m.room.create", {}, "", event_id="$c"),
             ("m.room.power_levels", ""): _event(creator, "m.room.power_levels", power or {
                 "users": {creator: 100}, "users_default": 0}, "", event_id="$pl")}
    for member in members:
        state[("m.room.member", member)] = _event(member, "m.room.member",
                                                  {"membership": "join"}, member,
                                                  event_id=f"$m{member}")
    for event in extra:
        state[(event.type, event.state_key)] = event
    return state


STATES = {"@v:localhost": {"verification": "verified"},
          "@v2:localhost": {"verification": "verified"},
          "@u:localhost": {"verification": "unverified", "onboarding_rooms": ["!onboarding"]},
          "@r:localhost": {"verification": "revoked", "onboarding_rooms": ["!onboarding"]},
          GHOST: {"verification": "ghost"}}


async def _allowed(module, event, state) -> str | None:
    """None when allowed, else the refusal code the client would see."""
    try:
        assert await module.check_event_allowed(event, state) == (True, None)
        return None
    except SynapseError as error:
        assert error.code == 403
        return error.error_dict(None)["fr.confrere.reason"]["code"]


# -- people: create, invite, join, act, to-device ----------------------------------------

def test_create_room_rules():
    assert rules.may_create_room(VERIFIED, {"invite": ["@x:localhost"]}, PARTIES) is None
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT], "is_direct": True}, PARTIES) is None
    assert rules.may_create_room(UNVERIFIED, {}, PARTIES) is rules.NOT_VERIFIED
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT, "@v:localhost"]}, PARTIES) \
        is rules.NOT_VERIFIED
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT], "invite_3pid": [{}]}, PARTIES) \
        is rules.THIRD_PARTY_INVITE
    plaintext = {"initial_state": [{"type": "m.room.encryption", "content": {}}]}
    assert rules.may_create_room(VERIFIED, plaintext, PARTIES) is rules.UNENCRYPTED_ROOM
    assert rules.may_create_room(None, {}, PARTIES) is rules.SERVICE_UNREACHABLE


@pytest.mark.parametrize("actor", NOT_VERIFIED_ACTORS, ids=lambda a: a.verification)
def test_not_verified_actors_are_confined(actor):
    assert rules.may_create_room(actor, {"invite": ["@v:localhost"]}, PARTIES) \
        is rules.NOT_VERIFIED
    assert rules.may_invite(actor, "@v:localhost", VERIFIED, PARTIES) is rules.NOT_VERIFIED
    assert rules.may_invite(actor, BOT, None, PARTIES) is None
    assert rules.may_join(actor, "!other") is rules.NOT_VERIFIED
    assert rules.may_join(actor, "!onboarding") is None
    assert rules.may_act_in_room(actor, "!other") is rules.NOT_VERIFIED
    assert rules.may_act_in_room(actor, "!new", creating=True) is None
    assert rules.may_send_to_device(actor.user_id, actor, "@v:localhost", VERIFIED, PARTIES) \
        is rules.NOT_VERIFIED
    assert rules.may_send_to_device(actor.user_id, actor, BOT, None, PARTIES) is None
    assert rules.may_send_to_device(actor.user_id, None, actor.user_id, None, PARTIES) is None


def test_invite_rules():
    assert rules.may_invite(VERIFIED, "@v2:localhost", VERIFIED, PARTIES) is None
    ghost = UserState(GHOST, "ghost")
    assert rules.may_invite(VERIFIED, GHOST, ghost, PARTIES) is None
    stranger = UserState("@confrere_819999:localhost", "unknown")
    assert rules.may_invite(VERIFIED, "@confrere_819999:localhost", stranger, PARTIES) \
        is rules.UNKNOWN_GHOST
    assert rules.may_invite(VERIFIED, "@u:localhost", UNVERIFIED, PARTIES) \
        is rules.INVITEE_NOT_VERIFIED
    assert rules.may_invite(VERIFIED, "@u:localhost", None, PARTIES) is rules.SERVICE_UNREACHABLE
    assert rules.may_invite(VERIFIED, "@x:other.example", None, PARTIES, remote=True) \
        is rules.REMOTE_USER
    assert rules.may_invite(ADMIN, "@v:localhost", VERIFIED, PARTIES) is None


def test_to_device_rules():
    v = "@v:localhost"
    assert rules.may_send_to_device(v, VERIFIED, "@v2:localhost", VERIFIED, PARTIES) is None
    assert rules.may_send_to_device(v, VERIFIED, "@u:localhost", UNVERIFIED, PARTIES) \
        is rules.RECIPIENT_NOT_VERIFIED
    assert rules.may_send_to_device(v, VERIFIED, "@x:other.example", None, PARTIES,
                                    remote=True) is rules.REMOTE_USER
    assert rules.may_send_to_device("@w:localhost", None, "@v:localhost", VERIFIED, PARTIES) \
        is rules.SERVICE_UNREACHABLE
    assert rules.may_send_to_device("@v:localhost", VERIFIED, "@v2:localhost", None, PARTIES) \
        is rules.SERVICE_UNREACHABLE


def test_join_and_act_rules():
    assert rules.may_join(VERIFIED, "!any") is None
    assert rules.may_join(ADMIN, "!admins") is None
    assert rules.may_act_in_room(UNVERIFIED, "!onboarding") is None
    assert rules.may_act_in_room(REVOKED, "!elsewhere") is rules.NOT_VERIFIED
    assert rules.may_act_in_room(None, "!r") is rules.SERVICE_UNREACHABLE
    assert rules.may_act_in_room(None, "!r", creating=True) is rules.SERVICE_UNREACHABLE


def test_refusals_are_bilingual_and_codes_unique():
    all_refusals = [value for value in vars(refusals).values()
                    if isinstance(value, refusals.Refusal)]
    assert len(all_refusals) > 25
    assert len({refusal.code for refusal in all_refusals}) == len(all_refusals)
    for refusal in all_refusals:
        fields = refusal.error_fields()
        assert refusal.fr in fields["error"] and refusal.en in fields["error"]
        assert fields["fr.confrere.reason"]["code"] == refusal.code
        assert refusal.fr != refusal.en


# -- the module around them: check_event_allowed ------------------------------------------

async def test_unverified_room_creation_events_are_allowed_for_the_creator():
    module = _module(FakeHttp(STATES))
    creating = {("m.room.create", ""): _event("@u:localhost", "m.room.create", {}, "")}
    for event in (_event("@u:localhost", "m.room.power_levels",
                         {"users": {"@u:localhost": 100}}, ""),
                  _event("@u:localhost", "m.room.join_rules", {"join_rule": "invite"}, ""),
                  _event("@u:localhost", "m.room.member", {"membership": "invite"}, BOT)):
        assert await _allowed(module, event, creating) is None, event.type
    member = _event("@u:localhost", "m.room.member", {"membership": "invite"}, "@v:localhost")
    assert await _allowed(module, member, creating) == "not_verified"


@pytest.mark.parametrize("sender,expected", [("@v:localhost", None),
                                             ("@u:localhost", "not_verified"),
                                             ("@r:localhost", "not_verified")])
async def test_state_changes_need_verification_outside_onboarding(sender, expected):
    module = _module(FakeHttp(STATES))
    event = _event(sender, "m.room.name", {"name": "x"}, "")
    assert await _allowed(module, event, _room(members=("@v:localhost", sender))) == expected
    onboarding = _event(sender, "m.room.name", {"name": "x"}, "", room_id="!onboarding")
    assert await _allowed(module, onboarding, _room(members=(sender,))) in (None,)


async def test_initial_state_invite_of_a_verified_by_an_unverified_is_refused():
    module = _module(FakeHttp(STATES))
    creating = {("m.room.create", ""): _event("@u:localhost", "m.room.create", {}, "")}
    event = _event("@u:localhost", "m.room.member", {"membership": "invite"}, "@v:localhost")
    assert await _allowed(module, event, creating) == "not_verified"
    by_verified = _event("@v:localhost", "m.room.member", {"membership": "invite"},
                         "@u:localhost")
    assert await _allowed(module, by_verified, _room()) == "invitee_not_verified"


async def test_join_with_per_room_profile_is_refused_but_profile_updates_pass():
    module = _module(FakeHttp(STATES), profiles={"v": ("Dr V", None)})
    forged = _event("@v:localhost", "m.room.member",
                    {"membership": "join", "displayname": "Pr Imposteur"}, "@v:localhost")
    assert await _allowed(module, forged, _room()) == "per_room_profile"
    update = _event("@r:localhost", "m.room.member",
                    {"membership": "join", "displayname": "r"}, "@r:localhost")
    assert await _allowed(module, update, _room(members=("@v:localhost", "@r:localhost"))) \
        is None
    new_join = _event("@r:localhost", "m.room.member", {"membership": "join"}, "@r:localhost")
    assert await _allowed(module, new_join, _room()) == "not_verified"


async def test_remote_senders_and_invitees_are_refused_as_remote():
    module = _module(FakeHttp(STATES))
    remote = _event("@x:other.example", "m.room.encrypted", encrypted())
    assert await _allowed(module, remote, _room()) == "remote_user"
    invite = _event("@v:localhost", "m.room.member", {"membership": "invite"},
                    "@x:other.example")
    assert await _allowed(module, invite, _room()) == "remote_user"
    assert (await module.user_may_invite("@v:localhost", "@x:other.example", "!r"))[1][
        "fr.confrere.reason"]["code"] == "remote_user"


async def test_bot_rooms_lock_power_levels_for_everyone_but_the_bot():
    module = _module(FakeHttp(STATES))
    room = _room(creator=BOT, members=(BOT, "@v:localhost"))
    change = _event("@v:localhost", "m.room.power_levels",
                    {"users": {BOT: 100, "@v:localhost": 0}}, "")
    assert await _allowed(module, change, room) == "power_locked"
    by_bot = _event(BOT, "m.room.power_levels", {"users": {BOT: 100}}, "")
    assert await _allowed(module, by_bot, room) is None


def test_creators_of_room_version_12_hold_all_power_but_levels_stop_at_100():
    assert events.power_levels_refusal("@c", {"users": {"@b": 100}}, {"users": {}},
                                       creators=frozenset({"@c"})) is None
    assert events.power_levels_refusal("@c", {"users": {"@b": 150}}, {"users": {}},
                                       creators=frozenset({"@c"})) is refusals.POWER_ESCALATION


async def test_power_escalation_in_a_room():
    module = _module(FakeHttp(STATES))
    room = _room(creator="@v2:localhost", members=("@v:localhost", "@v2:localhost"),
                 power={"users": {"@v:localhost": 50, "@v2:localhost": 100}})
    raise_other = _event("@v:localhost", "m.room.power_levels",
                         {"users": {"@v:localhost": 50, "@v2:localhost": 100,
                                    "@v3:localhost": 100}}, "")
    assert await _allowed(module, raise_other, room) == "power_escalation"


@pytest.mark.parametrize("target_type,is_state,code", [
    ("m.room.encryption", True, "redact_state"),
    ("m.room.join_rules", True, "redact_state"),
    ("m.room.history_visibility", True, "redact_state"),
    ("m.room.power_levels", True, "redact_state"),
    ("m.room.create", True, "redact_state"),
    ("m.room.name", True, "redact_state"),
    ("m.room.encrypted", False, None),
    (None, False, "redact_state"),
])
async def test_redactions(target_type, is_state, code):
    store = {} if target_type is None else {"$t": SimpleNamespace(
        type=target_type, is_state=lambda: is_state)}
    module = _module(FakeHttp(STATES), store=store)
    redaction = _event("@v:localhost", "m.room.redaction", {"redacts": "$t"}, redacts="$t")
    assert await _allowed(module, redaction, _room()) == code


async def test_redaction_of_current_state_refused_without_store():
    module = _module(FakeHttp(STATES))
    redaction = _event("@u:localhost", "m.room.redaction", {"redacts": "$pl"}, redacts="$pl",
                       room_id="!onboarding")
    assert await _allowed(module, redaction, _room(members=("@u:localhost",))) == "redact_state"


@pytest.mark.parametrize("event", [
    _event(GHOST, "m.room.encrypted", encrypted()),
    _event(GHOST, "m.room.name", {"name": "x"}, ""),
    _event(GHOST, "m.room.member", {"membership": "invite"}, "@v:localhost"),
])
async def test_ghosts_only_join_or_leave(event):
    module = _module(FakeHttp(STATES))
    assert await _allowed(module, event, _room()) == "ghost_action"
    join = _event(GHOST, "m.room.member", {"membership": "join"}, GHOST)
    assert await _allowed(module, join, _room()) is None
    assert (await module.user_may_create_room(GHOST, {}))[1]["fr.confrere.reason"]["code"] \
        == "ghost_action"


async def test_bot_messages_are_checked_too():
    module = _module(FakeHttp(error=ConnectionRefusedError()))
    assert await _allowed(module, _event(BOT, "m.room.encrypted", encrypted()), _room()) is None
    assert await _allowed(module, _event(BOT, "m.room.message", {"body": "x"}), _room()) \
        == "unencrypted_message"


async def test_knock_refused_for_everyone():
    module = _module(FakeHttp(STATES))
    for sender in ("@v:localhost", "@u:localhost", BOT):
        knock = _event(sender, "m.room.member", {"membership": "knock", "reason": "x"}, sender)
        assert await _allowed(module, knock, _room()) == "knock_refused"


async def test_aliases_publication_and_3pid_refused_for_everyone():
    module = _module(FakeHttp(STATES))
    for user in ("@v:localhost", BOT):
        assert (await module.user_may_create_room_alias(user, "#x:localhost"))[0] \
            == Codes.FORBIDDEN
        assert (await module.user_may_publish_room(user, "!r"))[1]["fr.confrere.reason"][
            "code"] == "publication_disabled"
        assert (await module.user_may_send_3pid_invite(user, "email", "a@b", "!r"))[0] \
            == Codes.FORBIDDEN


# -- to-device -------------------------------------------------------------------------------

class FakeHandler:
    def __init__(self) -> None:
        self.sent: list[tuple[str, dict]] = []

    async def send_device_message(self, requester, message_type, messages):
        self.sent.append((message_type, messages))


def _requester(user_id):
    return SimpleNamespace(user=SimpleNamespace(to_string=lambda: user_id))


async def test_to_device_is_filtered_and_refused_when_nobody_is_left():
    module = _module(FakeHttp(STATES))
    handler = FakeHandler()
    guard_to_device(handler, module.to_device_verdicts, module._error)
    guard_to_device(handler, module.to_device_verdicts, module._error)  # idempotent
    with pytest.raises(SynapseError) as info:
        await handler.send_device_message(_requester("@u:localhost"), "m.key.verification.request",
                                          {"@v:localhost": {"*": {}}})
    assert info.value.error_dict(None)["fr.confrere.reason"]["code"] == "not_verified"
    await handler.send_device_message(_requester("@u:localhost"), "m.room.encrypted",
                                      {BOT: {"D": {}}, "@u:localhost": {"D2": {}},
                                       "@v:localhost": {"D3": {}}})
    assert handler.sent == [("m.room.encrypted", {BOT: {"D": {}}, "@u:localhost": {"D2": {}}})]
    await handler.send_device_message(_requester("@v:localhost"), "m.room.encrypted",
                                      {"not a user id": {"D": {}}, BOT: {"D": {}}})
    assert handler.sent[-1] == ("m.room.encrypted", {BOT: {"D": {}}})
    await handler.send_device_message(_requester("@v:localhost"), "m.room.encrypted",
                                      {"@v2:localhost": {"D": {}}, "@r:localhost": {"D": {}},
                                       "@x:other.example": {"D": {}}})
    assert handler.sent[-1] == ("m.room.encrypted", {"@v2:localhost": {"D": {}}})
    with pytest.raises(SynapseError):
        await handler.send_device_message(_requester(GHOST), "m.room.encrypted",
                                          {"@v:localhost": {"D": {}}})


async def test_to_device_fails_closed_when_service_is_down():
    module = _module(FakeHttp(error=ConnectionRefusedError()))
    verdicts = await module.to_device_verdicts("@u:localhost", ["@v:localhost", BOT,
                                                                "@u:localhost"])
    assert verdicts["@v:localhost"].code == "service_unreachable"
    assert verdicts[BOT] is None and verdicts["@u:localhost"] is None


# -- the module: service answers, cache, failing closed -----------------------------------

async def test_unreachable_service_denies_with_bilingual_reason():
    module = _module(FakeHttp(error=ConnectionRefusedError()))
    result = await module.user_may_create_room("@a:localhost", {})
    assert result[0] == Codes.FORBIDDEN
    assert "injoignable" in result[1]["error"] and "unreachable" in result[1]["error"]
    assert result[1]["fr.confrere.reason"]["code"] == "service_unreachable"


async def test_malformed_answer_denies():
    module = _module(FakeHttp(answers={"@a:localhost": {"unexpected": True}}))
    result = await module.user_may_invite("@a:localhost", "@b:localhost", "!r")
    assert result[0] == Codes.FORBIDDEN


async def test_exception_inside_a_rule_denies(monkeypatch):
    module = _module(FakeHttp())

    async def broken(user_id, fresh=False):
        raise KeyError("boom")

    monkeypatch.setattr(module.states, "get", broken)
    result = await module.user_may_join_room("@a:localhost", "!r", True)
    assert result[1]["fr.confrere.reason"]["code"] == "internal_error"
    event = _event("@a:localhost", "m.room.encrypted", encrypted())
    assert await _allowed(module, event, _room()) == "internal_error"


async def test_verified_allowed_and_cached():
    http = FakeHttp(answers={"@v:localhost": {"verification": "verified"}})
    module = _module(http)
    event = _event("@v:localhost", "m.room.encrypted", encrypted())
    assert await _allowed(module, event, _room()) is None
    assert await module.user_may_create_room("@v:localhost", {}) is NOT_SPAM
    assert http.calls == 1 and module.states.hits == 1


async def test_refusal_rechecks_once_without_cache():
    """A user who just became verified is not refused on a stale cached answer."""
    http = FakeHttp(answers={"@u:localhost": {"verification": "unverified"}})
    module = _module(http)
    assert (await module.user_may_create_room("@u:localhost", {}))[0] == Codes.FORBIDDEN
    http.answers["@u:localhost"] = {"verification": "verified"}
    assert await module.user_may_create_room("@u:localhost", {}) is NOT_SPAM


async def test_failures_are_not_cached():
    http = FakeHttp(error=TimeoutError())
    module = _module(http)
    await module.user_may_create_room("@v:localhost", {})
    http.error, http.answers = None, {"@v:localhost": {"verification": "verified"}}
    assert await module.user_may_create_room("@v:localhost", {}) is NOT_SPAM


async def test_expired_cache_asks_again():
    http = FakeHttp(answers={"@v:localhost": {"verification": "verified"}})
    module = _module(http, cache_seconds=0)
    await module.user_may_create_room("@v:localhost", {})
    await module.user_may_create_room("@v:localhost", {})
    assert http.calls == 2


async def test_bot_appservice_and_ghosts_need_no_service():
    http = FakeHttp(error=ConnectionRefusedError())
    module = _module(http)
    assert await module.user_may_create_room(BOT, {}) is NOT_SPAM
    assert await module.user_may_create_room(SERVICE, {}) is NOT_SPAM
    assert await module.user_may_join_room(GHOST, "!r", True) is NOT_SPAM
    assert http.calls == 0


async def test_on_create_room_completes_or_refuses():
    module = _module(FakeHttp())
    request: dict = {"name": "x"}
    await module.on_create_room(None, request, False)
    types = {state["type"]: state["content"] for state in request["initial_state"]}
    assert types["m.room.encryption"]["algorithm"] == rules.MEGOLM
    assert types["m.room.guest_access"]["guest_access"] == "forbidden"
    assert request["creation_content"]["m.federate"] is False
    federated = {"creation_content": {"m.federate": True}}  # matrix-nio's default: coerced
    await module.on_create_room(None, federated, False)
    assert federated["creation_content"]["m.federate"] is False
    for bad, code in [({"invite_3pid": [{"medium": "email"}]}, "third_party_invite"),
                      ({"preset": "public_chat"}, "join_rule_not_invite"),
                      ({"visibility": "public"}, "publication_disabled"),
                      ({"room_alias_name": "cardio"}, "aliases_disabled")]:
        with pytest.raises(SynapseError) as info:
            await module.on_create_room(None, dict(bad), True)  # server admins too
        assert info.value.error_dict(None)["fr.confrere.reason"]["code"] == code


def test_bad_config_is_refused():
    with pytest.raises(ConfigError):
        AccessRules.parse_config({"secret": "x"})
