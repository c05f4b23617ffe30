"""Wiring: the SSO routes on the service, and the logo Synapse shows on the button.

Synapse only takes an `mxc://` icon (MSC2858), and an `mxc://` exists only once Synapse runs:
the service uploads the logo when it first reaches Synapse and records the URI beside
homeserver.yaml; the next rendering of the configuration shows it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging

import aiohttp
from aiohttp import web
from sqlalchemy import select

from bridge.accounts.states import State
from bridge.accounts.models import Account
from bridge.config import Settings
from bridge.identity.psc import ProSanteConnect
from bridge.sso import (AUTHORIZE_PATH, CALLBACK_PATH, CLIENT_ID, DISCOVERY_PATH, JWKS_PATH,
                        LOGO_FILE, TOKEN_PATH, client_secret, issuer, synapse_redirect_uri)
from bridge.sso.pages import SsoPages
from bridge.sso.provider import Provider, SynapseClient
from bridge.verification.service import VerificationService
from bridge.storage.ratelimit import RateLimiter
from bridge.web.templating import STATIC

log = logging.getLogger(__name__)

LOGO = STATIC / "pro-sante-connect.png"


def sso_routes(settings: Settings, psc: ProSanteConnect, verification: VerificationService,
               http: aiohttp.ClientSession) -> list[web.RouteDef]:
    """Nothing when `auth.psc_login` is off; else Synapse's provider and the browser pages."""
    if not settings.auth.psc_login:
        return []

    async def still_verified(user_id: str | None) -> bool:
        async with verification.db.session() as session:
            account = (await session.execute(
                select(Account).where(Account.user_id == user_id))).scalar_one_or_none()
        return account is not None and account.verification_state == State.VERIFIED

    client = SynapseClient(CLIENT_ID, client_secret(settings), synapse_redirect_uri(settings))
    provider = Provider(verification.db, client, issuer(settings), still_verified)
    # Same PSC client (same validation code), its own registered redirect URI.
    sso_psc = ProSanteConnect(dataclasses.replace(
        psc.config, redirect_uri=settings.service.url.rstrip("/") + CALLBACK_PATH), http)
    pages = SsoPages(sso_psc, provider, verification, settings.service.url.startswith("https://"),
                     RateLimiter(settings.secrets.web_secret),
                     settings.auth.psc_starts_per_ip_per_hour,
                     settings.signup.trust_forwarded_for)
    return [*provider.routes(TOKEN_PATH, JWKS_PATH, DISCOVERY_PATH,
                             settings.service.url.rstrip("/") + AUTHORIZE_PATH),
            *pages.routes(AUTHORIZE_PATH, CALLBACK_PATH)]


async def ensure_logo(settings: Settings, http: aiohttp.ClientSession, access_token: str) -> bool:
    """Upload the button's logo once (again if the image changes); record its mxc:// URI.
    True when a new URI was recorded: Synapse shows it once its configuration is rendered
    again and it restarts (`confrere up` does so at once)."""
    if not settings.auth.psc_login:
        return False
    record = settings.synapse_dir / LOGO_FILE
    image = LOGO.read_bytes()
    digest = hashlib.sha256(image).hexdigest()
    marker = settings.synapse_dir / (LOGO_FILE + ".sha256")
    if record.exists() and marker.exists() and marker.read_text().strip() == digest:
        return False
    try:
        async with http.post(f"{settings.synapse.url}/_matrix/media/v3/upload",
                             params={"filename": "pro-sante-connect.png"}, data=image,
                             headers={"Authorization": f"Bearer {access_token}",
                                      "Content-Type": "image/png"}) as response:
            body = await response.json(content_type=None)
            uri = body.get("content_uri", "") if response.status == 200 else ""
    except aiohttp.ClientError as exc:
        log.warning("Pro Santé Connect logo not uploaded: %s", exc)
        return False
    if not uri.startswith("mxc://"):
        log.warning("Pro Santé Connect logo not uploaded (HTTP %s)", response.status)
        return False
    record.write_text(uri + "\n", encoding="utf-8")
    marker.write_text(digest + "\n", encoding="utf-8")
    log.info("Pro Santé Connect logo uploaded; Synapse shows it from its next start")
    return True
