"""Log in to Matrix with Pro Santé Connect: the Confrère service as a small OpenID provider.

Synapse is an ordinary OIDC client of the service (standard endpoints, RS256 id_tokens, PKCE);
the service is PSC's client (its dialect stays in `bridge.identity.psc`). Between the two, the
service maps the proven national identifier to the existing, verified account and refuses
unknown or revoked ones, so Synapse never sees an identity Confrère has not accepted.
"""

from __future__ import annotations

import hashlib
import hmac

from bridge.config import Settings

IDP_ID = "psc"  # Synapse calls it "oidc-psc"
IDP_NAME = "Pro Santé Connect"
CLIENT_ID = "synapse"
PREFIX = "/sso"
AUTHORIZE_PATH = PREFIX + "/authorize"
CALLBACK_PATH = PREFIX + "/psc/callback"
TOKEN_PATH = PREFIX + "/token"
JWKS_PATH = PREFIX + "/jwks"
DISCOVERY_PATH = PREFIX + "/.well-known/openid-configuration"
SYNAPSE_CALLBACK = "/_synapse/client/oidc/callback"
LOGO_FILE = "psc-logo.mxc"  # under the Synapse directory: the uploaded logo's mxc:// URI


def client_secret(settings: Settings) -> str:
    """Synapse's secret at the token endpoint, derived from the web secret (nothing to store)."""
    return hmac.new(settings.secrets.web_secret.encode(), b"confrere-sso-client\0synapse",
                    hashlib.sha256).hexdigest()


def issuer(settings: Settings) -> str:
    return settings.service.url.rstrip("/") + PREFIX


def synapse_redirect_uri(settings: Settings) -> str:
    return settings.synapse.client_url.rstrip("/") + SYNAPSE_CALLBACK


def synapse_context(settings: Settings) -> dict | None:
    """What `homeserver.yaml.j2` needs for its `oidc_providers` block (None: PSC login off)."""
    auth = settings.auth
    icon = ""
    logo = settings.synapse_dir / LOGO_FILE
    if logo.exists():
        icon = logo.read_text(encoding="utf-8").strip()
    urls = (settings.service.url, settings.service.internal)
    return {
        "psc_login": auth.psc_login,
        "password_login": auth.password_login,
        "trusted_clients": list(auth.trusted_clients),
        "idp_id": IDP_ID, "idp_name": IDP_NAME, "idp_icon": icon,
        "issuer": issuer(settings), "client_id": CLIENT_ID,
        "client_secret": client_secret(settings),
        "authorization_endpoint": settings.service.url.rstrip("/") + AUTHORIZE_PATH,
        "token_endpoint": settings.service.internal.rstrip("/") + TOKEN_PATH,
        "jwks_uri": settings.service.internal.rstrip("/") + JWKS_PATH,
        # Synapse's metadata check wants https endpoints: off for loopback development and for
        # an http internal URL (docker network). It checks only what this file writes.
        "skip_verification": any(url.startswith("http://") for url in urls),
    }
