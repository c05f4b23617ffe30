"""A Pro Santé Connect simulator: an OpenID provider with PSC's endpoints and claims.

Same discovery path (`/.well-known/wallet-openid-configuration` under the realm), a separate
authorization path (PSC's is on another host), Keycloak-style token/userinfo/certs, `acr`
`eidas1`, PKCE S256, client secret (basic or post), id_tokens RS256 (or HS256), userinfo as
JSON or JWT, and a page to pick a test identity. `tamper` lets tests ask for a forged token.
It answers every Confrère flow the same way: verification (`/verification/psc/callback`),
signup (`/psc/signup`) and the Matrix login button (`/sso/psc/callback`, bridge/sso/), so
`confrere up` shows all three with no network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from bridge.identity import psc_hints

REALM = "/auth/realms/esante-wallet"
AUTHORIZE = "/wallet/auth"
STYLE = Path(__file__).resolve().parents[1] / "web" / "static" / "confrere.css"
def test_identity(national_id: str, first: str, last: str, *, profession: str = "10",
                  specialty: str = "SM54", city: str = "75015 PARIS", postcode: str = "75015",
                  civilite: str = "M") -> dict:
    """Userinfo claims shaped like PSC's (scope_all)."""
    return {
        "SubjectNameID": national_id, "preferred_username": national_id,
        "given_name": first, "family_name": last, "codeCivilite": civilite,
        "SubjectOrganization": f"CABINET {last}", "SubjectOrganizationID": "R00001",
        "SubjectRole": [f"{profession}^1.2.250.1.213.1.1.5.5"],
        "Secteur_Activite": "SA07^1.2.250.1.71.4.2.4",
        "otherIds": [{"identifiant": national_id[1:], "origine": "RPPS", "qualite": 1}],
        "SubjectRefPro": {"exercices": [{
            "codeProfession": profession, "codeCategorieProfessionnelle": "C",
            "nomDexercice": last.upper(), "prenomDexercice": first, "codeSavoirFaire": specialty,
            "activities": [{"codeModeExercice": "L", "raisonSocialeSite": f"CABINET {last}",
                            "codePostal": postcode, "bureauCedex": city, "telephone": ""}],
        }]},
    }


DEFAULT_IDENTITIES = [
    test_identity("810001045367", "Camille", "Bernard"),
    test_identity("810002813839", "Isabelle", "Donnat-Gady", specialty="SM04",
                  city="59500 DOUAI", postcode="59500", civilite="MME"),
    test_identity("899700771191", "Jean", "Testeur", profession="60", specialty=""),
]


