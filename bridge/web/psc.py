"""Pro Santé Connect pages: the one-time link from the bot, and the provider's callback.

`GET /verification/psc?t=<link>` only shows a button (mail scanners and link previews open
links too); the button's `POST` (CSRF-checked) spends the link (single use, bound to one
account), opens an OIDC session (state, nonce, PKCE verifier kept server-side under the hashed
state) and redirects to PSC. `GET /verification/psc/callback` spends the state, validates
everything, compares the proven identity with the account, decides, and says so in French.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from bridge.accounts.states import Method
from bridge.identity.psc_hints import hint_expected
from bridge.identity.matching import match_account
from bridge.identity.psc import (
    LINK_PURPOSE,
    START_PATH,
    ProSanteConnect,
    PscError,
    pkce_pair,
)
from bridge.verification import proofs, tokens
from bridge.web.csrf import Csrf
from bridge.web.ratelimit import RateLimiter, client_ip
from bridge.web.sealed import Sealer
from bridge.web.templating import render
from bridge.verification.service import (
    TAKEN_EN,
    TAKEN_FR,
    NationalIdTaken,
    VerificationService,
)

log = logging.getLogger(__name__)

STATE_PURPOSE = "psc_state"
SIGNUP_PATH = "/psc/signup"
CALLBACK_PATH = "/verification/psc/callback"
# Signup through PSC: the proven identity waits server-side (`verification/proofs.py`); the
# sealed cookie carries only the id of that single-use proof.
SIGNUP_COOKIE = "confrere_psc"
SIGNUP_COOKIE_AGE = 1800


def signup_sealer(web_secret: str) -> Sealer:
    return Sealer(web_secret, "psc-signup")


LINK_FORM = "psc-link"
SPENT_TITLE = "Lien expiré ou déjà utilisé"
SPENT_HTML = ("<p>Ce lien de vérification n'est plus valable : il ne sert qu'une fois et expire "
              "après quelques minutes. Demandez-en un nouveau au robot Confrère en lui écrivant "
              "<code>!verifier</code>.</p><p lang=\"en\">This verification link is no longer "
              "valid: ask the Confrère bot for a new one with <code>!verify</code>.</p>")


def page(title: str, body_html: str, status: int = 200) -> web.Response:
    """A result page; `body_html` is built here with every dynamic part escaped."""
    return render("notice.html", status=status, title=title, body_html=body_html)


def taken_page() -> web.Response:
    """A second account for an identity that already has one: refused, both languages."""
    return page("Identité déjà liée à un compte",
                f"<p>Vérification refusée : {escape(TAKEN_FR, quote=False)}.</p>"
                f'<p lang="en">Verification refused: {escape(TAKEN_EN, quote=False)}.</p>',
                status=409)


class PscPages:
    def __init__(self, psc: ProSanteConnect, verification: VerificationService,
                 web_secret: str = "", secure_cookies: bool = False, *,
                 signups_per_ip_per_hour: int = 20, trust_forwarded_for: bool = False) -> None:
        self.psc = psc
        self.verification = verification
        self.sealer = signup_sealer(web_secret) if web_secret else None
        self.secure_cookies = secure_cookies
        # the signup button is unauthenticated: each press stores an OIDC session, so a
        # client address may start only so many per hour
        self.limiter = RateLimiter(web_secret) if web_secret else None
        self.signups_per_ip_per_hour = signups_per_ip_per_hour
        self.trust_forwarded_for = trust_forwarded_for
        # without the installation's secret (unit tests), a per-process one: forms then
        # simply do not survive a restart
        self.csrf = Csrf(web_secret or secrets.token_urlsafe(32), verification.db,
                         secure=secure_cookies)

    def routes(self) -> list[web.RouteDef]:
        routes = [web.get(START_PATH, self.start_page), web.post(START_PATH, self.start),
                  web.get(CALLBACK_PATH, self.callback)]
        if self.sealer is not None:
            routes.append(web.get(SIGNUP_PATH, self.signup_start))
        return routes

    async def signup_start(self, request: web.Request) -> web.Response:
        """The signup page's button: prove the identity first, then fill the form."""
        assert self.limiter is not None
        ip = client_ip(request, self.trust_forwarded_for)
        async with self.verification.db.session() as session:
            allowed = await self.limiter.allow(session, "psc-signup-ip", ip,
                                               self.signups_per_ip_per_hour)
            await session.commit()
        if not allowed:
            return page("Trop de demandes", "<p>Trop de connexions Pro Santé Connect depuis "
                        "votre connexion : réessayez dans une heure.</p>"
                        '<p lang="en">Too many Pro Santé Connect logins from your address: '
                        "try again in an hour.</p>", status=429)
        return await self._redirect_to_psc(None, {"flow": "signup"})

    async def start_page(self, request: web.Request) -> web.Response:
        """Opening the bot's link: a button, nothing spent (previews and scanners open it)."""
        link = request.query.get("t", "")
        found = await tokens.peek(self.verification.db, LINK_PURPOSE, link)
        if found is None or not found.user_id:
            return page(SPENT_TITLE, SPENT_HTML, status=410)
        browser_key, new = self.csrf.browser_key(request)
        response = render("psc_start.html", title="Vérifier votre identité", action=START_PATH,
                          link=link, csrf=self.csrf.issue(browser_key, LINK_FORM))
        if new:
            self.csrf.set_cookie(response, browser_key)
        # the button's answer redirects to Pro Santé Connect: browsers hold a form's redirects
        # to `form-action` too, so this page names PSC's origin there
        origin = await self._psc_origin()
        if origin:
            response.headers["Content-Security-Policy"] = response.headers[
                "Content-Security-Policy"].replace("form-action 'self'",
                                                   f"form-action 'self' {origin}")
        return response

    async def _psc_origin(self) -> str:
        try:
            endpoint = (await self.psc.metadata())["authorization_endpoint"]
        except Exception:  # noqa: BLE001 - PSC away: the button's answer will say so
            return ""
        parts = urlsplit(endpoint)
        origin = f"{parts.scheme}://{parts.netloc}"
        safe = parts.scheme in ("https", "http") and not any(c in origin for c in " ;,'\"")
        return origin if safe else ""

    async def start(self, request: web.Request) -> web.Response:
        """The button: spends the link (CSRF-checked, once) and goes to Pro Santé Connect."""
        data = await request.post()
        problem = await self.csrf.check(request, data, LINK_FORM)
        if problem:
            return page("Formulaire expiré", f"<p>{escape(problem, quote=False)} Si le lien ne "
                        "marche plus, écrivez <code>!verifier</code> au robot Confrère.</p>",
                        status=403)
        link = await tokens.consume(self.verification.db, LINK_PURPOSE, str(data.get("t", "")))
        if link is None or not link.user_id:
            return page(SPENT_TITLE, SPENT_HTML, status=410)
        return await self._redirect_to_psc(link.user_id, {})

    async def _redirect_to_psc(self, user_id: str | None, extra: dict) -> web.Response:
        verifier, challenge = pkce_pair()
        nonce = secrets.token_urlsafe(24)
        state = await tokens.issue(self.verification.db, STATE_PURPOSE, user_id,
                                   timedelta(minutes=10),
                                   {"nonce": nonce, "code_verifier": verifier, **extra})
        if user_id is not None:
            await self._hint_simulator(user_id, state)
        try:
            target = await self.psc.authorization_url(state, nonce, challenge)
        except PscError as exc:
            return page("Pro Santé Connect indisponible", f"<p>{escape(exc.reason_fr, quote=False)}</p>", 503)
        raise web.HTTPFound(target)

    async def _hint_simulator(self, user_id: str, state: str) -> None:
        """The development simulator (only) shows which identity this account expects."""
        config = getattr(self.psc, "config", None)
        account = await self.verification.account(user_id)
        if config is not None and account is not None:
            hint_expected(config.issuer, state, account.first_name, account.last_name,
                          account.declared_identifier or "")

    async def _continue_signup(self, proven, info: dict, claims: dict) -> web.Response:
        """Record the proven identity as a single-use proof; the browser gets only its id,
        sealed in a short-lived cookie, and the form spends it with the account's creation."""
        assert self.sealer is not None
        holder = await self.verification.holder_of(proven.national_id)
        if holder is not None:
            await self.verification.report_conflict(
                None, Method.PSC, "Pro Santé Connect (inscription)", proven.national_id, holder,
                {"attempt": "signup", "sub": claims.get("sub")})
            return taken_page()
        proof_id = await proofs.record(
            self.verification.db, "psc", proven.national_id, str(info.get("given_name", "")),
            str(info.get("family_name", "")), timedelta(seconds=SIGNUP_COOKIE_AGE),
            {"sub": claims.get("sub"), "acr": claims.get("acr")})
        response = web.Response(status=303, headers={"Location": "/signup"})
        response.set_cookie(SIGNUP_COOKIE, self.sealer.seal({"proof": proof_id},
                                                            SIGNUP_COOKIE_AGE),
                            max_age=SIGNUP_COOKIE_AGE, path="/", httponly=True, samesite="Lax",
                            secure=self.secure_cookies)
        return response

    async def callback(self, request: web.Request) -> web.Response:
        session = await tokens.consume(self.verification.db, STATE_PURPOSE,
                                       request.query.get("state", ""))
        signup = session is not None and session.data.get("flow") == "signup"
        if session is None or not (session.user_id or signup):
            return page("Session inconnue ou expirée",
                        "<p>Cette réponse de Pro Santé Connect ne correspond à aucune demande en "
                        "cours (déjà utilisée, expirée ou venue d'ailleurs). Recommencez depuis "
                        "le robot Confrère avec <code>!verifier</code>.</p>", status=400)
        user_id = session.user_id
        if "error" in request.query or not request.query.get("code"):
            return page("Connexion interrompue",
                        "<p>La connexion à Pro Santé Connect n'a pas abouti. Vous pouvez "
                        "recommencer avec <code>!verifier</code>.</p>", status=400)
        try:
            proven, info, claims = await self.psc.complete(
                request.query["code"], session.data["code_verifier"], session.data["nonce"])
        except PscError as exc:
            log.warning("Pro Santé Connect answer refused: %s", exc)
            return page("Vérification impossible", f"<p>{escape(exc.reason_fr, quote=False)}</p>", 400)
        if signup:
            return await self._continue_signup(proven, info, claims)
        account = await self.verification.account(user_id)
        if account is None:
            return page("Compte introuvable", "<p>Aucun compte Confrère pour cette demande.</p>",
                        404)
        evidence = {"provider": "psc", "national_id": proven.national_id, "sub": claims["sub"],
                    "acr": claims.get("acr"), "profession": proven.profession_code}
        result = match_account(account.first_name, account.last_name,
                               account.declared_identifier, proven)
        if not result.ok:
            await self.verification.refuse(user_id, Method.PSC, "Pro Santé Connect", result.reason_fr,
                                           evidence=evidence)
            return page("Identité non confirmée",
                        f"<p>La vérification est refusée : {escape(result.reason_fr, quote=False)}.</p>"
                        "<p>Si c'est une erreur, demandez une vérification manuelle au robot "
                        "Confrère : <code>!verifier manuel</code>.</p>", status=403)
        try:
            await self.verification.verify(user_id, Method.PSC, "Pro Santé Connect",
                                           national_id=proven.national_id, evidence=evidence)
        except NationalIdTaken:
            return taken_page()
        return page("Identité vérifiée",
                    "<p>Merci ! Votre identité est vérifiée. Retournez dans votre client Matrix : "
                    "vous pouvez maintenant échanger avec vos confrères vérifiés.</p>")
