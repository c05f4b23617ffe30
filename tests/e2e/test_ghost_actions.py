"""Typed appservice dispatch and acting as a ghost, against the real Synapse: an invitation
to a directory ghost reaches a declared hook as an `InviteToGhost`; the hook acts as the ghost
(join, display name) through the appservice token."""

from __future__ import annotations

import asyncio

import pytest
from nio import RoomInviteResponse

from bridge.appservice.events import InviteToGhost, on
from tests.e2e.test_access_rules import _raw

pytestmark = pytest.mark.e2e


@pytest.mark.rule("appservice-typed-dispatch")
async def test_an_invited_ghost_joins_and_names_itself(stack):
    alice = await stack.practitioner("ghosthost", verified=True)
    room = await alice.client.room_create(name="Cas")
    prefix, server = stack.settings.appservice.ghost_prefix, stack.settings.server_name
    ghost = f"@{prefix}810000100007:{server}"  # Camille BERNARD, in the directory sample
    seen: asyncio.Queue[InviteToGhost] = asyncio.Queue()

    async def invited(event: InviteToGhost) -> None:
        acting = stack.service.context.appservice.as_user(event.target)
        await acting.join(event.room_id)
        await acting.set_display_name("Camille BERNARD (invité)")
        await seen.put(event)

    hook = on(InviteToGhost, invited, stack.settings)
    stack.service.processor.hooks.append(hook)
    try:
        invite = await alice.client.room_invite(room.room_id, ghost)
        assert isinstance(invite, RoomInviteResponse), invite
        event = await asyncio.wait_for(seen.get(), 30)
    finally:
        stack.service.processor.hooks.remove(hook)
    assert event.national_id == "810000100007" and event.sender == alice.user_id
    status, member = await _raw(stack, alice, "GET",
                                f"/rooms/{room.room_id}/state/m.room.member/{ghost}")
    assert status == 200 and member["membership"] == "join"
    status, profile = await _raw(stack, alice, "GET", f"/profile/{ghost}/displayname")
    assert profile.get("displayname") == "Camille BERNARD (invité)"

    await stack.service.context.appservice.as_user(ghost).leave(room.room_id)
    status, member = await _raw(stack, alice, "GET",
                                f"/rooms/{room.room_id}/state/m.room.member/{ghost}")
    assert member["membership"] == "leave"
