"""A decision's effects are retried when Synapse refused them, not logged and forgotten."""

from __future__ import annotations

from dataclasses import replace

import aiohttp
import pytest

from bridge.accounts.states import Method, State
from bridge.matrix.synapse_admin import SynapseAdminError
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
        context = replace(stack.service.context, http=http,
                          admin_token="not-a-token-synapse-knows")
        with pytest.raises(SynapseAdminError):
            await VerificationEffects(context).set_badge(decision)
        settings = stack.settings
        wrong = replace(settings, secrets=replace(
            settings.secrets, module_secret=settings.secrets.module_secret[::-1]))
        with pytest.raises(EffectFailed):
            await VerificationEffects(replace(context, settings=wrong)).forget_cached_state(
                decision)
