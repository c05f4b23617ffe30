"""Search results are numbered for "!favori N" (and later "!ecrire N"): the numbers still mean
the same people after a restart of the service."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.rule("last-results-durable")
async def test_a_restart_between_the_search_and_the_choice(stack):
    dora = await stack.practitioner("dora", verified=True)
    dm = await dora.open_dm(stack.bot_id)
    answer = await dora.ask(dm, stack.bot_id, "!annuaire karimo")
    assert "KARIMO" in answer.body.splitlines()[1]
    await stack.restart_service()
    added = await dora.ask(dm, stack.bot_id, "!favori 1")
    assert "Ajouté" in added.body
    assert "KARIMO" in (await dora.ask(dm, stack.bot_id, "!favoris")).body
