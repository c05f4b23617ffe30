"""Every feature of the service, in the order its commands appear in `!aide` and its
verification listeners run.

This list is the whole registry: read it to know what Confrère does. Each entry is the
`FEATURE` of a module in `bridge/handlers/` (`bridge/context.py` says what it may declare);
the service registers all of it before any endpoint opens. To add a feature, see the
README, "How to add a feature".
"""

from __future__ import annotations

from bridge.context import Feature
from bridge.handlers import admin, directory, documents, onboarding, referral, verification
from bridge.handlers import help as help_handler

FEATURES: tuple[Feature, ...] = (
    help_handler.FEATURE,
    documents.FEATURE,  # before verification: photos are deleted before the practitioner is told
    verification.FEATURE,
    directory.FEATURE,
    referral.FEATURE,
    admin.FEATURE,
    onboarding.FEATURE,
)
