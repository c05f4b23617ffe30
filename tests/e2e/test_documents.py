"""Identity documents sent to the bot in the encrypted DM, end to end on a real Synapse:
administrator review, Onfido (simulated) clear and consider, and what must be refused."""

from __future__ import annotations

import json

import aiohttp
import pytest
from aiohttp import web
from nio import RoomEncryptedImage, UploadResponse
from nio.crypto.attachments import decrypt_attachment
from sqlalchemy import select

from bridge.dev.onfido_simulator import OnfidoSimulator
from bridge.identity.document_checks import OnfidoProvider
from bridge.identity.documents import DocumentCheck, StoredDocument, sha256
from bridge.identity.onfido import OnfidoClient, sign
from bridge.verification.models import AuditEntry, VerificationRequest
from bridge.verification.service import evidence_digest
from tests.documents.images import NOT_AN_IMAGE, PDF, big_jpeg, jpeg, png
from tests.e2e.harness import free_port, wait
from tests.e2e.test_verification import admin_client

pytestmark = pytest.mark.e2e

CAMILLE = {"first_name": "Camille", "last_name": "Bernard", "declared": "10001045367"}
RECTO, VERSO, SELFIE = jpeg("red"), jpeg("green"), png("blue")


# Camille Bernard as the national directory sample lists her: an Onfido "clear" links her.
LISTED = {"first_name": "Camille", "last_name": "Bernard", "declared": "10000100007"}


async def onboarding(stack, prefix: str = "doc", account: dict = CAMILLE):
    await stack.free_national_id("8" + account["declared"])
    client = await stack.practitioner(prefix, verified=False, **account)
    return client, await stack.onboarding_dm(client)


async def send_image(client, room_id: str, data: bytes, name: str,
                     mimetype: str = "image/jpeg", msgtype: str = "m.image",
                     declared_size: int | None = None) -> None:
    """What Element does: encrypt, upload, send an m.image/m.file with the `file` keys."""
    response, keys = await client.client.upload(
        lambda *_: data, content_type=mimetype, filename=name, encrypt=True,
        filesize=len(data))
    assert isinstance(response, UploadResponse), response
    await client.client.room_send(room_id, "m.room.message", {
        "msgtype": msgtype, "body": name,
        "info": {"mimetype": mimetype, "size": declared_size or len(data)},
        "file": {"url": response.content_uri, **keys},
    }, ignore_unverified_devices=True)


async def send_and_hear(client, stack, room_id: str, data: bytes, name: str, **kwargs) -> str:
    mark = len(client.messages)
    await send_image(client, room_id, data, name, **kwargs)
    return (await client.next_message_from(stack.bot_id, room_id, mark, timeout=30)).body


async def send_all(client, stack, dm: str, photos) -> list[str]:
    return [await send_and_hear(client, stack, dm, data, name) for name, data in photos]


async def joined_admin(stack):
    """A fresh administrator device in the admin room, keeping the encrypted images it sees."""
    admin = await admin_client(stack)
    room = await stack.service.verification.get_value("admin_room_id")
    await admin.wait_for(lambda: room in admin.client.invited_rooms
                         or room in admin.client.rooms, 20, "admin invited")
    await admin.client.join(room)
    await admin.wait_for(lambda: room in admin.client.rooms, 20, "admin joined")
    admin.images = []

    async def on_image(matrix_room, event: RoomEncryptedImage) -> None:
        admin.images.append((matrix_room.room_id, event))

    admin.client.add_event_callback(on_image, RoomEncryptedImage)
    return admin, room


async def decrypted(client, event: RoomEncryptedImage) -> bytes:
    download = await client.client.download(event.url)
    return decrypt_attachment(download.body, event.key["k"], event.hashes["sha256"], event.iv)


async def check_of(stack, user_id: str) -> DocumentCheck:
    async with stack.service.database.session() as session:
        return (await session.execute(select(DocumentCheck).where(
            DocumentCheck.user_id == user_id).order_by(DocumentCheck.id.desc()))).scalars().first()


async def photos_kept(stack, user_id: str) -> int:
    check = await check_of(stack, user_id)
    async with stack.service.database.session() as session:
        return len((await session.execute(select(StoredDocument.id).where(
            StoredDocument.check_id == check.id))).all())


async def state_of(stack, user_id: str) -> str:
    return (await stack.service.verification.account(user_id)).verification_state


