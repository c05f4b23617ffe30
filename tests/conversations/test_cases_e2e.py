"""Patient cases, téléexpertise rooms, personal spaces and the upload cap on the real Synapse."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from bridge.cases.ids import new_case_id
from bridge.cases.patient import PATIENT_TYPE, PatientIdentity
from bridge.cases.rooms import create_case_room, post_patient_identity
from bridge.spaces.personal import SPACES, file_room
from tests.conversations.helpers import code, raw
from tests.security.canaries import plant


def patient_name() -> str:
    """A patient canary made of letters only (a valid name), planted for the log scan."""
    letters = "".join(chr(ord("a") + int(c, 16)) for c in uuid.uuid4().hex[:12])
    return plant(f"Canari{letters}", "patient")

pytestmark = pytest.mark.e2e


async def room_state(stack, token: str, room_id: str) -> list[dict]:
    status, body = await raw(stack, token, "GET", f"/rooms/{room_id}/state")
    assert status == 200, body
    return body


async def test_case_room_shape_and_pinned_encrypted_identity(stack):
    alice = await stack.practitioner("alice", verified=True)
    bob = await stack.practitioner("bob", verified=True)
    last = patient_name()
    patient = PatientIdentity.parse("Mme", "Jeanne", last, last, "12/03/1961")
    case_id = new_case_id()
    room = await create_case_room(alice.client, kind="case", case_id=case_id,
                                  invite=[bob.user_id])
    await bob.client.join(room.room_id)
    await alice.wait_for(lambda: bob.user_id in getattr(alice.client.rooms.get(room.room_id),
                                                        "users", {}), 20, "bob joined")
    room = await post_patient_identity(alice.client, room, patient)

    state = await room_state(stack, alice.client.access_token, room.room_id)
    by_type = {(e["type"], e["state_key"]): e["content"] for e in state}
    assert by_type[("m.room.create", "")]["type"] == "fr.confrere.case"
    assert by_type[("fr.confrere.case", "")] == {"case_id": case_id}
    assert by_type[("m.room.name", "")] == {"name": f"Cas patient · {case_id}"}
    assert by_type[("m.room.encryption", "")]["algorithm"] == "m.megolm.v1.aes-sha2"
    assert by_type[("m.room.pinned_events", "")] == {"pinned": [room.patient_event_id]}
    assert last.lower() not in str(state).lower()  # nothing of the patient in clear state

    status, event = await raw(stack, alice.client.access_token, "GET",
                              f"/rooms/{room.room_id}/event/{room.patient_event_id}")
    assert status == 200 and event["type"] == "m.room.encrypted"
    assert last.lower() not in str(event).lower()

    await bob.wait_for(lambda: any(r == room.room_id for r, _ in bob.messages), 20,
                       "bob got the identity")
    message = next(e for r, e in bob.messages if r == room.room_id)
    assert message.source["content"][PATIENT_TYPE]["last_name"] == last.upper()
    assert message.source["content"][PATIENT_TYPE]["case_id"] == case_id


async def test_bot_built_teleexpertise_room_is_administered_by_the_requester(stack):
    alice = await stack.practitioner("alice", verified=True)
    spec = await stack.practitioner("spec", verified=True)
    bot = stack.service.bot.client
    case_id = new_case_id("teleexpertise")
    room = await create_case_room(bot, kind="teleexpertise", case_id=case_id,
                                  invite=[alice.user_id, spec.user_id],
                                  administrator=alice.user_id)
    await alice.client.join(room.room_id)
    state = await room_state(stack, alice.client.access_token, room.room_id)
    create = next(e for e in state if e["type"] == "m.room.create")
    assert create["content"]["type"] == "fr.confrere.teleexpertise"
    assert create["content"]["additional_creators"] == [alice.user_id]
    # the requester administers: she may rename the room and set a longer retention
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{room.room_id}/state/m.room.retention",
                             {"max_lifetime": 365 * 24 * 3600 * 1000})
    assert status == 200, body
    await spec.client.join(room.room_id)
    # a moderator (level 50: may set state) is still not the room's administrator
    status, levels = await raw(stack, alice.client.access_token, "GET",
                               f"/rooms/{room.room_id}/state/m.room.power_levels")
    levels.setdefault("users", {})[spec.user_id] = 50
    status, body = await raw(stack, alice.client.access_token, "PUT",
                             f"/rooms/{room.room_id}/state/m.room.power_levels", levels)
    assert status == 200, body
    status, body = await raw(stack, spec.client.access_token, "PUT",
                             f"/rooms/{room.room_id}/state/m.room.retention",
                             {"max_lifetime": 400 * 24 * 3600 * 1000})
    assert status == 403 and code(body) == "retention_admin_only", body


async def test_personal_spaces_file_rooms_by_kind(stack):
    alice = await stack.practitioner("alice", verified=True)
    bot = stack.service.bot.client
    case = await create_case_room(bot, kind="case", case_id=new_case_id(),
                                  invite=[alice.user_id], administrator=alice.user_id)
    space_id = await file_room(stack.service.database, bot, alice.user_id, case.room_id,
                               "fr.confrere.case", stack.settings.server_name)
    again = await file_room(stack.service.database, bot, alice.user_id, case.room_id,
                            "fr.confrere.case", stack.settings.server_name)
    assert again == space_id  # one set of spaces per practitioner
    await alice.wait_for(lambda: len([r for r in alice.client.invited_rooms]) >= 1, 20,
                         "space invitations")
    await alice.client.join(space_id)
    state = await room_state(stack, alice.client.access_token, space_id)
    by_type = {(e["type"], e["state_key"]): e["content"] for e in state}
    assert by_type[("m.room.create", "")]["type"] == "m.space"
    assert by_type[("m.room.name", "")]["name"] == SPACES["cases"]
    assert by_type[("m.space.child", case.room_id)] == {"via": [stack.settings.server_name]}


async def test_upload_over_50_mb_is_refused_with_too_large(stack):
    alice = await stack.practitioner("alice", verified=True)
    body = b"\0" * (50 * 1024 * 1024 + 1)
    async with aiohttp.ClientSession() as http:
        async with http.post(
                f"{stack.settings.synapse.url}/_matrix/media/v3/upload",
                data=body, headers={"Authorization": f"Bearer {alice.client.access_token}",
                                    "Content-Type": "application/octet-stream"}) as answer:
            reply = await answer.json(content_type=None)
    assert answer.status == 413 and reply["errcode"] == "M_TOO_LARGE", reply
    async with aiohttp.ClientSession() as http:
        async with http.post(
                f"{stack.settings.synapse.url}/_matrix/media/v3/upload",
                data=b"\0" * 1024, headers={"Authorization": f"Bearer {alice.client.access_token}",
                                            "Content-Type": "application/octet-stream"}) as answer:
            assert answer.status == 200
