"""The OpenID provider Synapse talks to: authorization request checks, codes, tokens, keys.

Only one client exists (Synapse, from the rendered homeserver.yaml), with one exact redirect
URI, PKCE S256 required and a secret at the token endpoint. Codes are single-use one-time
tokens (hashed at rest, compare-and-set on use) living one minute. id_tokens are RS256 with a
key generated at each start and kept in memory only: Synapse reloads the keys when the `kid`
changes, so a restart costs nothing and no signing key ever sits on disk.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import RSAKey

from bridge.identity.psc import REQUIRED_ACR
from bridge.storage.database import Database
from bridge.verification import tokens

CODE_PURPOSE = "sso_code"
CODE_TTL = timedelta(seconds=60)
ID_TOKEN_SECONDS = 300


class AuthorizationError(Exception):
    """The authorization request is not Synapse's: never redirect anywhere, show why."""


@dataclass(frozen=True)
class SynapseClient:
    client_id: str
    client_secret: str
    redirect_uri: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """What Synapse asked for; kept server-side until the code is issued."""

    redirect_uri: str
    state: str
    nonce: str
    code_challenge: str
    # Always form_post (Synapse is configured to ask for it): the code travels in a POST
    # body, so it never shows in Synapse's access log nor in the browser's history.
    response_mode: str = "form_post"

    @classmethod
    def parse(cls, query, client: SynapseClient) -> "AuthorizationRequest":
        # The redirect URI is compared first and exactly: a foreign one never gets a redirect.
        if query.get("client_id") != client.client_id:
            raise AuthorizationError("client_id inconnu")
        if query.get("redirect_uri") != client.redirect_uri:
            raise AuthorizationError("redirect_uri non enregistrée")
        if query.get("response_type") != "code":
            raise AuthorizationError("response_type doit être code")
        if "openid" not in str(query.get("scope", "")).split():
            raise AuthorizationError("scope openid manquant")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise AuthorizationError("PKCE S256 obligatoire")
        if not query.get("state") or not query.get("nonce"):
            raise AuthorizationError("state et nonce obligatoires")
        if query.get("response_mode") != "form_post":
            raise AuthorizationError("response_mode form_post obligatoire")
        return cls(query["redirect_uri"], query["state"], query["nonce"],
                   query["code_challenge"])

    def as_data(self) -> dict:
        return {"redirect_uri": self.redirect_uri, "state": self.state, "nonce": self.nonce,
                "code_challenge": self.code_challenge, "response_mode": self.response_mode}


class Provider:
    def __init__(self, db: Database, client: SynapseClient, issuer: str,
                 account_still_verified) -> None:
        self.db = db
        self.client = client
        self.issuer = issuer
        self._still_verified = account_still_verified
        self._kid = secrets.token_hex(8)
        self._key = RSAKey.generate_key(2048, parameters={"kid": self._kid}, private=True)

    async def issue_code(self, request: AuthorizationRequest, user_id: str,
                         localpart: str) -> dict:
        """The answer for Synapse's callback (the registered one, never another address)."""
        code = await tokens.issue(self.db, CODE_PURPOSE, user_id, CODE_TTL,
                                  {**request.as_data(), "localpart": localpart,
                                   "auth_time": int(time.time())})
        return {"code": code, "state": request.state}

    # -- endpoints Synapse calls (back channel) ---------------------------------------------
    def routes(self, token_path: str, jwks_path: str, discovery_path: str,
               authorize_url: str) -> list[web.RouteDef]:
        self._urls = {"token": token_path, "jwks": jwks_path, "authorize": authorize_url}
        return [web.post(token_path, self.token), web.get(jwks_path, self.jwks),
                web.get(discovery_path, self.discovery)]

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._client_ok(request.headers.get("Authorization", ""), form):
            return _oauth_error("invalid_client", 401)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        grant = await tokens.consume(self.db, CODE_PURPOSE, str(form.get("code", "")))
        if grant is None:
            return _oauth_error("invalid_grant")
        data = grant.data
        if not _same(str(form.get("redirect_uri", "")), data["redirect_uri"]) or \
                not _same(_s256(str(form.get("code_verifier", ""))), data["code_challenge"]):
            return _oauth_error("invalid_grant")
        # Revoked between the PSC answer and now: still refused.
        if not await self._still_verified(grant.user_id):
            return _oauth_error("invalid_grant")
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client.client_id, "sub": data["localpart"],
                  "preferred_username": data["localpart"], "nonce": data["nonce"],
                  "iat": now, "exp": now + ID_TOKEN_SECONDS, "auth_time": data["auth_time"],
                  "acr": REQUIRED_ACR, "amr": ["psc"]}
        id_token = jwt.encode({"alg": "RS256", "kid": self._kid}, claims, self._key)
        response = web.json_response({"access_token": secrets.token_urlsafe(24),
                                      "token_type": "Bearer", "expires_in": ID_TOKEN_SECONDS,
                                      "id_token": id_token})
        response.headers["Cache-Control"] = "no-store"
        return response

    async def jwks(self, request: web.Request) -> web.Response:
        public = self._key.as_dict(private=False)
        public.update(use="sig", alg="RS256", kid=self._kid)
        return web.json_response({"keys": [public]})

    async def discovery(self, request: web.Request) -> web.Response:
        """Standard discovery, for operators and tools (Synapse is configured explicitly)."""
        base = self.issuer.rsplit("/sso", 1)[0]
        return web.json_response({
            "issuer": self.issuer, "authorization_endpoint": self._urls["authorize"],
            "token_endpoint": base + self._urls["token"], "jwks_uri": base + self._urls["jwks"],
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"], "scopes_supported": ["openid"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
        })

    def _client_ok(self, header: str, form) -> bool:
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:], validate=True).decode()
            except (ValueError, UnicodeDecodeError):
                return False
            user, _, password = (urllib.parse.unquote_plus(p) for p in decoded.partition(":"))
        else:
            user, password = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        # Both compared, always: no early exit that would time the client id.
        return _same(user, self.client.client_id) & _same(password, self.client.client_secret)


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _oauth_error(code: str, status: int = 400) -> web.Response:
    return web.json_response({"error": code}, status=status,
                             headers={"Cache-Control": "no-store"})
