"""Bot and web features, one module per feature; each exposes `register(router)`.

The list below is the whole registry: read it to know what the bot can do.
"""

from __future__ import annotations

from bridge.commands import CommandRouter
from bridge.handlers import admin, badge, directory, verification
from bridge.handlers import help as help_handler

FEATURES = (help_handler, verification, badge, directory, admin)


def build_router(services: object = None) -> CommandRouter:
    router = CommandRouter(services=services)
    for feature in FEATURES:
        feature.register(router)
    return router
