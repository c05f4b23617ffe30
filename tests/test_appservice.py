"""Appservice transactions: token checks, replays processed once, nothing lost in a crash."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bridge.appservice.server import AppserviceAPI
from bridge.appservice.transactions import (
    MAX_ATTEMPTS,
    RETRY_CEILING,
    EventProcessor,
    TransactionStore,
)
from bridge.storage.models import AppserviceEvent

HS_TOKEN = "hs-secret-token"


async def _client(database, processor, user_query=None) -> TestClient:
    async def no_users(user_id: str) -> bool:
        return False

    api = AppserviceAPI(HS_TOKEN, TransactionStore(database), processor, user_query or no_users)
    app = web.Application()
    app.add_routes(api.routes())
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


def _events(n: int, prefix: str = "$e") -> dict:
    return {"events": [
        {"event_id": f"{prefix}{i}", "type": "m.room.message", "room_id": "!r:localhost",
         "sender": "@a:localhost", "content": {"body": f"message {i}"}}
        for i in range(n)
    ]}


AUTH = {"Authorization": f"Bearer {HS_TOKEN}"}


@pytest.mark.parametrize("headers,status", [
    ({}, 401),
    ({"Authorization": "Bearer wrong"}, 403),
    ({"Authorization": f"Bearer {HS_TOKEN}x"}, 403),
    ({"Authorization": HS_TOKEN}, 401),
])
async def test_bad_tokens_are_refused_and_store_nothing(database, headers, status):
    client = await _client(database, EventProcessor(database))
    try:
        for method, path in [("PUT", "/_matrix/app/v1/transactions/t1"),
                             ("GET", "/_matrix/app/v1/users/@x:localhost"),
                             ("POST", "/_matrix/app/v1/ping")]:
            response = await client.request(method, path, json=_events(1), headers=headers)
            assert response.status == status
            assert (await response.json())["errcode"] in ("M_UNAUTHORIZED", "M_FORBIDDEN")
        async with database.session() as session:
            assert (await session.execute(select(func.count(AppserviceEvent.id)))).scalar() == 0
    finally:
        await client.close()


async def test_replayed_transaction_is_processed_once(database):
    seen: list[str] = []

    async def hook(event: dict) -> None:
        seen.append(event["event_id"])

    processor = EventProcessor(database, [hook])
    client = await _client(database, processor)
    try:
        for _ in range(3):
            response = await client.put("/_matrix/app/v1/transactions/txn-1", json=_events(2),
                                        headers=AUTH)
            assert response.status == 200 and await response.json() == {}
        await processor.run_once()
        response = await client.put("/_matrix/app/v1/transactions/txn-1", json=_events(2),
                                    headers=AUTH)
        await processor.run_once()
    finally:
        await client.close()
    assert seen == ["$e0", "$e1"]


async def test_events_survive_a_crash_between_receipt_and_handling(database):
    """The 200 is sent once events are in the database; a new process handles them."""
    crashed_processor = EventProcessor(database)  # never started: the process "dies" here
    client = await _client(database, crashed_processor)
    try:
        response = await client.put("/_matrix/app/v1/transactions/before-crash",
                                    json=_events(3), headers=AUTH)
        assert response.status == 200
    finally:
        await client.close()

    handled: list[str] = []

    async def hook(event: dict) -> None:
        handled.append(event["event_id"])

    restarted = EventProcessor(database, [hook])
    assert await restarted.run_once() == 3
    assert await restarted.run_once() == 0
    assert handled == ["$e0", "$e1", "$e2"]


async def test_failing_event_is_retried_without_blocking_others(database):
    calls: dict[str, int] = {}

    async def flaky(event: dict) -> None:
        calls[event["event_id"]] = calls.get(event["event_id"], 0) + 1
        if event["event_id"] == "$e0" and calls["$e0"] < 2:
            raise RuntimeError("temporary")

    processor = EventProcessor(database, [flaky], retry_seconds=0)  # retried at once
    client = await _client(database, processor)
    try:
        await client.put("/_matrix/app/v1/transactions/t", json=_events(2), headers=AUTH)
    finally:
        await client.close()
    assert await processor.run_once() == 1  # $e1 handled, $e0 failed once
    assert await processor.run_once() == 1  # $e0 handled on retry
    assert calls == {"$e0": 2, "$e1": 1}
    async with database.session() as session:
        failed = (await session.execute(
            select(AppserviceEvent).where(AppserviceEvent.event_id == "$e0"))).scalar_one()
    assert failed.last_error == "RuntimeError" and failed.handled_at is not None


async def test_a_failing_event_waits_its_back_off(database):
    """Retries spread out (up to ten minutes apart, for hours): they outlast a Synapse restart
    instead of burning their attempts in seconds."""
    async def down(event: dict) -> None:
        raise ConnectionError("synapse restarting")

    processor = EventProcessor(database, [down])
    await TransactionStore(database).record("t-down", _events(1)["events"])
    assert await processor.run_once() == 0
    assert await processor.run_once() == 0
    async with database.session() as session:
        stored = (await session.execute(select(AppserviceEvent))).scalars().one()
    assert stored.attempts == 1, "not tried again before its back-off"
    assert MAX_ATTEMPTS * RETRY_CEILING > 3600


async def test_malformed_transaction_is_refused(database):
    client = await _client(database, EventProcessor(database))
    try:
        response = await client.put("/_matrix/app/v1/transactions/bad", data=b"not json",
                                    headers=AUTH)
        assert response.status == 400
        response = await client.put("/_matrix/app/v1/transactions/bad2",
                                    json={"events": "nope"}, headers=AUTH)
        assert response.status == 400
    finally:
        await client.close()


async def test_user_query_answers_for_the_namespace(database):
    async def only_ghosts(user_id: str) -> bool:
        return user_id.startswith("@confrere_")

    client = await _client(database, EventProcessor(database), only_ghosts)
    try:
        ok = await client.get("/_matrix/app/v1/users/@confrere_810001234567:localhost",
                              headers=AUTH)
        missing = await client.get("/_matrix/app/v1/users/@someone:localhost", headers=AUTH)
        assert ok.status == 200 and missing.status == 404
    finally:
        await client.close()
