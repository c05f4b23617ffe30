"""First-run steps against a running Synapse: the admin account and the bot's exemptions."""

from __future__ import annotations

import json
import logging
import secrets
from pathlib import Path

import aiohttp

from bridge.config import Settings
from bridge.matrix.synapse_admin import (
    AdminAccount,
    SynapseAdminError,
    exempt_from_rate_limits,
    register_with_shared_secret,
)
from bridge.storage.private_files import write_private_json

log = logging.getLogger(__name__)

ADMIN_FILE = "admin.json"


async def ensure_admin_account(settings: Settings, http: aiohttp.ClientSession) -> AdminAccount:
    """Create `@admin:<server>` once (password generated, kept in admin.json, mode 0600)."""
    path: Path = settings.data_dir / ADMIN_FILE
    if path.exists():
        return AdminAccount(**json.loads(path.read_text()))
    password = secrets.token_urlsafe(18)
    try:
        answer = await register_with_shared_secret(
            http, settings.synapse.url, settings.secrets.registration_shared_secret,
            "admin", password, admin=True, displayname="Administrateur Confrère",
        )
    except SynapseAdminError as exc:
        raise RuntimeError(
            "the admin account exists on Synapse but admin.json is missing from the data "
            "directory; restore it or reset the admin password with Synapse's admin API"
        ) from exc
    account = AdminAccount(answer["user_id"], password, answer["access_token"])
    write_private_json(path, account.__dict__)
    log.info("created the administrator account %s", account.user_id)
    return account


async def exempt_bot(settings: Settings, http: aiohttp.ClientSession, admin: AdminAccount) -> None:
    await exempt_from_rate_limits(http, settings.synapse.url, admin.access_token,
                                  settings.bot_user_id)
