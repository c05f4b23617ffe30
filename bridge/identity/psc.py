"""Pro Santé Connect, the OpenID Connect provider of the ANS, as a relying party.

Facts that shape this code (reference/identity.md): discovery at the non-standard
`{issuer}/.well-known/wallet-openid-configuration`; `scope=openid scope_all`,
`acr_values=eidas1`, state + nonce + PKCE S256; id_tokens signed HS256 with the client secret
or RS256/ES256 from the JWKS (`none` refused); userinfo as JSON or as a signed JWT; the
national identifier is `SubjectNameID`, not `sub`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass

import aiohttp
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, OctKey

from bridge.identity.matching import ProvenIdentity

# The bot hands out a single-use link (purpose LINK_PURPOSE) to START_PATH, served by web/psc.py.
LINK_PURPOSE = "psc_link"
START_PATH = "/verification/psc"

ASYMMETRIC = ("RS256", "ES256")
ALLOWED_ALGS = ASYMMETRIC + ("HS256",)
REQUIRED_ACR = "eidas1"


class PscError(Exception):
    """The provider's answer cannot be trusted; `reason_fr` is shown to the practitioner."""

    def __init__(self, reason_fr: str, detail: str = "") -> None:
        super().__init__(detail or reason_fr)
        self.reason_fr = reason_fr


@dataclass(frozen=True)
class PscClientConfig:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    discovery_url: str = ""
    scope: str = "openid scope_all"

    @property
    def discovery(self) -> str:
        return self.discovery_url or (
            self.issuer.rstrip("/") + "/.well-known/wallet-openid-configuration")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


class ProSanteConnect:
    def __init__(self, config: PscClientConfig, http: aiohttp.ClientSession) -> None:
        self.config = config
        self._http = http
        self._metadata: dict | None = None
        self._jwks: dict | None = None

    async def metadata(self) -> dict:
        if self._metadata is None:
            async with self._http.get(self.config.discovery) as response:
                if response.status != 200:
                    raise PscError("Pro Santé Connect est indisponible pour le moment.",
                                   f"discovery answered {response.status}")
                self._metadata = await response.json(content_type=None)
        return self._metadata

    async def authorization_url(self, state: str, nonce: str, code_challenge: str) -> str:
        endpoint = (await self.metadata())["authorization_endpoint"]
        query = urllib.parse.urlencode({
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri, "scope": self.config.scope,
            "acr_values": REQUIRED_ACR, "state": state, "nonce": nonce,
            "code_challenge": code_challenge, "code_challenge_method": "S256",
        })
        return f"{endpoint}?{query}"

    async def exchange_code(self, code: str, code_verifier: str) -> dict:
        endpoint = (await self.metadata())["token_endpoint"]
        async with self._http.post(endpoint, headers={"Authorization": self._basic_auth()}, data={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.config.redirect_uri, "code_verifier": code_verifier,
        }) as response:
            body = await response.json(content_type=None)
            if response.status != 200 or "id_token" not in body:
                raise PscError("Pro Santé Connect a refusé la connexion ; recommencez.",
                               f"token endpoint answered {response.status}")
            return body

    def _basic_auth(self) -> str:
        """client_secret_basic (RFC 6749 §2.3.1: each part form-encoded, then base64)."""
        pair = (urllib.parse.quote(self.config.client_id, safe="") + ":"
                + urllib.parse.quote(self.config.client_secret, safe=""))
        return "Basic " + base64.b64encode(pair.encode()).decode()

    async def validate_id_token(self, id_token: str, nonce: str) -> dict:
        """Signature, issuer, audience, expiry, nonce and `acr == eidas1`, or PscError."""
        claims = await self._decode(id_token, {
            "iss": {"essential": True, "value": (await self.metadata()).get("issuer",
                                                                           self.config.issuer)},
            "aud": {"essential": True, "value": self.config.client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
            "acr": {"essential": True, "value": REQUIRED_ACR},
        })
        return claims

    async def complete(self, code: str, code_verifier: str,
                       nonce: str) -> tuple[ProvenIdentity, dict, dict]:
        """The whole return from PSC, as both the verification and the login use it: the code
        exchanged, the id_token validated (nonce), the userinfo read; raises PscError.
        Returns (proven identity, userinfo, id_token claims)."""
        answer = await self.exchange_code(code, code_verifier)
        claims = await self.validate_id_token(answer["id_token"], nonce)
        info = await self.userinfo(answer["access_token"], claims["sub"])
        return proven_identity(info), info, claims

    async def userinfo(self, access_token: str, expected_sub: str) -> dict:
        endpoint = (await self.metadata())["userinfo_endpoint"]
        async with self._http.get(
                endpoint, headers={"Authorization": f"Bearer {access_token}"}) as response:
            if response.status != 200:
                raise PscError("Pro Santé Connect n'a pas fourni votre identité ; recommencez.",
                               f"userinfo answered {response.status}")
            if response.content_type == "application/jwt":
                info = await self._decode((await response.text()).strip(), {})
            else:
                info = await response.json(content_type=None)
        if not isinstance(info, dict) or info.get("sub") != expected_sub:
            raise PscError("Réponse incohérente de Pro Santé Connect ; recommencez.",
                           "userinfo subject differs from the id_token")
        return dict(info)

    async def _decode(self, token: str, options: dict) -> dict:
        alg = _header_alg(token)
        if alg not in ALLOWED_ALGS:
            raise PscError("Jeton d'identité refusé.", f"algorithm {alg!r} not accepted")
        try:
            key = (OctKey.import_key(self.config.client_secret.encode()) if alg == "HS256"
                   else await self._keys())
            claims = jwt.decode(token, key, algorithms=[alg]).claims
            jwt.JWTClaimsRegistry(now=int(time.time()), leeway=30, **options).validate(claims)
        except (JoseError, ValueError, TypeError) as exc:
            raise PscError("Jeton d'identité refusé.", f"{type(exc).__name__}: {exc}") from exc
        return dict(claims)

    async def _keys(self) -> KeySet:
        if self._jwks is None:
            async with self._http.get((await self.metadata())["jwks_uri"]) as response:
                self._jwks = await response.json(content_type=None)
        return KeySet.import_key_set(self._jwks)


def _header_alg(token: str) -> str | None:
    try:
        header = token.split(".")[0]
        decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        return decoded.get("alg") if isinstance(decoded, dict) else None
    except (ValueError, IndexError, UnicodeDecodeError):
        return None


def proven_identity(userinfo: dict) -> ProvenIdentity:
    """Names and identifier vouched for by PSC: civil names and every exercise's names."""
    national_id = str(userinfo.get("SubjectNameID") or "").strip()
    if not national_id:
        raise PscError("Pro Santé Connect n'a pas transmis votre identifiant national.",
                       "SubjectNameID missing")
    names = [(str(userinfo.get("given_name", "")), str(userinfo.get("family_name", "")))]
    exercices = (userinfo.get("SubjectRefPro") or {}).get("exercices") or []
    for exercice in exercices:
        if isinstance(exercice, dict):
            names.append((str(exercice.get("prenomDexercice", "")),
                          str(exercice.get("nomDexercice", ""))))
    first = exercices[0] if exercices and isinstance(exercices[0], dict) else {}
    return ProvenIdentity(
        national_id=national_id, names=tuple(names), source="Pro Santé Connect",
        profession_code=str(first.get("codeProfession", "")),
        specialty_code=str(first.get("codeSavoirFaire", "")),
    )
