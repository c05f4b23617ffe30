"""Building case and téléexpertise rooms on Synapse, with any matrix-nio client (the bot's,
or a practitioner's in tests).

Shape (checked by the access-rules module, `events.case_state_refusal`):
- `m.room.create` `type` `fr.confrere.case` or `fr.confrere.teleexpertise`; when the bot
  builds it, the practitioner is an `additional_creators` (room version 12): they administer
  the room, the bot keeps the power to file it and close it;
- the only case-specific state is `fr.confrere.case` `{"case_id": …}`; the name is
  "Cas patient · <id>" / "Téléexpertise · <id>"; no topic;
- the patient's identity is the first encrypted message, then pinned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from nio import AsyncClient, RoomPutStateResponse, RoomSendResponse

from bridge.cases.patient import PatientIdentity
from bridge.synapse_module.events import CASE_ROOM, CASE_STATE, MEGOLM, TELEEXPERTISE_ROOM

ROOM_TYPES = {"case": CASE_ROOM, "teleexpertise": TELEEXPERTISE_ROOM}
NAMES = {"case": "Cas patient · {}", "teleexpertise": "Téléexpertise · {}"}


class RoomBuildError(RuntimeError):
    """Synapse refused a step; the message is Synapse's (our module's bilingual reason)."""


@dataclass(frozen=True)
class CaseRoom:
    case_id: str
    kind: str
    room_id: str
    patient_event_id: str | None = None


async def create_case_room(client: AsyncClient, *, kind: str, case_id: str,
                           invite: list[str], administrator: str | None = None) -> CaseRoom:
    """Create the encrypted typed room. `administrator`: the practitioner the room is for,
    made a co-creator when `client` is the bot (omit when `client` is theirs)."""
    creation: dict = {"type": ROOM_TYPES[kind], "m.federate": False}
    if administrator and administrator != client.user_id:
        creation["additional_creators"] = [administrator]
    body = {
        "name": NAMES[kind].format(case_id), "invite": list(invite),
        "preset": "private_chat", "creation_content": creation,
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}},
            {"type": "m.room.history_visibility", "state_key": "",
             "content": {"history_visibility": "shared"}},
            {"type": CASE_STATE, "state_key": "", "content": {"case_id": case_id}},
        ],
    }
    room_id = await create_room(client, body)
    return CaseRoom(case_id, kind, room_id)


async def create_room(client: AsyncClient, body: dict) -> str:
    """`POST /createRoom` with the client's token (nio's `room_create` has no
    `creation_content`, needed for `additional_creators`)."""
    url = f"{client.homeserver}/_matrix/client/v3/createRoom"
    async with aiohttp.ClientSession() as http, http.post(
            url, json=body, headers={"Authorization": f"Bearer {client.access_token}"}) as answer:
        reply = await answer.json(content_type=None)
    if answer.status != 200 or "room_id" not in reply:
        raise RoomBuildError(str(reply.get("error", answer.status)))
    return reply["room_id"]


async def post_patient_identity(client: AsyncClient, room: CaseRoom,
                                patient: PatientIdentity, *, timeout: float = 20) -> CaseRoom:
    """Send the identity as the room's first (Megolm) message and pin it."""
    await wait_known_encrypted(client, room.room_id, timeout)
    sent = await client.room_send(room.room_id, "m.room.message",
                                  patient.message_content(room.case_id),
                                  ignore_unverified_devices=True)
    if not isinstance(sent, RoomSendResponse):
        raise RoomBuildError(getattr(sent, "message", str(sent)))
    pinned = await client.room_put_state(room.room_id, "m.room.pinned_events",
                                         {"pinned": [sent.event_id]})
    if not isinstance(pinned, RoomPutStateResponse):
        raise RoomBuildError(getattr(pinned, "message", str(pinned)))
    return CaseRoom(room.case_id, room.kind, room.room_id, sent.event_id)


async def wait_known_encrypted(client: AsyncClient, room_id: str, timeout: float) -> None:
    """nio encrypts only once its sync has shown the room's encryption state: never send the
    patient before that (it would refuse, or worse on another client, go in clear)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        room = client.rooms.get(room_id)
        if room is not None and room.encrypted:
            return
        if loop.time() > deadline:
            raise RoomBuildError("room not known as encrypted yet")
        await asyncio.sleep(0.1)
