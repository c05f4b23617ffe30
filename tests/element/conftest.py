"""Fixtures for tests with Element's crypto stack (matrix-js-sdk + Rust crypto) on the real stack.

The test modules skip only when Node itself is absent (`needs_node`); missing Node packages
are a failure that says to run `make test` (which installs them). Each test records how long each scenario took from sending
to decrypted reception; the figures are printed at the end of the run, never asserted.
"""

from __future__ import annotations

import time

import aiohttp
import pytest

from tests.element.jsclient import JsClient, missing_packages

TIMINGS: list[tuple[str, str, float]] = []


def pytest_terminal_summary(terminalreporter):
    if not TIMINGS:
        return
    terminalreporter.section("Element stack: start → done, e.g. send → decrypted on the other side (ms)")
    for backend, scenario, seconds in TIMINGS:
        terminalreporter.write_line(f"{backend:<11} {scenario:<44} {seconds * 1000:8.0f}")


def record_timing(stack, scenario: str, started: float) -> float:
    elapsed = time.monotonic() - started
    TIMINGS.append((getattr(stack, "backend", "?"), scenario, elapsed))
    return elapsed


async def element_account(stack, prefix: str, *, verified: bool = True) -> tuple[str, str]:
    """A Matrix account with its Confrère profile, without any login (so no extra device)."""
    user_id, password = await stack.register(prefix)
    await stack.add_account(user_id, state="verified" if verified else "unverified")
    return user_id, password


@pytest.fixture
async def element(stack):
    """Factory: `await element("alice")` is a logged-in, cross-signed js-sdk client of a
    verified practitioner; every process is killed at the end of the test."""
    problem = missing_packages()
    if problem:
        pytest.fail(problem)
    started: list[JsClient] = []

    async def make(prefix: str, *, verified: bool = True, isolation: str = "only_signed",
                   cross_signing: bool = True) -> JsClient:
        user_id, password = await element_account(stack, prefix, verified=verified)
        started_at = time.monotonic()
        client = await JsClient.start(stack.settings.synapse.url, user_id, password,
                                      isolation=isolation, cross_signing=cross_signing)
        started.append(client)
        record_timing(stack, "login + crypto + cross-signing", started_at)
        return client

    try:
        yield make
    finally:
        for client in started:
            await client.close()


async def raw_messages(stack, client: JsClient, room_id: str, limit: int = 100) -> dict[str, dict]:
    """The room's events as the server stores them (what a member fetches), by event id."""
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.settings.synapse.url}/_matrix/client/v3/rooms/{room_id}/messages",
            params={"dir": "b", "limit": str(limit)},
            headers={"Authorization": f"Bearer {client.access_token}"},
        ) as response:
            assert response.status == 200, response.status
            body = await response.json()
    return {event["event_id"]: event for event in body["chunk"]}
