"""The identity-document flow runs on the durable dialogs: it survives a restart of the
service, and `annuler` / `retour` (with or without `!`) work through the bot while the other
`!commands` still run."""

from __future__ import annotations

import pytest

from tests.e2e.test_documents import (
    RECTO,
    SELFIE,
    VERSO,
    check_of,
    onboarding,
    photos_kept,
    send_and_hear,
    state_of,
)

pytestmark = pytest.mark.e2e


@pytest.mark.rule("dialog-survives-restart")
async def test_the_service_restarts_in_the_middle_and_the_practitioner_carries_on(stack):
    camille, dm = await onboarding(stack, "restart")
    await camille.ask(dm, stack.bot_id, "!verifier document")
    assert "RECTO" in (await camille.ask(dm, stack.bot_id, "Belgique")).body
    assert "VERSO" in await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")

    await stack.restart_service()

    assert "SELFIE" in await send_and_hear(camille, stack, dm, VERSO, "verso.jpg")
    done = await send_and_hear(camille, stack, dm, SELFIE, "selfie.png", mimetype="image/png")
    assert "24 heures" in done
    assert await state_of(stack, camille.user_id) == "pending"
    assert await photos_kept(stack, camille.user_id) == 3
    requests = await stack.service.verification.pending()
    [request] = [r for r in requests if r.user_id == camille.user_id]
    assert request.evidence["issuing_country"] == "BEL"  # kept across the restart


@pytest.mark.rule("dialog-cancel-back")
async def test_annuler_and_retour_through_the_bot(stack):
    camille, dm = await onboarding(stack, "cancel")
    await camille.ask(dm, stack.bot_id, "!verifier document")
    assert "Belgique" in (await camille.ask(dm, stack.bot_id, "Belgique")).body
    again = await camille.ask(dm, stack.bot_id, "!retour")
    assert "Quel pays a délivré" in again.body
    assert "Pays émetteur : France" in (await camille.ask(dm, stack.bot_id, "France")).body
    assert "VERSO" in await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")
    back = await camille.ask(dm, stack.bot_id, "retour")
    assert "RECTO" in back.body
    help_text = await camille.ask(dm, stack.bot_id, "!aide")  # commands still work
    assert "!verifier" in help_text.body
    cancelled = await camille.ask(dm, stack.bot_id, "!annuler")
    assert "annulée" in cancelled.body and "rien n'a été enregistré" in cancelled.body
    assert (await check_of(stack, camille.user_id)).step == "cancelled"
    assert await photos_kept(stack, camille.user_id) == 0
    outside = await send_and_hear(camille, stack, dm, RECTO, "recto.jpg")
    assert "Je n'attends aucun document" in outside
    free = await camille.ask(dm, stack.bot_id, "bonjour")
    assert "!aide" in free.body  # no dialog any more: free text is not an answer
