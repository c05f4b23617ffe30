"""A decision taken by the web pages before the bot has started is not lost: its follow-ups
(badge, message to the practitioner) wait for the bot and arrive once it runs.

`start_http()` opens the pages while Synapse (and so the bot) may still be starting; the
listeners are registered before that, and `FollowUpWorker` runs what needed the bot.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bridge.identity.psc import LINK_PURPOSE, START_PATH
from bridge.service import ConfrereService
from bridge.verification import tokens
from bridge.verification.followups import PendingFollowUp
from tests.e2e import psc_flow
from tests.e2e.harness import wait
from tests.e2e.test_verification import CAMILLE, display_name, onboarding, state_of

pytestmark = pytest.mark.e2e


@pytest.mark.rule("followup-before-bot")
async def test_a_decision_before_the_bot_starts_gets_its_badge_and_message(stack):
    camille, dm = await onboarding(stack, "early", **CAMILLE)
    await stack.service.stop()
    stack.service = service = ConfrereService(stack.settings)
    await service.start_http()  # pages open; the bot is not there yet
    try:
        link = await tokens.issue(service.database, LINK_PURPOSE, camille.user_id,
                                  timedelta(minutes=10))
        mark = len(camille.messages)
        status, page, _ = await psc_flow.follow(
            f"{stack.settings.service.url}{START_PATH}?t={link}", identity=0)
        assert status == 200 and "Identité vérifiée" in page
        assert await state_of(stack, camille.user_id) == "verified"
        async with service.database.session() as session:
            waiting = set((await session.execute(select(PendingFollowUp.listener).where(
                PendingFollowUp.user_id == camille.user_id))).scalars())
        assert {"verification.badge", "verification.tell-practitioner"} <= waiting
    finally:
        await service.start_matrix()
    told = await camille.next_message_from(stack.bot_id, dm, mark, timeout=40)
    assert "vérifiée" in told.body and told.decrypted

    async def badged() -> bool:
        return await display_name(stack, camille) == "Camille BERNARD"
    assert await wait(badged, 20)
