"""Every feature of the service, in the order its commands appear in `!aide` and its
verification listeners run.

This list is the whole registry: read it to know what Confrère does. Each entry is the
`FEATURE` of a module in `bridge/handlers/` (`bridge/context.py` says what it may declare);
the service registers all of it before any endpoint opens. To add a feature, see the
README, "How to add a feature".
"""

from __future__ import annotations

from bridge.commands import CommandRouter
from bridge.context import Feature
from bridge.handlers import admin, badge, directory, documents, guests, onboarding, referral
from bridge.handlers import verification
from bridge.handlers import help as help_handler

FEATURES: tuple[Feature, ...] = (
    help_handler.FEATURE,
    documents.FEATURE,  # before verification: photos are deleted before the practitioner is told
    verification.FEATURE,
    badge.FEATURE,
    directory.FEATURE,
    referral.FEATURE,
    admin.FEATURE,
    onboarding.FEATURE,
    guests.FEATURE,  # after verification: the badge is set before the guest joins their rooms
)


def build_router(services: object = None) -> CommandRouter:
    """A command router holding every feature's commands (the service builds its own the
    same way; tests use this one to talk to the commands without a bot)."""
    router = CommandRouter(services=services)
    for feature in FEATURES:
        for command in feature.commands:
            router.register(command)
    return router
