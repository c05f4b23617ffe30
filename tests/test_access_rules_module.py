"""The module's rules in isolation: exemptions, caching, and failing closed on any error."""

from __future__ import annotations

from types import SimpleNamespace
from unittest.mock import MagicMock

import pytest

from bridge.synapse_module import AccessRules
from bridge.synapse_module.rules import UserState, decide

pytest.importorskip("synapse")

from synapse.module_api import NOT_SPAM  # noqa: E402
from synapse.module_api.errors import Codes  # noqa: E402


class FakeHttp:
    """Stands for Synapse's http client; answers or fails as the test says."""

    def __init__(self, answer=None, error: Exception | None = None) -> None:
        self.answer, self.error, self.calls = answer, error, 0

    async def get_json(self, url, headers=None):
        self.calls += 1
        assert headers[b"Authorization"] == [b"Bearer s3cret"]
        if self.error:
            raise self.error
        return self.answer


def _module(http: FakeHttp, cache_seconds: float = 30) -> AccessRules:
    api = MagicMock()
    api.http_client = http
    api.is_mine.return_value = True
    del api._clock
    config = AccessRules.parse_config({
        "service_url": "http://127.0.0.1:1", "secret": "s3cret",
        "exempt_users": ["@confrere:localhost"], "exempt_user_prefixes": ["@confrere_"],
        "cache_seconds": cache_seconds,
    })
    return AccessRules(config, api)


async def test_unreachable_service_denies_with_bilingual_reason():
    module = _module(FakeHttp(error=ConnectionRefusedError()))
    result = await module.user_may_create_room("@a:localhost", {})
    assert result[0] == Codes.FORBIDDEN
    assert "injoignable" in result[1]["error"] and "unreachable" in result[1]["error"]
    assert result[1]["fr.confrere.reason"]["code"] == "service_unreachable"


async def test_malformed_answer_denies():
    module = _module(FakeHttp(answer={"unexpected": True}))
    assert (await module.user_may_invite("@a:localhost", "@b:localhost", "!r"))[0] == Codes.FORBIDDEN


async def test_exception_inside_a_rule_denies(monkeypatch):
    module = _module(FakeHttp(answer={"verification": "verified"}))

    async def broken(user_id):
        raise KeyError("boom")

    monkeypatch.setattr(module.states, "get", broken)
    result = await module.user_may_join_room("@a:localhost", "!r", True)
    assert result[1]["fr.confrere.reason"]["code"] == "internal_error"


async def test_known_user_allowed_and_cached():
    http = FakeHttp(answer={"verification": "unverified"})
    module = _module(http)
    event = SimpleNamespace(sender="@a:localhost")
    assert await module.check_event_for_spam(event) is NOT_SPAM
    assert await module.user_may_create_room("@a:localhost", {}) is NOT_SPAM
    assert http.calls == 1


async def test_failures_are_not_cached():
    http = FakeHttp(error=TimeoutError())
    module = _module(http)
    await module.user_may_create_room("@a:localhost", {})
    http.error, http.answer = None, {"verification": "verified"}
    assert await module.user_may_create_room("@a:localhost", {}) is NOT_SPAM


async def test_expired_cache_asks_again():
    http = FakeHttp(answer={"verification": "verified"})
    module = _module(http, cache_seconds=0)
    await module.user_may_create_room("@a:localhost", {})
    await module.user_may_create_room("@a:localhost", {})
    assert http.calls == 2


async def test_bot_and_ghosts_are_exempt_even_when_service_is_down():
    http = FakeHttp(error=ConnectionRefusedError())
    module = _module(http)
    assert await module.user_may_create_room("@confrere:localhost", {}) is NOT_SPAM
    assert await module.user_may_join_room("@confrere_810001:localhost", "!r", True) is NOT_SPAM
    assert http.calls == 0


def test_decide_refuses_unknown_actor():
    assert decide("send", None) is not None
    assert decide("send", UserState("@a:localhost", "verified")) is None


def test_bad_config_is_refused():
    from synapse.module_api.errors import ConfigError

    with pytest.raises(ConfigError):
        AccessRules.parse_config({"secret": "x"})
