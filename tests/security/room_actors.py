"""Light actors for the room and to-device adversarial cases: a Matrix account with an access
token and a Confrère verification state, talking raw client-server API (no nio needed to be
refused), plus the rooms each one lives in."""

from __future__ import annotations

import base64
import os
import uuid
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from sqlalchemy import update

from bridge.accounts.models import Account
from bridge.matrix.synapse_admin import register_with_shared_secret
from tests.security.canaries import plant

STATES = ("unverified", "pending", "refused", "revoked", "verified")
NOT_VERIFIED = ("unverified", "pending", "refused", "revoked")
MEGOLM = "m.megolm.v1.aes-sha2"


def megolm_content(**extra: Any) -> dict:
    """What a client sends for a Megolm message (random bytes stand for the ciphertext)."""
    ciphertext = base64.b64encode(bytes([3]) + os.urandom(120)).decode().rstrip("=")
    return {"algorithm": MEGOLM, "ciphertext": ciphertext, "session_id": "s" * 43,
            "sender_key": "k" * 43, "device_id": "DEVICE", **extra}


@dataclass
class Actor:
    stack: Any
    user_id: str
    token: str
    state: str
    device_id: str = ""

    async def call(self, method: str, path: str, body: dict | None = None,
                   prefix: str = "/_matrix/client/v3") -> tuple[int, dict]:
        async with aiohttp.ClientSession() as http:
            async with http.request(
                method, f"{self.stack.settings.synapse.url}{prefix}{path}", json=body,
                headers={"Authorization": f"Bearer {self.token}"},
            ) as response:
                try:
                    return response.status, await response.json(content_type=None)
                except ValueError:
                    return response.status, {}

    async def put_state(self, room_id: str, event_type: str, content: dict,
                        state_key: str = "") -> tuple[int, dict]:
        return await self.call("PUT", f"/rooms/{room_id}/state/{event_type}/{state_key}",
                               content)

    async def send(self, room_id: str, event_type: str, content: dict) -> tuple[int, dict]:
        return await self.call("PUT", f"/rooms/{room_id}/send/{event_type}/{uuid.uuid4().hex}",
                               content)

    async def create_room(self, **request: Any) -> tuple[int, dict]:
        return await self.call("POST", "/createRoom", request)


def code(body: dict) -> str | None:
    """The access rule named in a refusal."""
    return (body.get("fr.confrere.reason") or {}).get("code")


async def new_actor(stack, state: str, prefix: str = "sec") -> Actor:
    """A fresh account in `state` (revoked means: was verified, then revoked)."""
    username = f"{prefix}{state[:3]}{uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as http:
        answer = await register_with_shared_secret(
            http, stack.settings.synapse.url, stack.settings.secrets.registration_shared_secret,
            username, plant(uuid.uuid4().hex))
    plant(answer["access_token"])
    await stack.add_account(answer["user_id"], state=state)
    return Actor(stack, answer["user_id"], answer["access_token"], state,
                 answer.get("device_id", ""))


async def bot_conversation(stack, actor: Actor) -> str:
    """The onboarding conversation the bot opens at signup, joined by the actor."""
    room_id = await stack.service.bot.open_direct_conversation(actor.user_id)
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == actor.user_id)
                              .values(onboarding_room_id=room_id))
    status, body = await actor.call("POST", f"/rooms/{room_id}/join", {})
    assert status == 200, body
    return room_id


async def home(stack, state: str) -> tuple[Actor, str]:
    """An actor in `state` with the room where they may act: their own room when verified,
    the bot's onboarding conversation otherwise. Shared by the cases of one stack (refused
    attempts change nothing)."""
    cache = stack.__dict__.setdefault("_security_homes", {})
    if state not in cache:
        actor = await new_actor(stack, state)
        if state == "verified":
            status, body = await actor.create_room(name="Cas")
            assert status == 200, body
            room_id = body["room_id"]
        else:
            room_id = await bot_conversation(stack, actor)
        cache[state] = (actor, room_id)
    return cache[state]


async def set_state(stack, user_id: str, state: str) -> None:
    """Change an account's verification state, and tell the module as the service does."""
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == user_id)
                              .values(verification_state=state))
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{stack.settings.synapse.url}/_synapse/client/confrere/invalidate",
            json={"user_id": user_id},
            headers={"Authorization": f"Bearer {stack.settings.secrets.module_secret}"},
        ) as response:
            assert response.status == 200


def rule(name: str):
    return pytest.mark.rule(name)


def cases(rows: list[tuple], name) -> list:
    """Parameters whose first item is the refusal code, each marked with its rule."""
    return [pytest.param(*row, marks=rule(row[0]), id=f"{name(row)}-{i}")
            for i, row in enumerate(rows)]


def with_canary(value: Any, patient: str) -> Any:
    """The case's content with the placeholder PATIENT replaced by a fresh canary."""
    if isinstance(value, dict):
        return {k: with_canary(v, patient) for k, v in value.items()}
    if isinstance(value, list):
        return [with_canary(v, patient) for v in value]
    return patient if value == "PATIENT" else value
