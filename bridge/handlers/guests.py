"""Guests who become members: the colleague invited before they are on Confrère.

What this feature wires (the domain is `bridge/guests/`): the appservice hook that records an
invitation of a directory stand-in made from any client (names the stand-in "Prénom NOM
(invité)" and e-mails the colleague at most once a day), the promotion worker and its
verification listener (once the person is verified they are joined to every room they were
invited to and the stand-in leaves). The pages that stop the invitation e-mails are web pages
(`bridge/web/guest_mail.py`), mounted by the service.
"""

from __future__ import annotations

import logging

from bridge.context import Feature, HandlerContext
from bridge.guests.hooks import GuestInviteHook
from bridge.guests.invitations import Outcome
from bridge.guests.promotion import PromotionWorker

log = logging.getLogger(__name__)

NO_ADDRESS_FR = (
    "Votre confrère n'est pas encore sur Confrère et je ne connais aucune adresse pour le "
    "prévenir : il verra votre conversation dès qu'il s'inscrira et sera vérifié. Vous pouvez "
    "aussi le prévenir vous-même.\n(Your colleague is not on Confrère yet and no address is "
    "known to tell them; they will see the conversation once they sign up and are verified.)"
)


def promotion_worker(ctx: HandlerContext) -> PromotionWorker:
    """The one promotion worker of the service (its listener and the worker share it)."""
    if ctx.guest_promotion is None:
        ctx.guest_promotion = PromotionWorker(
            ctx.database, ctx.settings.synapse.url, ctx.settings.secrets.as_token,
            lambda: ctx.admin_token, lambda: ctx.http)
    return ctx.guest_promotion


async def _inviter_name(ctx: HandlerContext, user_id: str) -> str:
    account = await ctx.verification.account(user_id)
    return f"{account.first_name} {account.last_name}" if account else user_id


async def _tell_inviter(ctx: HandlerContext, inviter: str, room_id: str,
                        outcome: Outcome) -> None:
    if outcome is not Outcome.NO_ADDRESS:
        return
    account = await ctx.verification.account(inviter)
    if account is None or not account.onboarding_room_id:
        return
    await ctx.require_bot().send_text(account.onboarding_room_id, NO_ADDRESS_FR)


def _hooks(ctx: HandlerContext):
    return [GuestInviteHook(
        ctx.settings, ctx.database, ctx.directory, lambda: ctx.http, lambda: ctx.admin_token,
        lambda user_id: _inviter_name(ctx, user_id),
        lambda inviter, room_id, outcome: _tell_inviter(ctx, inviter, room_id, outcome))]


FEATURE = Feature(
    name="guests",
    listeners=lambda ctx: {"guests.promote": promotion_worker(ctx).on_verified},
    workers=lambda ctx: [promotion_worker(ctx)],
    event_hooks=_hooks,
)
