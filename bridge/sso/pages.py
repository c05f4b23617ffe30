"""The browser side of "Se connecter avec Pro Santé Connect".

`GET /sso/authorize` (Synapse sent the browser): check the request is Synapse's, open a PSC
session (state, nonce, PKCE verifier in a one-time token; a random value in an HttpOnly cookie
binds it to this browser) and go to PSC. `GET /sso/psc/callback`: spend the state, check the
cookie, validate PSC's answer with the verification path's own code, find the account linked
to the national identifier, and either hand Synapse a code or say in French why not.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta
from html import escape

from aiohttp import web
from sqlalchemy import select

from bridge.accounts.states import State
from bridge.accounts.models import Account
from bridge.identity.psc import PscError, ProSanteConnect, pkce_pair
from bridge.sso.provider import AuthorizationError, AuthorizationRequest, Provider
from bridge.verification import tokens
from bridge.verification.service import VerificationService
from bridge.web.ratelimit import RateLimiter, client_ip
from bridge.web.templating import render

log = logging.getLogger(__name__)

STATE_PURPOSE = "sso_psc_state"
STATE_TTL = timedelta(minutes=10)
COOKIE = "confrere_sso"
SIGNUP_WITH_PSC = "/psc/signup"


def page(title: str, body_html: str, status: int) -> web.Response:
    """`body_html` is built here with every dynamic part escaped."""
    return render("notice.html", status=status, title=title, body_html=body_html)


def _text(value: str) -> str:
    return escape(value, quote=False)


class SsoPages:
    def __init__(self, psc: ProSanteConnect, provider: Provider,
                 verification: VerificationService, secure_cookies: bool,
                 limiter: RateLimiter, starts_per_hour: int,
                 trust_forwarded_for: bool = False) -> None:
        self.psc = psc
        self.provider = provider
        self.verification = verification
        self.secure_cookies = secure_cookies
        # Each start stores a session: bounded per address (a whole ward may share one).
        self.limiter = limiter
        self.starts_per_hour = starts_per_hour
        self.trust_forwarded_for = trust_forwarded_for

    def routes(self, authorize_path: str, callback_path: str) -> list[web.RouteDef]:
        self._cookie_path = authorize_path.rsplit("/", 1)[0] + "/"
        return [web.get(authorize_path, self.authorize), web.get(callback_path, self.callback)]

    async def authorize(self, request: web.Request) -> web.Response:
        try:
            wanted = AuthorizationRequest.parse(request.query, self.provider.client)
        except AuthorizationError as exc:
            return page("Demande de connexion invalide",
                        "<p>Cette demande de connexion ne vient pas de votre serveur Matrix "
                        f"({_text(str(exc))}). Recommencez depuis votre application.</p>"
                        "<p lang=\"en\">This login request did not come from your Matrix "
                        "server. Start again from your app.</p>", 400)
        ip = client_ip(request, self.trust_forwarded_for)
        async with self.verification.db.session() as db, db.begin():
            allowed = await self.limiter.allow(db, "sso-start-ip", ip, self.starts_per_hour)
        if not allowed:
            return page("Trop de connexions",
                        "<p>Trop de connexions ont été commencées depuis votre adresse. "
                        "Réessayez dans un moment.</p><p lang=\"en\">Too many logins started "
                        "from your address; try again in a while.</p>", 429)
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(24)
        binding = secrets.token_urlsafe(32)
        state = await tokens.issue(self.verification.db, STATE_PURPOSE, None, STATE_TTL, {
            "nonce": nonce, "code_verifier": verifier, "binding": _digest(binding),
            "synapse": wanted.as_data()})
        try:
            target = await self.psc.authorization_url(state, nonce, challenge)
        except PscError as exc:
            return page("Pro Santé Connect indisponible", f"<p>{_text(exc.reason_fr)}</p>", 503)
        response = web.Response(status=302, headers={"Location": target})
        response.set_cookie(COOKIE, binding, max_age=int(STATE_TTL.total_seconds()),
                            path=self._cookie_path, httponly=True, samesite="Lax",
                            secure=self.secure_cookies)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def callback(self, request: web.Request) -> web.Response:
        session = await tokens.consume(self.verification.db, STATE_PURPOSE,
                                       request.query.get("state", ""))
        cookie = request.cookies.get(COOKIE, "")
        if session is None or not cookie or not hmac.compare_digest(
                _digest(cookie), str(session.data.get("binding", ""))):
            return page("Session inconnue ou expirée",
                        "<p>Cette réponse de Pro Santé Connect ne correspond à aucune connexion "
                        "ouverte dans ce navigateur (déjà utilisée, expirée ou venue d'ailleurs)."
                        " Recommencez depuis votre application Matrix.</p>"
                        "<p lang=\"en\">This answer matches no login started in this browser. "
                        "Start again from your Matrix app.</p>", 400)
        if "error" in request.query or not request.query.get("code"):
            return self._forget(page(
                "Connexion interrompue",
                "<p>La connexion à Pro Santé Connect n'a pas abouti. Recommencez depuis votre "
                "application Matrix.</p><p lang=\"en\">The Pro Santé Connect login did not "
                "complete. Start again from your Matrix app.</p>", 400))
        try:
            proven, _, _ = await self.psc.complete(
                request.query["code"], session.data["code_verifier"], session.data["nonce"])
        except PscError as exc:
            log.warning("Pro Santé Connect login refused: %s", exc)
            return self._forget(page("Connexion refusée", f"<p>{_text(exc.reason_fr)}</p>"
                                     "<p lang=\"en\">Login refused.</p>", 400))
        refusal, account = await self._account_for(proven.national_id)
        if refusal is not None:
            return self._forget(refusal)
        wanted = AuthorizationRequest(**session.data["synapse"])
        localpart = account.user_id[1:].split(":", 1)[0]
        answer = await self.provider.issue_code(wanted, account.user_id, localpart)
        log.info("Pro Santé Connect login accepted for %s", account.user_id)
        return self._forget(_form_post(self.provider.client.redirect_uri, answer))

    async def _account_for(self, national_id: str) -> tuple[web.Response | None, Account | None]:
        """The one verified account linked to `national_id`, or the page that says why not."""
        async with self.verification.db.session() as db:
            accounts = list((await db.execute(
                select(Account).where(Account.national_id == national_id))).scalars().all())
        verified = [a for a in accounts if a.verification_state == State.VERIFIED]
        if len(verified) == 1:
            return None, verified[0]
        if len(verified) > 1:  # never guess between two accounts: fail closed
            log.warning("Pro Santé Connect login: several verified accounts share an identifier")
            return page("Connexion impossible",
                        "<p>Plusieurs comptes sont liés à votre identifiant national ; "
                        "contactez l'administrateur de votre serveur Confrère.</p>"
                        "<p lang=\"en\">Several accounts are linked to your national "
                        "identifier; contact your Confrère administrator.</p>", 409), None
        revoked = [a for a in accounts if a.verification_state == State.REVOKED]
        if revoked:
            reason = await self._revocation_reason(revoked[-1].user_id)
            return page("Compte révoqué",
                        "<p>Votre compte Confrère a été révoqué : la connexion est refusée.</p>"
                        f"<p>Motif : {_text(reason)}</p>"
                        "<p>Pour en discuter, contactez l'administrateur de votre serveur.</p>"
                        "<p lang=\"en\">Your Confrère account was revoked; login refused "
                        f"(reason: {_text(reason)}).</p>", 403), None
        return page("Aucun compte Confrère pour cette identité",
                    "<p>Pro Santé Connect a bien confirmé votre identité, mais aucun compte "
                    "Confrère vérifié n'y est lié. Aucun compte n'a été créé.</p>"
                    f'<p><a class="button" href="{SIGNUP_WITH_PSC}">S\'inscrire avec Pro Santé '
                    "Connect</a> — le formulaire sera prérempli avec votre identité.</p>"
                    "<p>Vous avez déjà un compte ? Connectez-vous avec votre mot de passe et "
                    "faites vérifier votre identité par le robot Confrère "
                    "(<code>!verifier</code>).</p>"
                    "<p lang=\"en\">No verified Confrère account is linked to this identity and "
                    "none was created. Sign up with Pro Santé Connect, or log in with your "
                    "password and verify your identity with the Confrère bot.</p>", 404), None

    async def _revocation_reason(self, user_id: str) -> str:
        entries = await self.verification.audit(user_id)
        reasons = [e.reason for e in entries if e.action == "revoked" and e.reason]
        return reasons[-1] if reasons else "non précisé"

    def _forget(self, response: web.StreamResponse) -> web.StreamResponse:
        """The binding cookie served its one use."""
        response.del_cookie(COOKIE, path=self._cookie_path)
        return response


def _form_post(action: str, fields: dict) -> web.Response:
    """OAuth 2.0 Form Post Response Mode: a form the browser submits to Synapse at once (a
    button without JavaScript). Its own CSP allows this one script; no `form-action`, which
    browsers also apply to Synapse's redirect on to the client's address."""
    nonce = secrets.token_urlsafe(16)
    inputs = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
                     for k, v in fields.items())
    body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8">'
            f"<title>Connexion en cours…</title></head><body>"
            f'<form method="post" action="{escape(action)}">{inputs}'
            f"<p>Connexion à votre serveur Matrix… <button>Continuer</button></p></form>"
            f'<script nonce="{nonce}">document.forms[0].submit();</script></body></html>')
    response = web.Response(text=body, content_type="text/html", charset="utf-8")
    response.headers.update({
        "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (f"default-src 'none'; script-src 'nonce-{nonce}'; "
                                    "frame-ancestors 'none'; "
                                    "base-uri 'none'")})
    return response


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()
