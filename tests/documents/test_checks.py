"""The document path without Matrix: Onfido (simulated) and administrator review, webhooks
that must be refused, polling for lost webhooks, deletion of the photos after the decision."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from sqlalchemy import select

from bridge.identity.documents import DocumentCheck
from bridge.identity.onfido import OnfidoClient, sign
from bridge.verification.models import VerificationRequest
from tests.documents.conftest import add_account
from tests.documents.images import jpeg, png

USER = "@camille:localhost"


async def collect(checks, user_id: str = USER, document_type: str = "national_identity_card"):
    """Open a check and hand it its photos, as the bot would; returns the provider used."""
    check = await checks.open(user_id, "!dm:localhost", document_type)
    photos = {"front": jpeg("red"), "back": jpeg("green"), "selfie": png()}
    while True:
        current = await checks.waiting(user_id)
        if current is None:
            break
        from bridge.identity.documents import Photo

        mimetype = "image/png" if current.step == "selfie" else "image/jpeg"
        await checks.accept(current, Photo(current.step, mimetype, photos[current.step]))
    return check.id, await checks.submit(check.id)


async def state(checks, user_id: str = USER) -> str:
    return (await checks.verification.account(user_id)).verification_state


async def until(condition, timeout: float = 5) -> None:
    for _ in range(int(timeout / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def audit_actions(checks, user_id: str = USER) -> list[tuple[str, str | None]]:
    return [(entry.action, entry.evidence_sha256)
            for entry in await checks.verification.audit(user_id)]


async def test_clear_verifies_then_photos_are_deleted_and_hashes_stay(database, onfido_world):
    checks, simulator, bot = onfido_world
    await add_account(database, USER)
    check_id, provider = await collect(checks)
    assert provider == "onfido"
    assert await state(checks) == "pending"
    assert [d["side"] for d in simulator.documents.values()] == ["front", "back"]
    assert {d["type"] for d in simulator.documents.values()} == {"national_identity_card"}
    assert len(simulator.live_photos) == 1
    [check] = simulator.checks.values()
    assert [simulator.reports[r]["name"] for r in check["report_ids"]] == [
        "document", "facial_similarity_photo"]
    await until(lambda: _is(checks, "verified"))
    await until(lambda: _no_photos(checks, check_id))  # deleted by the decision's listener
    actions = await audit_actions(checks)
    assert [a for a, _ in actions] == ["requested", "verified", "documents_deleted"]
    assert all(digest and len(digest) == 64 for _, digest in actions)
    async with database.session() as session:
        request = (await session.execute(select(VerificationRequest))).scalar_one()
    assert request.status == "verified"
    assert [d["kind"] for d in request.evidence["documents"]] == ["front", "back", "selfie"]
    assert not bot.images  # nothing went to the administrators


async def _no_photos(checks, check_id: int) -> bool:
    return await checks.store.count(check_id) == 0


async def _count_is(items: list, wanted: int) -> bool:
    return len(items) == wanted


async def _is(checks, wanted: str) -> bool:
    return await state(checks) == wanted


async def test_consider_goes_to_an_administrator_with_the_report_summary(database, onfido_world):
    checks, simulator, bot = onfido_world
    simulator.outcome = "consider"
    await add_account(database, USER)
    check_id, _ = await collect(checks)

    async def posted() -> bool:
        return any("Contrôle Onfido" in text for _, text in bot.texts)

    await until(posted)
    await until(lambda: _count_is(bot.images, 3))
    summary = next(text for _, text in bot.texts if "Contrôle Onfido" in text)
    assert "consider" in summary and "document : consider (suspected)" in summary
    assert "facial_similarity_photo : clear" in summary and f"!admin approuver {USER}" in summary
    assert len(bot.images) == 3 and all(room == "!admins:localhost" for room, _, _ in bot.images)
    assert any("examen complémentaire" in text for room, text in bot.texts if room == "!dm:localhost")
    assert await state(checks) == "pending"
    await checks.verification.verify(USER, "manual", "@admin:localhost")
    assert await state(checks) == "verified"
    assert await checks.store.count(check_id) == 0


async def test_webhooks_with_a_bad_signature_replayed_or_for_an_unknown_check_are_refused(
        database, onfido_world):
    checks, simulator, _ = onfido_world
    simulator.deliver_webhooks = False
    await add_account(database, USER)
    await collect(checks)
    [check_ref] = simulator.checks
    await until(lambda: _complete(simulator, check_ref))

    body = simulator.webhook_body(check_ref)
    assert await simulator.send_webhook(check_ref, signature="0" * 64) == 401
    assert await simulator.send_webhook(check_ref, signature="") == 401
    wrong_key = sign(body, "not-the-webhook-token")
    assert await simulator.send_webhook(check_ref, signature=wrong_key) == 401
    tampered = body.replace(b"complete", b"complete ")
    assert await simulator.send_webhook(check_ref, body=tampered,
                                        signature=sign(body, "hook-token")) == 401
    assert await state(checks) == "pending"

    unknown = json.dumps({"payload": {"resource_type": "check", "action": "check.completed",
                                      "object": {"id": "no-such-check", "status": "complete"}}})
    assert await simulator.send_webhook(check_ref, body=unknown.encode()) == 404
    assert await state(checks) == "pending"

    assert await simulator.send_webhook(check_ref) == 200
    assert await state(checks) == "verified"
    assert await simulator.send_webhook(check_ref) == 409  # the very same, replayed
    assert [a for a, _ in await audit_actions(checks)].count("verified") == 1


async def _complete(simulator, check_ref) -> bool:
    return simulator.checks[check_ref]["status"] == "complete"


async def test_a_lost_webhook_is_made_up_for_by_polling(database, onfido_world):
    checks, simulator, _ = onfido_world
    simulator.deliver_webhooks = False
    await add_account(database, USER)
    await collect(checks, document_type="passport")
    assert [d["side"] for d in simulator.documents.values()] == ["front"]
    [check_ref] = simulator.checks
    assert await checks.poll_once() == 0  # still in progress
    await until(lambda: _complete(simulator, check_ref))
    assert await checks.poll_once() == 1
    assert await state(checks) == "verified"
    assert await checks.poll_once() == 0


async def test_onfido_unreachable_falls_back_to_administrator_review(database, onfido_world):
    checks, _, bot = onfido_world
    async with aiohttp.ClientSession() as http:
        checks.onfido.client = OnfidoClient("http://127.0.0.1:9/v3.6", "api-token", http)
        await add_account(database, USER)
        _, provider = await collect(checks)
    assert provider == "review" and len(bot.images) == 3
    async with database.session() as session:
        check = (await session.execute(select(DocumentCheck))).scalar_one()
    assert check.provider == "review" and check.step == "submitted"


async def test_review_posts_the_declared_identity_and_photos_then_deletes_them(database,
                                                                              onfido_world):
    checks, _, bot = onfido_world
    checks.provider = "review"
    await add_account(database, USER)
    check_id, provider = await collect(checks)
    assert provider == "review"
    header = next(text for room, text in bot.texts if room == "!admins:localhost")
    assert "Camille Bernard" in header and "RPPS 10000100007" in header
    assert [data for _, data, _ in bot.images] == [jpeg("red"), jpeg("green"), png()]
    await checks.verification.refuse(USER, "manual", "@admin:localhost", "photo illisible")
    assert await checks.store.count(check_id) == 0
    actions = [a for a, _ in await audit_actions(checks)]
    assert actions == ["requested", "refused", "documents_deleted"]


async def test_the_simulator_checks_the_token_and_the_multipart_fields(onfido_world):
    _, simulator, _ = onfido_world
    async with aiohttp.ClientSession() as http:
        async with http.post(simulator.api_url + "/applicants", json={"first_name": "A"},
                             headers={"Authorization": "Token token=wrong"}) as response:
            assert response.status == 401
            assert (await response.json())["error"]["type"] == "authorization_error"
        auth = {"Authorization": "Token token=api-token"}
        async with http.post(simulator.api_url + "/applicants", json={"first_name": "A"},
                             headers=auth) as response:
            assert response.status == 422
            assert "last_name" in (await response.json())["error"]["fields"]
        form = aiohttp.FormData()
        form.add_field("applicant_id", "nobody")
        form.add_field("type", "passport")
        form.add_field("file", jpeg(), filename="a.jpg", content_type="image/jpeg")
        async with http.post(simulator.api_url + "/documents", data=form,
                             headers=auth) as response:
            assert response.status == 422