async def audit(stack, user_id: str) -> list[AuditEntry]:
    return await stack.service.verification.audit(user_id)


@pytest.fixture
async def onfido(stack):
    """Switch the running service to Onfido, served by the simulator, for one test."""
    simulator = OnfidoSimulator(api_token="e2e-api-token", webhook_token="e2e-webhook-token",
                                webhook_url=stack.settings.service.url + "/webhooks/onfido")
    runner = web.AppRunner(simulator.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    simulator.base_url = f"http://127.0.0.1:{port}"
    checks = stack.service.documents
    http = aiohttp.ClientSession()
    checks.onfido = OnfidoProvider(OnfidoClient(simulator.api_url, simulator.api_token, http),
                                   simulator.webhook_token)
    checks.provider = "onfido"
    try:
        yield simulator
    finally:
        checks.provider, checks.onfido = "review", None
        await http.close()
        await runner.cleanup()


async def test_review_documents_reach_the_admin_room_then_are_deleted_on_approval(stack):
    camille, dm = await onboarding(stack)
    admin, admin_room = await joined_admin(stack)
    started = await camille.ask(dm, stack.bot_id, "!verifier document")
    assert "Quel pays a délivré" in started.body and "24 heures" in started.body
    country = await camille.ask(dm, stack.bot_id, "ok")
    assert "Pays émetteur : France" in country.body and "RECTO" in country.body
    answers = await send_all(camille, stack, dm, [("recto.jpg", RECTO), ("verso.jpg", VERSO),
                                                 ("selfie.png", SELFIE)])
    assert "VERSO" in answers[0] and "SELFIE" in answers[1]
    assert "24 heures" in answers[2]
    assert await state_of(stack, camille.user_id) == "pending"

    await admin.wait_for(lambda: len(admin.images) >= 3, 30, "three photos in the admin room")
    header = next(event.body for room, event in admin.messages
                  if room == admin_room and camille.user_id in event.body
                  and "identité déclarée" in event.body)
    assert "Camille Bernard" in header and "10001045367" in header
    received = [await decrypted(admin, event) for _, event in admin.images[-3:]]
    assert received == [RECTO, VERSO, SELFIE]
    assert await photos_kept(stack, camille.user_id) == 3

    await camille.wait_for(lambda: any("toutes les photos" in e.body
                                       for _, e in camille.messages), 20, "thanked")
    mark = len(camille.messages)
    done = await admin.ask(admin_room, stack.bot_id, f"!admin approuver {camille.user_id}")
    assert "approuvée" in done.body
    assert "vérifiée" in (await camille.next_message_from(stack.bot_id, dm, mark)).body
    assert await state_of(stack, camille.user_id) == "verified"
    assert await photos_kept(stack, camille.user_id) == 0

    async with stack.service.database.session() as session:
        request = (await session.execute(select(VerificationRequest).where(
            VerificationRequest.user_id == camille.user_id))).scalar_one()
    assert [d["sha256"] for d in request.evidence["documents"]] == [
        sha256(RECTO), sha256(VERSO), sha256(SELFIE)]
    entries = await audit(stack, camille.user_id)
    assert [e.action for e in entries] == ["requested", "verified", "documents_deleted"]
    assert entries[0].evidence_sha256 == evidence_digest(request.evidence)


async def test_onfido_clear_verifies_and_its_webhook_cannot_be_forged_or_replayed(stack, onfido):
    camille, dm = await onboarding(stack, account=LISTED)
    started = await camille.ask(dm, stack.bot_id, "!verifier passeport")
    assert "passeport" in started.body and "Quel pays a délivré votre passeport" in started.body
    country = await camille.ask(dm, stack.bot_id, "Belgique")
    assert "Pays émetteur : Belgique" in country.body and "PAGE" in country.body
    mark = len(camille.messages)
    answers = await send_all(camille, stack, dm, [("page.jpg", RECTO), ("selfie.png", SELFIE)])
    assert "SELFIE" in answers[0]
    await camille.wait_for(lambda: any("Onfido" in e.body for _, e in camille.messages[mark:]),
                           20, "told the documents went to Onfido")
    assert await wait(lambda: _state_is(stack, camille.user_id, "verified"), timeout=20)
    await camille.wait_for(lambda: any("identité est vérifiée" in e.body
                                       for _, e in camille.messages[mark:]), 20, "told verified")
    assert await photos_kept(stack, camille.user_id) == 0
    assert [d["type"] for d in onfido.documents.values()] == ["passport"]
    # the country the practitioner named, not the server-wide setting (#16 item 16)
    assert [d["issuing_country"] for d in onfido.documents.values()] == ["BEL"]
    [check_ref] = onfido.checks

    url = stack.settings.service.url + "/webhooks/onfido"
    body = onfido.webhook_body(check_ref)
    async with aiohttp.ClientSession() as http:
        async def post(raw: bytes, signature: str) -> int:
            async with http.post(url, data=raw, headers={"X-SHA2-Signature": signature}) as r:
                return r.status

        assert await post(body, "f" * 64) == 401
        assert await post(body, sign(body, onfido.webhook_token)) == 409  # replayed
        unknown = json.dumps({"payload": {"resource_type": "check", "action": "check.completed",
                                          "object": {"id": "unknown", "status": "complete"}}})
        assert await post(unknown.encode(), sign(unknown.encode(), onfido.webhook_token)) == 404
    actions = [e.action for e in await audit(stack, camille.user_id)]
    assert actions == ["requested", "verified", "documents_deleted"]
    account = await stack.service.verification.account(camille.user_id)
    assert account.national_id == "810000100007", "linked to her directory entry (badge)"


async def _state_is(stack, user_id: str, wanted: str) -> bool:
    return await state_of(stack, user_id) == wanted


async def test_onfido_consider_goes_to_an_administrator_who_approves(stack, onfido):
    onfido.outcome = "consider"
    camille, dm = await onboarding(stack)
    admin, admin_room = await joined_admin(stack)
    await camille.ask(dm, stack.bot_id, "!verifier document")
    await camille.ask(dm, stack.bot_id, "France")
    await send_all(camille, stack, dm, [("recto.jpg", RECTO), ("verso.jpg", VERSO),
                                       ("selfie.png", SELFIE)])
    await admin.wait_for(lambda: any(
        "Contrôle Onfido" in event.body and camille.user_id in event.body
        for room, event in admin.messages if room == admin_room), 30, "consider in admin room")
    summary = next(event.body for room, event in admin.messages if "Contrôle Onfido" in event.body
                   and camille.user_id in event.body)
    assert "consider" in summary and "document : consider (suspected)" in summary
    assert await state_of(stack, camille.user_id) == "pending"
    await admin.wait_for(lambda: len(admin.images) >= 3, 30, "photos for the administrator")

    done = await admin.ask(admin_room, stack.bot_id, f"!admin approuver {camille.user_id}")
    assert "approuvée" in done.body
    assert await state_of(stack, camille.user_id) == "verified"
    assert await photos_kept(stack, camille.user_id) == 0


async def test_bad_files_and_documents_outside_the_flow_are_refused(stack):
    camille, dm = await onboarding(stack)
    outside = await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")
    assert "Je n'attends aucun document" in outside and "!verifier document" in outside
    assert await check_of(stack, camille.user_id) is None

    mark = len(camille.messages)
    await camille.send_text(dm, "!verifier manuel")
    await camille.wait_for(lambda: any("Quel pays" in e.body
                                       for _, e in camille.messages[mark:]),
                           20, "the first question")  # after the "pending" notice
    unknown = await camille.ask(dm, stack.bot_id, "Atlantide")
    assert "Je ne reconnais pas ce pays" in unknown.body
    early = await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")
    assert "réponse écrite" in early  # the country first: the photo is not kept
    assert "RECTO" in (await camille.ask(dm, stack.bot_id, "FR")).body
    pdf = await send_and_hear(camille, stack, dm, PDF, "recto.jpg")
    assert "PDF" in pdf and "RECTO" in pdf
    other = await send_and_hear(camille, stack, dm, NOT_AN_IMAGE, "recto.jpg",
                                mimetype="application/octet-stream", msgtype="m.file")
    assert "n'est pas une image" in other
    huge = await send_and_hear(camille, stack, dm, RECTO, "recto.jpg",
                               declared_size=60 * 1024 * 1024)
    assert "50 Mo" in huge and "60 Mo" in huge
    lying = await send_and_hear(camille, stack, dm, big_jpeg(12), "recto.jpg",
                                declared_size=200_000)
    assert "trop lourde" in lying and "10 Mo" in lying
    check = await check_of(stack, camille.user_id)
    assert check.step == "front" and await photos_kept(stack, camille.user_id) == 0

    accepted = await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")
    assert "VERSO" in accepted and await photos_kept(stack, camille.user_id) == 1
