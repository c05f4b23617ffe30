"""Element (matrix-js-sdk + Rust crypto) and a matrix-nio client in one encrypted room.

matrix-nio has no cross-signing, so whether they understand each other depends on Element's
"exclude insecure devices" setting: with it off (all devices) they talk both ways; with it on,
Element neither shares its room key with the nio device nor decrypts what that device sends.
The second case is also the control for tests/element/test_element_bot.py: it shows the mode
really excludes devices their owner did not cross-sign.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from nio import MegolmEvent, RoomEncryptedFile
from nio.crypto.attachments import decrypt_attachment

from tests.element.conftest import record_timing
from tests.element.jsclient import needs_node

pytestmark = [pytest.mark.e2e, needs_node]


async def shared_room(js, nio_client) -> str:
    room_id = await js.create_room(name="Interop", invite=[nio_client.user_id])
    joined = await nio_client.client.join(room_id)
    assert getattr(joined, "room_id", None) == room_id, joined
    await js.wait_member(room_id, nio_client.user_id)
    await nio_client.wait_for(lambda: js.user_id in getattr(
        nio_client.client.rooms.get(room_id), "users", {}), 20, "nio sees the js member")
    return room_id


async def test_nio_and_element_talk_both_ways(stack, element):
    elsa = await element("elsa", isolation="all")
    nils = await stack.practitioner("nils", verified=True)
    room_id = await shared_room(elsa, nils)

    started = time.monotonic()
    event_id = await nils.send_text(room_id, "Bonjour depuis nio")
    seen = await elsa.wait_event_id(event_id)
    record_timing(stack, "interop: nio → js-sdk", started)
    assert seen["decryption_failure"] is None and seen["encrypted"], seen
    assert seen["content"]["body"] == "Bonjour depuis nio"
    # Element marks it: the nio device is not cross-signed by its owner
    assert seen["shield"]["reason"] == "UNSIGNED_DEVICE", seen["shield"]

    mark = len(nils.messages)
    started = time.monotonic()
    await elsa.send(room_id, {"msgtype": "m.text", "body": "Bonjour depuis Element"})
    answer = await nils.next_message_from(elsa.user_id, room_id, mark)
    record_timing(stack, "interop: js-sdk → nio", started)
    assert answer.decrypted and answer.body == "Bonjour depuis Element"


async def test_exclude_insecure_devices_cuts_off_a_device_without_cross_signing(stack, element):
    ines = await element("ines", isolation="only_signed")
    noe = await stack.practitioner("noe", verified=True)
    undecryptable: list[MegolmEvent] = []

    async def on_megolm(room, event) -> None:
        if event.sender == ines.user_id:
            undecryptable.append(event)

    noe.client.add_event_callback(on_megolm, MegolmEvent)
    room_id = await shared_room(ines, noe)

    event_id = await noe.send_text(room_id, "Message d'un appareil non signé")
    seen = await ines.wait_event_id(event_id)
    assert seen["decryption_failure"] == "UNSIGNED_SENDER_DEVICE", seen
    assert seen["content"]["msgtype"] == "m.bad.encrypted", seen["content"]
    assert "appareil" not in seen["content"]["body"]

    mark = len(noe.messages)
    await ines.send(room_id, {"msgtype": "m.text", "body": "Réservé aux appareils signés"})
    await noe.wait_for(lambda: bool(undecryptable), 20, "the js-sdk message reaches nio")
    await asyncio.sleep(1)
    assert not [m for r, m in noe.messages[mark:] if r == room_id], "nio got the room key"


async def test_encrypted_attachments_both_ways(stack, element):
    """An encrypted file from Element opens in nio and one from nio (as the bot sends them)
    opens in Element: both use the same v2 encrypted-attachment format."""
    emma = await element("emma", isolation="all")
    nora = await stack.practitioner("nora", verified=True)
    files: list[RoomEncryptedFile] = []

    async def on_file(room, event) -> None:
        files.append(event)

    nora.client.add_event_callback(on_file, RoomEncryptedFile)
    room_id = await shared_room(emma, nora)
    letter = "Courrier d'adressage (test)".encode() * 40

    started = time.monotonic()
    file = await emma.upload_encrypted(letter, "application/pdf")
    await emma.send(room_id, {"msgtype": "m.file", "body": "courrier.pdf", "file": file,
                              "info": {"mimetype": "application/pdf", "size": len(letter)}})
    await nora.wait_for(lambda: bool(files), 20, "nio decrypts the m.file event")
    got = files[0]
    assert got.sender == emma.user_id and got.decrypted
    encrypted = await download(stack, nora, got.url)
    assert decrypt_attachment(encrypted, got.key["k"], got.hashes["sha256"], got.iv) == letter
    record_timing(stack, "interop: file js-sdk → nio (decrypted)", started)

    started = time.monotonic()
    uploaded, nio_keys = await nora.client.upload(
        lambda *_: letter, content_type="application/octet-stream", encrypt=True,
        filesize=len(letter))
    event = await nora.client.room_send(room_id, "m.room.message", {
        "msgtype": "m.file", "body": "réponse.pdf",
        "file": {"url": uploaded.content_uri, **nio_keys},
        "info": {"mimetype": "application/pdf", "size": len(letter)},
    }, ignore_unverified_devices=True)
    seen = await emma.wait_event_id(event.event_id)
    assert seen["decryption_failure"] is None and seen["content"]["msgtype"] == "m.file"
    assert await emma.download_encrypted(seen["content"]["file"]) == letter
    record_timing(stack, "interop: file nio → js-sdk (decrypted)", started)


async def download(stack, practitioner, mxc: str) -> bytes:
    server, media_id = mxc.removeprefix("mxc://").split("/")
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{stack.settings.synapse.url}/_matrix/client/v1/media/download/{server}/{media_id}",
            headers={"Authorization": f"Bearer {practitioner.client.access_token}"},
        ) as response:
            assert response.status == 200, response.status
            return await response.read()
