"""A decision's effects are retried when Synapse refused them, not logged and forgotten."""

from __future__ import annotations

import aiohttp
import pytest

from bridge.accounts.states import Method, State
from bridge.verification.decision import Decision
from bridge.verification.effects import EffectFailed, VerificationEffects

pytestmark = pytest.mark.e2e


@pytest.mark.rule("followup-error-status-retried")
async def test_an_effect_answered_with_an_error_status_raises_so_it_is_retried(stack):
    """The real Synapse refuses the badge (a token it does not know): the effect must raise —
    `VerificationService._announce` then stores it for `FollowUpWorker` — instead of logging."""
    camille = await stack.practitioner("effects", verified=True)
    decision = Decision(camille.user_id, State.VERIFIED, Method.MANUAL, "@admin:localhost")
    async with aiohttp.ClientSession() as http:
        effects = VerificationEffects(stack.settings, stack.service.verification, http,
                                      "not-a-token-synapse-knows", bot=None)
        with pytest.raises(EffectFailed):
            await effects.set_badge(decision)
        wrong = stack.settings.secrets.module_secret[::-1]
        effects.settings = _with_module_secret(stack.settings, wrong)
        with pytest.raises(EffectFailed):
            await effects.forget_cached_state(decision)


def _with_module_secret(settings, secret: str):
    from dataclasses import replace

    return replace(settings, secrets=replace(settings.secrets, module_secret=secret))
