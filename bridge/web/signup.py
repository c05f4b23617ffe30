"""The signup pages: form -> e-mail code -> account -> "Félicitations".

Thin aiohttp handlers: validation is in `bridge.accounts.validation`, the database steps in
`bridge.accounts.enrolment`, account creation in `bridge.accounts.signup`. Every form carries a
one-time CSRF token; every answer after a POST is a redirect or the same page re-rendered with
French messages next to the fields and the other fields kept.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bridge.accounts.states import Method
from bridge.accounts.enrolment import Enrolment, Refusal, Refused
from bridge.accounts.pending import CodeOutcome, SignupRequest
from bridge.accounts.signup import AccountCreationError, HomeserverUnavailable, create_account
from bridge.accounts.validation import EXERCISE_MODES, PASSWORD_POLICY, validate_signup
from bridge.mail.outbox import delivery_state
from bridge.web.csrf import Csrf
from bridge.web.legal import PRIVACY_PATH, TERMS_PATH, LegalPages
from bridge.web.ratelimit import client_ip
from bridge.web.psc import SIGNUP_COOKIE, signup_sealer
from bridge.verification import proofs
from bridge.verification.proofs import Proof
from bridge.web.sealed import Sealer
from bridge.web.templating import render

COOKIE = "confrere_signup"
COOKIE_AGE = 3600
LABELS = {"first_name": "Prénom", "last_name": "Nom", "email": "Adresse mail",
          "exercise_mode": "Mode d'exercice", "identifier": "Numéro RPPS ou ADELI",
          "password": "Mot de passe", "accept_terms": "Conditions générales",
          "accept_privacy": "Protection des données"}
REFUSALS = {
    Refused.IP_LIMIT: "Trop de demandes depuis votre connexion. Réessayez dans une heure.",
    Refused.ADDRESS_LIMIT: ("Trop de codes ont été demandés pour cette adresse. Réessayez dans "
                            "une heure."),
    Refused.TOO_MANY_SENDS: ("Vous avez demandé trop de codes pour cette inscription : "
                             "recommencez-la dans une heure."),
}
EXPIRED_SESSION = ("Votre demande d'inscription a expiré ou n'a pas été trouvée (les cookies "
                   "sont-ils autorisés ?). Recommencez l'inscription : cela ne prend qu'une minute.")


def _shown(proven: Proof | None) -> dict | None:
    """What the form shows of a PSC-proven identity (the template's names)."""
    if proven is None:
        return None
    return {"national_id": proven.national_id, "first_name": proven.first_name,
            "last_name": proven.last_name}


def redirect(location: str) -> web.Response:
    """303 See Other: after a POST the browser GETs the next page (no resubmission on reload)."""
    return web.Response(status=303, headers={"Location": location})


class SignupPages:
    def __init__(self, services: Any) -> None:
        settings = services.settings
        self.services = services
        self.settings = settings
        self.enrolment = Enrolment(services)
        secure = settings.service.url.startswith("https://")
        self.csrf = Csrf(settings.secrets.web_secret, services.database, secure=secure)
        self.sealer = Sealer(settings.secrets.web_secret, "signup")
        self.psc_sealer = signup_sealer(settings.secrets.web_secret)
        self.secure = secure

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/signup", self.form), web.post("/signup", self.submit),
            web.get("/inscription", self.french_alias),
            web.get("/signup/code", self.code_page), web.post("/signup/code", self.submit_code),
            web.post("/signup/resend", self.resend),
            web.get("/signup/bienvenue", self.done),
            # the texts the consents name (served here so that they come with the signup)
            *LegalPages(self.settings).routes(),
        ]

    async def french_alias(self, request: web.Request) -> web.StreamResponse:
        return redirect("/signup")

    # -- step 1: the form ------------------------------------------------------------------
    async def form(self, request: web.Request) -> web.Response:
        return self._form(request, {}, {}, {}, proven=await self._proven(request))

    async def _proven(self, request: web.Request) -> Proof | None:
        """The identity Pro Santé Connect proved before this form, if its single-use proof
        (named by the sealed cookie) is still unused and unexpired."""
        sealed = self.psc_sealer.open(request.cookies.get(SIGNUP_COOKIE))
        return await proofs.usable(self.services.database, sealed.get("proof") if sealed
                                   else None)

    async def submit(self, request: web.Request) -> web.StreamResponse:
        data = dict((await request.post()).items())
        proven = await self._proven(request)
        if proven is not None:  # names and number come from PSC, not from the form
            data.update(first_name=proven.first_name, last_name=proven.last_name,
                        identifier=proven.national_id[1:])
        kept = {k: str(data.get(k, "")) for k in LABELS if k != "password"}
        problem = await self.csrf.check(request, data, "signup")
        if problem:
            return self._form(request, kept, {"_form": problem}, {}, status=403, proven=proven)
        result = validate_signup(data, strip_titles=proven is None,
                                 password_optional=proven is not None)
        values = dict(kept, **result.values)
        values.update({k: kept[k] for k in ("accept_terms", "accept_privacy")})
        if result.profile is None:
            return self._form(request, values, result.errors, result.warnings, status=400,
                              proven=proven)
        ip = client_ip(request, self.settings.signup.trust_forwarded_for)
        outcome = await self.enrolment.begin(result.profile, ip, proven)
        if isinstance(outcome, Refusal):
            return self._form(request, values, {"_form": REFUSALS[outcome.reason]},
                              result.warnings, status=429, proven=proven)
        response = redirect("/signup/code")
        self._set_signup_cookie(response, outcome.id, str(data.get("password", "")))
        return response

    def _form(self, request, values, errors, warnings, status=200,
              proven: Proof | None = None) -> web.Response:
        conf = self.settings.signup
        consents = [
            ("accept_terms", ("J'accepte les conditions générales d'utilisation "
                              f"(version {conf.terms_version})"), conf.terms_url or TERMS_PATH),
            ("accept_privacy", ("J'accepte la politique de protection des données personnelles "
                                f"(version {conf.privacy_version})"),
             conf.privacy_url or PRIVACY_PATH),
        ]
        return self._render(request, "signup.html", {"signup": "csrf"}, status,
                            title="Créez gratuitement votre compte", values=values,
                            errors=errors, warnings=warnings, labels=LABELS,
                            modes=EXERCISE_MODES, password_policy=PASSWORD_POLICY,
                            consents=consents, psc_enabled=self.services.psc is not None,
                            psc_identity=_shown(proven))

    # -- step 2: the code ------------------------------------------------------------------
    async def code_page(self, request: web.Request) -> web.StreamResponse:
        pending = await self._pending(request)
        if pending is None:
            return self._expired()
        if pending.completed_at is not None:
            return redirect("/signup/bienvenue")
        notice = "Un nouveau code vient de vous être envoyé." if "envoye" in request.query else ""
        return await self._code(request, pending, {}, notice=notice)

    async def submit_code(self, request: web.Request) -> web.StreamResponse:
        data = await request.post()
        code = "".join(str(data.get("code", "")).split())[:12]
        sealed = self._cookie(request)
        pending = await self.enrolment.get(sealed.get("sid") if sealed else None)
        if pending is None:
            return self._expired()
        problem = await self.csrf.check(request, data, "code")
        if problem:
            return await self._code(request, pending, {"_form": problem}, code=code, status=403)
        if not code:
            return await self._code(request, pending,
                                    {"code": "Saisissez le code à 6 chiffres reçu par mail."},
                                    status=400)
        if not (code.isdigit() and len(code) == 6):
            return await self._code(request, pending, {"code": "Le code compte 6 chiffres."},
                                    code=code, status=400)
        ip = client_ip(request, self.settings.signup.trust_forwarded_for)
        outcome = await self.enrolment.try_code(pending.id, code, ip)
        if isinstance(outcome, Refusal):
            if outcome.reason is Refused.UNKNOWN:
                return self._expired()
            return await self._code(request, pending, {"_form": REFUSALS[outcome.reason]},
                                    code=code, status=429)
        if outcome is CodeOutcome.DONE:
            return redirect("/signup/bienvenue")
        if outcome is not CodeOutcome.RIGHT:
            pending = await self.enrolment.get(pending.id) or pending
            return await self._code(request, pending, {"code": self._code_error(outcome, pending)},
                                    status=400)
        return await self._create(request, pending, sealed, code)

    def _code_error(self, outcome: CodeOutcome, pending: SignupRequest) -> str:
        conf = self.settings.signup
        if outcome is CodeOutcome.EXPIRED:
            return (f"Ce code a expiré (il est valable {conf.code_validity_minutes} minutes) : "
                    "demandez un nouveau code ci-dessous.")
        left = conf.code_max_attempts - pending.attempts
        if outcome is CodeOutcome.WRONG and left > 0:
            return f"Code incorrect. Il vous reste {left} essai{'s' if left > 1 else ''}."
        return (f"Code incorrect {conf.code_max_attempts} fois : ce code n'est plus valable. "
                "Demandez un nouveau code ci-dessous.")

    async def _create(self, request, pending: SignupRequest, sealed: dict,
                      code: str) -> web.StreamResponse:
        password = sealed.get("pw")
        if password is None or (not password and not pending.proven_national_id):
            return self._expired()
        if not await self.enrolment.claim(pending.id):
            return self._message(request, "Création en cours", "Votre compte est en cours de "
                                 "création : patientez quelques secondes puis continuez.",
                                 "/signup/code", "Continuer", status=409)
        try:
            account = await create_account(self.services, Enrolment.new_account(pending),
                                           password or None)
        except AccountCreationError as exc:
            await self.enrolment.release(pending.id)
            status = 503 if isinstance(exc, HomeserverUnavailable) else 409
            return await self._code(request, pending, {"_form": exc.user_message}, code=code,
                                    status=status)
        await self.enrolment.finish(pending.id, account.user_id)
        if pending.proven_national_id and pending.proof_id:  # audit, badge, module cache
            await self.services.verification.verify(
                account.user_id, Method.PSC, "Pro Santé Connect (inscription)",
                national_id=pending.proven_national_id,
                evidence={"provider": "psc", "national_id": pending.proven_national_id,
                          "at_signup": True})
        response = redirect("/signup/bienvenue")
        self._set_signup_cookie(response, pending.id, None)
        response.del_cookie(SIGNUP_COOKIE, path="/")
        return response

    async def resend(self, request: web.Request) -> web.StreamResponse:
        data = await request.post()
        pending = await self._pending(request)
        if pending is None:
            return self._expired()
        problem = await self.csrf.check(request, data, "resend")
        if problem:
            return await self._code(request, pending, {"_form": problem}, status=403)
        ip = client_ip(request, self.settings.signup.trust_forwarded_for)
        outcome = await self.enrolment.resend(pending.id, ip)
        if isinstance(outcome, Refusal):
            if outcome.reason is Refused.UNKNOWN:
                return self._expired()
            message = REFUSALS.get(outcome.reason) or (
                f"Un code vient d'être envoyé : vous pourrez en demander un nouveau dans "
                f"{outcome.wait_seconds} secondes.")
            return await self._code(request, pending, {"_form": message}, status=429)
        return redirect("/signup/code?envoye=1")

    async def _code(self, request, pending: SignupRequest, errors: dict, *, code: str = "",
                    notice: str = "", status: int = 200) -> web.Response:
        async with self.services.database.session() as session:
            delivery = await delivery_state(session, pending.outbox_id)
        return self._render(request, "code.html", {"code": "csrf", "resend": "csrf_resend"},
                            status, title="Vérifiez votre adresse mail", email=pending.email,
                            minutes=self.settings.signup.code_validity_minutes, errors=errors,
                            code=code, notice=notice, delivery=delivery)

    # -- step 3: congratulations -----------------------------------------------------------
    async def done(self, request: web.Request) -> web.StreamResponse:
        pending = await self._pending(request)
        if pending is None or pending.user_id is None:
            return redirect("/signup")
        localpart = pending.user_id[1:].split(":", 1)[0]
        return render("done.html", title="Votre compte est créé", user_id=pending.user_id,
                      localpart=localpart, homeserver_url=self.settings.synapse.client_url,
                      element_web_url=self.settings.signup.element_web_url,
                      verified=bool(pending.proven_national_id))

    # -- helpers ---------------------------------------------------------------------------
    def _render(self, request, template: str, forms: dict[str, str], status: int,
                **context) -> web.Response:
        """Render with a fresh one-time token for each form of the page."""
        browser_key, new = self.csrf.browser_key(request)
        for form, name in forms.items():
            context[name] = self.csrf.issue(browser_key, form)
        response = render(template, status=status, **context)
        if new:
            self.csrf.set_cookie(response, browser_key)
        return response

    def _cookie(self, request: web.Request) -> dict | None:
        return self.sealer.open(request.cookies.get(COOKIE))

    async def _pending(self, request: web.Request) -> SignupRequest | None:
        sealed = self._cookie(request)
        return await self.enrolment.get(sealed.get("sid") if sealed else None)

    def _set_signup_cookie(self, response: web.StreamResponse, sid: str,
                           password: str | None) -> None:
        payload = {"sid": sid} if password is None else {"sid": sid, "pw": password}
        response.set_cookie(COOKIE, self.sealer.seal(payload, COOKIE_AGE), max_age=COOKIE_AGE,
                            path="/signup", httponly=True, samesite="Lax", secure=self.secure)

    def _expired(self) -> web.Response:
        return render("message.html", status=400, title="Inscription à recommencer",
                      message=EXPIRED_SESSION, link="/signup", link_text="Recommencer")

    def _message(self, request, title, message, link, link_text, status=200) -> web.Response:
        return render("message.html", status=status, title=title, message=message, link=link,
                      link_text=link_text)
