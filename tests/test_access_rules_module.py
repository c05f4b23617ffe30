"""The module's rules in isolation: each predicate, exemptions, caching, failing closed."""

from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from bridge.synapse_module import AccessRules, rules
from bridge.synapse_module.rules import Parties, UserState

pytest.importorskip("synapse")

from synapse.api.errors import SynapseError  # noqa: E402
from synapse.module_api import NOT_SPAM  # noqa: E402
from synapse.module_api.errors import Codes, ConfigError  # noqa: E402

BOT = "@confrere:localhost"
PARTIES = Parties(BOT, "@confrere_")
VERIFIED = UserState("@v:localhost", "verified")
UNVERIFIED = UserState("@u:localhost", "unverified", frozenset({"!onboarding"}))
REVOKED = UserState("@r:localhost", "revoked", frozenset({"!onboarding"}))
ADMIN = UserState("@admin:localhost", "unverified", administrator=True)


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


def _module(http: FakeHttp, cache_seconds: float = 30) -> AccessRules:
    api = MagicMock()
    api.http_client = http
    api.is_mine.return_value = True
    del api._clock
    config = AccessRules.parse_config({
        "service_url": "http://127.0.0.1:1", "secret": "s3cret", "bot_user_id": BOT,
        "exempt_users": ["@confrere-appservice:localhost"], "ghost_prefix": "@confrere_",
        "cache_seconds": cache_seconds,
    })
    return AccessRules(config, api)


# -- pure predicates ---------------------------------------------------------------------

def test_create_room_rules():
    assert rules.may_create_room(VERIFIED, {"invite": ["@x:localhost"]}, PARTIES) is None
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT], "is_direct": True}, PARTIES) is None
    assert rules.may_create_room(UNVERIFIED, {}, PARTIES) is rules.NOT_VERIFIED
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT, "@v:localhost"]}, PARTIES) \
        is rules.NOT_VERIFIED
    assert rules.may_create_room(UNVERIFIED, {"invite": [BOT], "invite_3pid": [{}]}, PARTIES) \
        is rules.NOT_VERIFIED
    plaintext = {"initial_state": [{"type": "m.room.encryption", "content": {}}]}
    assert rules.may_create_room(VERIFIED, plaintext, PARTIES) is rules.UNENCRYPTED_ROOM
    assert rules.may_create_room(None, {}, PARTIES) is rules.SERVICE_UNREACHABLE


def test_invite_rules():
    assert rules.may_invite(VERIFIED, "@v2:localhost", VERIFIED, PARTIES) is None
    ghost = UserState("@confrere_810001:localhost", "ghost")
    assert rules.may_invite(VERIFIED, "@confrere_810001:localhost", ghost, PARTIES) is None
    stranger = UserState("@confrere_819999:localhost", "unknown")
    assert rules.may_invite(VERIFIED, "@confrere_819999:localhost", stranger, PARTIES) \
        is rules.UNKNOWN_GHOST
    assert rules.may_invite(VERIFIED, "@u:localhost", UNVERIFIED, PARTIES) \
        is rules.INVITEE_NOT_VERIFIED
    assert rules.may_invite(VERIFIED, "@u:localhost", None, PARTIES) is rules.SERVICE_UNREACHABLE
    assert rules.may_invite(UNVERIFIED, BOT, None, PARTIES) is None
    assert rules.may_invite(UNVERIFIED, "@v:localhost", VERIFIED, PARTIES) is rules.NOT_VERIFIED
    assert rules.may_invite(REVOKED, "@v:localhost", VERIFIED, PARTIES) is rules.NOT_VERIFIED


def test_join_and_send_rules():
    assert rules.may_join(VERIFIED, "!any") is None
    assert rules.may_join(UNVERIFIED, "!onboarding") is None
    assert rules.may_join(UNVERIFIED, "!other") is rules.NOT_VERIFIED
    assert rules.may_join(ADMIN, "!admins") is None
    assert rules.may_send(UNVERIFIED, "!onboarding", "m.room.encrypted", {}) is None
    assert rules.may_send(REVOKED, "!elsewhere", "m.room.encrypted", {}) is rules.NOT_VERIFIED
    assert rules.may_send(VERIFIED, "!r", "m.room.message", {"body": "x"}) \
        is rules.UNENCRYPTED_MESSAGE
    assert rules.may_send(VERIFIED, "!r", "m.room.encryption", {"algorithm": "x"}) \
        is rules.UNENCRYPTED_ROOM
    assert rules.may_send(None, "!r", "m.room.encrypted", {}) is rules.SERVICE_UNREACHABLE


def test_refusals_are_bilingual():
    for refusal in (rules.NOT_VERIFIED, rules.INVITEE_NOT_VERIFIED, rules.SERVICE_UNREACHABLE,
                    rules.UNENCRYPTED_ROOM, rules.UNENCRYPTED_MESSAGE, rules.INTERNAL_ERROR):
        fields = refusal.error_fields()
        assert refusal.fr in fields["error"] and refusal.en in fields["error"]
        assert fields["fr.confrere.reason"]["code"] == refusal.code


# -- the module around them --------------------------------------------------------------

async def test_unreachable_service_denies_with_bilingual_reason():
    module = _module(FakeHttp(error=ConnectionRefusedError()))
    result = await module.user_may_create_room("@a:localhost", {})
    assert result[0] == Codes.FORBIDDEN
    assert "injoignable" in result[1]["error"] and "unreachable" in result[1]["error"]
    assert result[1]["fr.confrere.reason"]["code"] == "service_unreachable"


async def test_malformed_answer_denies():
    module = _module(FakeHttp(answers={"@a:localhost": {"unexpected": True}}))
    result = await module.user_may_invite("@a:localhost", BOT, "!r")
    assert result[0] == Codes.FORBIDDEN


async def test_exception_inside_a_rule_denies(monkeypatch):
    module = _module(FakeHttp())

    async def broken(user_id, fresh=False):
        raise KeyError("boom")

    monkeypatch.setattr(module.states, "get", broken)
    result = await module.user_may_join_room("@a:localhost", "!r", True)
    assert result[1]["fr.confrere.reason"]["code"] == "internal_error"


async def test_verified_allowed_and_cached():
    http = FakeHttp(answers={"@v:localhost": {"verification": "verified"}})
    module = _module(http)
    event = SimpleNamespace(sender="@v:localhost", room_id="!r", type="m.room.encrypted",
                            content={})
    assert await module.check_event_for_spam(event) is NOT_SPAM
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


async def test_bot_appservice_and_ghosts_are_exempt_even_when_service_is_down():
    http = FakeHttp(error=ConnectionRefusedError())
    module = _module(http)
    assert await module.user_may_create_room(BOT, {}) is NOT_SPAM
    assert await module.user_may_create_room("@confrere-appservice:localhost", {}) is NOT_SPAM
    assert await module.user_may_join_room("@confrere_810001:localhost", "!r", True) is NOT_SPAM
    assert http.calls == 0


async def test_on_create_room_adds_encryption_or_refuses():
    module = _module(FakeHttp())
    request: dict = {"name": "x"}
    await module.on_create_room(None, request, False)
    assert request["initial_state"][0]["content"]["algorithm"] == rules.MEGOLM
    with pytest.raises(SynapseError) as info:
        await module.on_create_room(None, {"initial_state": [
            {"type": "m.room.encryption", "content": {"algorithm": "none"}}]}, False)
    assert info.value.code == 403


def test_bad_config_is_refused():
    with pytest.raises(ConfigError):
        AccessRules.parse_config({"secret": "x"})
