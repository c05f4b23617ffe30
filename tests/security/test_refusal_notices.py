"""The bot explains a refused action in the person's conversation with it (#16 item 7b), and
the internal endpoint the Synapse module reports refusals to holds against misuse.

Rules: `refusal_notice_auth` (the module secret, compared in constant time),
`refusal_notice_throttle` (once per kind and person per few minutes; a global rate),
`refusal_notice_no_content` (only the user id and the refusal code travel; nothing of the
refused action is sent to the service, logged or repeated by the bot).
"""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import aiohttp
import pytest
from nio import RoomCreateError

from bridge.handlers.refusal_notices import RefusalNotices
from bridge.web.internal import InternalAPI
from tests.security.canaries import canary, plant
from tests.security.test_web import serve

PATH = "/_confrere/internal/v1/refusals"
SECRET = plant("module-secret-" + "r" * 32)


class NoAccounts:
    async def account(self, user_id: str):
        return None


async def _api(per_minute: int = 60):
    notices = RefusalNotices(SimpleNamespace(verification=NoAccounts(), bot=None),
                             per_minute=per_minute)

    async def state_of(user_id: str) -> dict:
        return {}

    return await serve(InternalAPI(SECRET, state_of, notices).routes()), notices


def _auth(secret: str = SECRET) -> dict:
    return {"Authorization": f"Bearer {secret}"}


@pytest.mark.rule("refusal_notice_auth")
async def test_no_or_forged_secret_is_refused():
    client, notices = await _api()
    body = {"user_id": "@lea:localhost", "code": "not_verified"}
    try:
        for headers in ({}, {"Authorization": SECRET}, _auth("not-the-secret"),
                        _auth(SECRET + "x"), _auth(SECRET[:-1]), {"Authorization": "Bearer "}):
            response = await client.post(PATH, json=body, headers=headers)
            assert response.status == 403, headers
        assert notices.sent == 0 and notices._until == {}
        assert (await client.post(PATH, json=body, headers=_auth())).status == 202
    finally:
        await client.close()


@pytest.mark.rule("refusal_notice_no_content")
async def test_only_a_user_and_a_known_code_are_accepted():
    client, notices = await _api()
    patient = canary("patient")
    try:
        bad = [{"user_id": "@lea:localhost", "code": "not_verified", "content": patient},
               {"user_id": "@lea:localhost", "code": patient},
               {"user_id": patient, "code": "not_verified"},
               {"user_id": "@lea:localhost"}, ["not", "an", "object"]]
        for body in bad:
            response = await client.post(PATH, json=body, headers=_auth())
            assert response.status in (202, 400), body
            assert patient not in await response.text()
            if response.status == 202:  # an unknown code: acknowledged, nothing done
                assert (await response.json())["notice"] is False
        big = {"user_id": "@lea:localhost", "code": "not_verified", "x": "y" * 5000}
        assert (await client.post(PATH, data=json.dumps(big), headers=_auth())).status == 413
        silent = {"user_id": "@lea:localhost", "code": "service_unreachable"}
        assert (await (await client.post(PATH, json=silent, headers=_auth())).json()) == {
            "notice": False}, "the server's own failures are not the person's to fix"
        assert notices._until == {}
    finally:
        await client.close()


@pytest.mark.rule("refusal_notice_throttle")
async def test_flood_is_throttled_per_person_and_globally():
    client, notices = await _api(per_minute=10)
    try:
        answers = []
        for _ in range(5):  # one person, one kind: told once
            response = await client.post(PATH, json={"user_id": "@lea:localhost",
                                                     "code": "not_verified"}, headers=_auth())
            answers.append((await response.json())["notice"])
        assert answers == [True, False, False, False, False]
        told = []
        for n in range(30):  # many people at once: a global rate
            response = await client.post(PATH, json={"user_id": f"@u{n}:localhost",
                                                     "code": "not_verified"}, headers=_auth())
            told.append((await response.json())["notice"])
        assert sum(told) == 9 and told[:9] == [True] * 9
    finally:
        await client.close()



@pytest.mark.e2e
@pytest.mark.rule("not_verified")
async def test_unverified_practitioner_is_told_by_the_bot_once(stack):
    unverified = await stack.practitioner("refused", verified=False)
    dm = await stack.onboarding_dm(unverified)
    mark = len(unverified.messages)
    patient = canary("patient")
    refused = await unverified.client.room_create(name=f"Dossier {patient}",
                                                  topic=f"Patient {patient}")
    assert isinstance(refused, RoomCreateError)
    notice = await unverified.next_message_from(stack.bot_id, dm, mark, timeout=30)
    assert "n'a pas abouti" in notice.body and "!verifier" in notice.body
    assert "(Your last action was refused" in notice.body
    assert patient not in notice.body
    again = await unverified.client.room_create(name=f"Dossier {patient}")
    assert isinstance(again, RoomCreateError)
    await asyncio.sleep(3)
    from_bot = [e for room, e in unverified.messages[mark:]
                if room == dm and e.sender == stack.bot_id]
    assert len(from_bot) == 1, "one notice per kind of refusal per few minutes"
    async with aiohttp.ClientSession() as http:  # the service's endpoint wants the secret
        async with http.post(stack.settings.service.url + PATH,
                             json={"user_id": unverified.user_id, "code": "not_verified"}) as r:
            assert r.status == 403


@pytest.mark.rule("refusal_notice_no_content")
async def test_module_reports_the_code_only_and_never_changes_a_decision():
    from tests.test_access_rules_module import STATES, FakeHttp, _module

    module = _module(FakeHttp(STATES))
    reported: list[tuple] = []

    real = module.notices.notify

    def spy(user_id, code, *rest, **named):
        reported.append((user_id, code, rest, named))
        real(user_id, code)

    module.notices.notify = spy
    answer = await module.user_may_create_room("@u:localhost", {"name": canary("patient")})
    assert answer[1]["fr.confrere.reason"]["code"] == "not_verified"
    assert reported == [("@u:localhost", "not_verified", (), {})]
    assert await module.user_may_create_room("@v:localhost", {"invite": []}) is not None
    assert len(reported) == 1, "an allowed action reports nothing"


async def test_module_notice_failures_are_swallowed():
    from bridge.synapse_module.refusal_notice import RefusalNotifier

    class Away:
        async def post_json_get_json(self, *args, **kwargs):
            raise ConnectionRefusedError("service away")

    notifier = RefusalNotifier(Away(), "http://127.0.0.1:1", SECRET)
    await notifier._post("@u:localhost", "not_verified")  # logged at info, never raised
    notifier.notify("@u:localhost", "not_verified")
    notifier.notify("@u:localhost", "not_verified")
    assert notifier.sent == 1, "the module itself sends a (person, kind) once a minute"