@dataclass
class PscSimulator:
    """Serve with `app()`; `base_url` must be set to where it listens before use."""

    client_id: str
    client_secret: str
    base_url: str = ""
    identities: list[dict] = field(default_factory=lambda: list(DEFAULT_IDENTITIES))
    signing: str = "RS256"  # or HS256
    userinfo_as_jwt: bool = False
    tamper: str | None = None  # expired | wrong_aud | wrong_iss | wrong_nonce | wrong_acr | alg_none | bad_signature
    _codes: dict = field(default_factory=dict)
    _tokens: dict = field(default_factory=dict)
    hints: dict = field(default_factory=dict)  # state -> identity the account expects

    def __post_init__(self) -> None:
        self._kid = secrets.token_hex(4)
        self._key = RSAKey.generate_key(2048, parameters={"kid": self._kid}, private=True)

    @property
    def issuer(self) -> str:
        return self.base_url.rstrip("/") + REALM

    def app(self) -> web.Application:
        self.hints = psc_hints.listen(self.issuer)
        app = web.Application()
        app.add_routes([
            web.get("/static/confrere.css", self.style),
            web.get(REALM + "/.well-known/wallet-openid-configuration", self.discovery),
            web.get(AUTHORIZE, self.authorize_page),
            web.post(AUTHORIZE, self.authorize_submit),
            web.post(REALM + "/protocol/openid-connect/token", self.token),
            web.get(REALM + "/protocol/openid-connect/userinfo", self.userinfo),
            web.get(REALM + "/protocol/openid-connect/certs", self.certs),
        ])
        return app

    async def discovery(self, request: web.Request) -> web.Response:
        base = self.issuer + "/protocol/openid-connect"
        return web.json_response({
            "issuer": self.issuer,
            "authorization_endpoint": self.base_url.rstrip("/") + AUTHORIZE,
            "token_endpoint": base + "/token", "userinfo_endpoint": base + "/userinfo",
            "jwks_uri": base + "/certs", "response_types_supported": ["code"],
            "scopes_supported": ["openid", "scope_all"], "acr_values_supported": ["eidas1"],
            "id_token_signing_alg_values_supported": ["RS256", "ES256", "HS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
        })

    async def authorize_page(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("client_id") != self.client_id or query.get("response_type") != "code":
            return web.Response(status=400, text="client_id ou response_type invalide")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return web.Response(status=400, text="PKCE S256 obligatoire")
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
                         for k, v in query.items())
        choices = "".join(
            f'<li><button class="button" name="identity" value="{i}">'
            f'{html.escape(p["given_name"])} '
            f'{html.escape(p["family_name"])} — {html.escape(p["SubjectNameID"])}</button></li>'
            for i, p in enumerate(self.identities))
        hint = self.hints.get(query.get("state", ""))
        expected = ""
        if hint is not None:
            who = html.escape(f"{hint['first']} {hint['last'].upper()}".strip())
            number = html.escape(hint["identifier"] or "aucun numéro déclaré")
            expected = (f'<p class="notice"><strong>Identité attendue par le compte :</strong> '
                        f"{who} — RPPS/ADELI déclaré : {number}. Une autre identité sera "
                        "refusée (c'est voulu : utile pour tester le refus).</p>")
        page = f"""<!doctype html><html lang="fr"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/confrere.css">
<title>Pro Santé Connect (simulateur)</title></head><body>
<header class="site"><span class="brand">Pro Santé Connect</span>
<span class="tagline">Simulateur de développement — aucune donnée réelle</span></header>
<main>
<h1>Pro Santé Connect — simulateur de développement</h1>
<p>Choisissez l'identité de test avec laquelle vous connecter (e-CPS simulée).</p>
{expected}
<form method="post">{hidden}<ul class="identities">{choices}</ul>
<fieldset><legend>Ou une identité personnalisée</legend>
<div class="field"><label for="given_name">Prénom</label>
<input id="given_name" name="given_name"></div>
<div class="field"><label for="family_name">Nom</label>
<input id="family_name" name="family_name"></div>
<div class="field"><label for="national_id">Identifiant national (8 + RPPS)</label>
<input id="national_id" name="national_id"></div>
<button class="button" name="identity" value="custom">Se connecter</button></fieldset>
</form></main></body></html>"""
        return web.Response(text=page, content_type="text/html")

    async def style(self, request: web.Request) -> web.FileResponse:
        """The site's style sheet, so that the simulator looks like the pages around it."""
        return web.FileResponse(STYLE)

    async def authorize_submit(self, request: web.Request) -> web.Response:
        form = await request.post()
        choice = str(form.get("identity", ""))
        if choice == "custom":
            identity = test_identity(str(form.get("national_id", "")),
                                     str(form.get("given_name", "")),
                                     str(form.get("family_name", "")))
        elif choice.isdigit() and int(choice) < len(self.identities):
            identity = self.identities[int(choice)]
        else:
            return web.Response(status=400, text="identité inconnue")
        code = secrets.token_urlsafe(24)
        self._codes[code] = {
            "identity": identity, "redirect_uri": str(form.get("redirect_uri", "")),
            "nonce": str(form.get("nonce", "")), "challenge": str(form.get("code_challenge", "")),
            "expires": time.time() + 60,
        }
        target = str(form.get("redirect_uri", ""))
        query = urllib.parse.urlencode({"code": code, "state": str(form.get("state", ""))})
        raise web.HTTPFound(f"{target}{'&' if '?' in target else '?'}{query}")

    def _client_ok(self, request: web.Request, form) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            decoded = base64.b64decode(header[6:]).decode()
            user, _, password = (urllib.parse.unquote(p) for p in decoded.partition(":"))
        else:
            user, password = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        return (hmac.compare_digest(user.encode(), self.client_id.encode())
                and hmac.compare_digest(password.encode(), self.client_secret.encode()))

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if not self._client_ok(request, form):
            return web.json_response({"error": "invalid_client"}, status=401)
        grant = self._codes.pop(str(form.get("code", "")), None)
        if grant is None or grant["expires"] < time.time():
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge.rstrip(b"=").decode() != grant["challenge"] or \
                form.get("redirect_uri") != grant["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        identity = grant["identity"]
        sub = f"f:{secrets.token_hex(8)}:{identity['SubjectNameID']}"
        access_token = secrets.token_urlsafe(24)
        self._tokens[access_token] = {"sub": sub, **identity}
        return web.json_response({
            "access_token": access_token, "token_type": "Bearer", "expires_in": 120,
            "id_token": self._id_token(sub, grant["nonce"]),
        })

    def _id_token(self, sub: str, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": sub, "iat": now,
                  "exp": now + 120, "nonce": nonce, "acr": "eidas1", "auth_time": now}
        tamper = self.tamper
        if tamper == "expired":
            claims.update(iat=now - 900, exp=now - 600)
        elif tamper == "wrong_aud":
            claims["aud"] = "another-client"
        elif tamper == "wrong_iss":
            claims["iss"] = "https://evil.example/auth/realms/esante-wallet"
        elif tamper == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        elif tamper == "wrong_acr":
            claims["acr"] = "eidas0"
        if tamper == "alg_none":
            segments = [base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
                        for part in ({"alg": "none", "typ": "JWT"}, claims)]
            return ".".join(segments) + "."
        return self._sign(claims, tamper == "bad_signature")

    def _sign(self, claims: dict, forge: bool = False) -> str:
        if self.signing == "HS256":
            secret = (b"forged-" if forge else b"") + self.client_secret.encode()
            return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(secret))
        key = RSAKey.generate_key(2048, private=True) if forge else self._key
        return jwt.encode({"alg": "RS256", "kid": self._kid}, claims, key)

    async def userinfo(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        info = self._tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if info is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        if self.userinfo_as_jwt:
            claims = {"iss": self.issuer, "aud": self.client_id, **info}
            return web.Response(text=self._sign(claims), content_type="application/jwt")
        return web.json_response(info)

    async def certs(self, request: web.Request) -> web.Response:
        public = self._key.as_dict(private=False)
        public.update(use="sig", alg="RS256", kid=self._kid)
        return web.json_response({"keys": [public]})
