"""Adversarial cases on to-device messages (Olm key shares, verification requests, custom
types), which Synapse's module API does not cover: the module guards `/sendToDevice` itself.
Also: the module makes Synapse log no "leaked logcontext" on refusals."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from nio import ToDeviceError, ToDeviceMessage, UnknownToDeviceEvent

from tests.security.canaries import canary
from tests.security.room_actors import NOT_VERIFIED, code, new_actor, set_state

pytestmark = pytest.mark.e2e

TYPES = ["org.example.custom", "m.key.verification.request", "m.room.encrypted"]


async def _send(actor, event_type: str, messages: dict) -> tuple[int, dict]:
    return await actor.call("PUT", f"/sendToDevice/{event_type}/{uuid.uuid4().hex}",
                            {"messages": messages})


async def _received(actor, sender: str) -> list[dict]:
    """To-device events from `sender` waiting for the actor's (only) device."""
    status, synced = await actor.call("GET", "/sync?timeout=0")
    assert status == 200
    return [e for e in synced.get("to_device", {}).get("events", []) if e["sender"] == sender]


@pytest.mark.rule("not_verified")
@pytest.mark.parametrize("event_type", TYPES)
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_not_verified_accounts_reach_no_practitioner_device(stack, state, event_type):
    sender = await new_actor(stack, state, "todev")
    target = await new_actor(stack, "verified", "todevtarget")
    status, body = await _send(sender, event_type,
                               {target.user_id: {"*": {"note": canary("patient")}}})
    assert status == 403 and code(body) == "not_verified", body
    assert await _received(target, sender.user_id) == []


@pytest.mark.rule("to_device_bot_and_own_devices")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_not_verified_accounts_still_reach_the_bot_and_their_own_devices(stack, state):
    sender = await new_actor(stack, state, "todevown")
    bot = stack.bot_id
    status, body = await _send(sender, "m.room.encrypted",
                               {bot: {"*": {"algorithm": "x"}}, sender.user_id: {"*": {"x": 1}}})
    assert status == 200, body
    assert len(await _received(sender, sender.user_id)) == 1


@pytest.mark.rule("recipient_not_verified")
@pytest.mark.parametrize("state", NOT_VERIFIED)
async def test_verified_practitioners_reach_only_verified_devices(stack, state):
    sender = await new_actor(stack, "verified", "todevv")
    colleague = await new_actor(stack, "verified", "todevcol")
    other = await new_actor(stack, state, "todevother")
    status, body = await _send(sender, "org.example.custom",
                               {other.user_id: {"*": {"n": 1}}})
    assert status == 403 and code(body) == "recipient_not_verified", body
    # a key share to a room with a revoked member still reaches the verified ones
    status, body = await _send(sender, "m.room.encrypted", {other.user_id: {"*": {"n": 2}},
                                                            colleague.user_id: {"*": {"n": 2}}})
    assert status == 200, body
    assert await _received(other, sender.user_id) == []
    assert [e["content"] for e in await _received(colleague, sender.user_id)] == [{"n": 2}]


@pytest.mark.rule("remote_user")
async def test_to_device_to_another_server_is_refused_as_remote(stack):
    sender = await new_actor(stack, "verified", "todevremote")
    status, body = await _send(sender, "org.example.custom", {"@x:other.example": {"*": {}}})
    assert status == 403 and code(body) == "remote_user", body


@pytest.mark.rule("not_verified")
async def test_revocation_cuts_to_device_at_once(stack):
    sender = await new_actor(stack, "verified", "todevrev")
    target = await new_actor(stack, "verified", "todevrevt")
    assert (await _send(sender, "org.example.custom", {target.user_id: {"*": {}}}))[0] == 200
    await set_state(stack, sender.user_id, "revoked")
    status, body = await _send(sender, "org.example.custom", {target.user_id: {"*": {}}})
    assert status == 403 and code(body) == "not_verified", body


@pytest.mark.rule("not_verified")
async def test_with_real_clients_the_bot_still_decrypts_but_colleagues_get_nothing(stack):
    """nio clients: an unverified account's to-device never reaches a verified practitioner's
    device, while its Olm/Megolm exchange with the bot in the onboarding conversation works."""
    verified = await stack.practitioner("tdvera", verified=True)
    unverified = await stack.practitioner("tdugo", verified=False)
    seen: list = []
    verified.client.add_to_device_callback(lambda event: seen.append(event),
                                           UnknownToDeviceEvent)
    response = await unverified.client.to_device(ToDeviceMessage(
        "org.example.custom", verified.user_id, verified.client.device_id,
        {"note": canary("patient")}))
    assert isinstance(response, ToDeviceError), response
    assert "not_verified" in str(response.message) or response.status_code == "M_FORBIDDEN"
    # control: the same channel from a verified colleague does arrive
    colleague = await stack.practitioner("tdcol", verified=True)
    ok = await colleague.client.to_device(ToDeviceMessage(
        "org.example.custom", verified.user_id, verified.client.device_id, {"n": 1}))
    assert not isinstance(ok, ToDeviceError), ok
    await verified.wait_for(lambda: any(e.sender == colleague.user_id for e in seen), 15,
                            "the colleague's to-device message")
    assert not any(e.sender == unverified.user_id for e in seen)
    # the onboarding conversation the bot opened: Olm key exchange and Megolm both work
    room_id = await stack.service.bot.open_direct_conversation(unverified.user_id)
    from sqlalchemy import update

    from bridge.accounts.models import Account
    async with stack.service.database.session() as session, session.begin():
        await session.execute(update(Account).where(Account.user_id == unverified.user_id)
                              .values(onboarding_room_id=room_id))
    await unverified.wait_for(lambda: room_id in unverified.client.invited_rooms
                              or room_id in unverified.client.rooms, 15, "the bot's invitation")
    await unverified.client.join(room_id)
    await unverified.wait_for(
        lambda: stack.bot_id in getattr(unverified.client.rooms.get(room_id), "users", {}), 15,
        "joined the bot conversation")
    await asyncio.sleep(0.5)
    answer = await unverified.ask(room_id, stack.bot_id, "!aide")
    assert answer.decrypted and "!verifier" in answer.body


@pytest.mark.rule("logcontext")
async def test_refusals_leak_no_logcontext(stack):
    """Refusals (spam checker, third-party rules, to-device) awaited Synapse deferreds the way
    its module docs require: Synapse logs no "logcontext" error or CRITICAL line."""
    actor = await new_actor(stack, "unverified", "logctx")
    target = await new_actor(stack, "verified", "logctxt")
    for _ in range(3):
        await actor.create_room(name="x")
        await actor.call("POST", "/join/!nowhere:localhost", {})
        await _send(actor, "org.example.custom", {target.user_id: {"*": {}}})
    await asyncio.sleep(0.5)
    log = (stack.settings.logs_dir / "synapse.log").read_text(errors="replace")
    lines = log.splitlines()
    bad = [line for line in lines if " CRITICAL " in line]  # "leaked their logcontext to us"
    bad += [line for line in lines
            if ("logcontext" in line.lower() or "logging context" in line.lower())
            and (" ERROR " in line or " WARNING " in line)]
    assert bad == [], bad[:5]
