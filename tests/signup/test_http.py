"""The signup pages over HTTP: every validation rule, CSRF, the code rules, throttling, the
duplicate address, and Synapse being down — against the service on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from bridge.accounts.models import Account
from bridge.accounts.pending import SignupRequest
from bridge.mail.models import OutboxMail
from bridge.storage.models import utcnow
from tests.e2e.harness import wait
from tests.signup.client import (
    STRONG_PASSWORD,
    SignupClient,
    code_in,
    unique_email,
    valid_form,
)


async def count(service, model, *where) -> int:
    async with service.database.session() as session:
        return await session.scalar(select(func.count()).select_from(model).where(*where))


async def signup_row(service, email: str) -> SignupRequest:
    async with service.database.session() as session:
        return (await session.scalars(select(SignupRequest).where(SignupRequest.email == email)
                                      .order_by(SignupRequest.created_at.desc()))).first()


async def move_back(service, email: str, **columns: timedelta) -> None:
    values = {name: utcnow() - delta for name, delta in columns.items()}
    async with service.database.session() as session:
        await session.execute(update(SignupRequest).where(SignupRequest.email == email)
                              .values(**values))
        await session.commit()


async def test_form_is_french_accessible_and_complete(web, client_for):
    page = await client_for(web).get("/signup")
    assert page.status == 200
    assert '<html lang="fr">' in page.text
    assert "Créez gratuitement votre compte" in page.text
    for name in ("first_name", "last_name", "email", "identifier", "password",
                 "accept_terms", "accept_privacy", "mode-liberal", "mode-salarie"):
        assert f'<label for="{name}">' in page.text, name
    assert "au moins 12 caractères" in page.text  # the visible password policy
    assert "version cgu-test-3" in page.text and "version rgpd-test-7" in page.text
    assert 'href="/psc/signup"' in page.text  # the development PSC simulator is available
    assert "<script" not in page.text  # works without JavaScript


BAD_INPUT = [
    ({"first_name": ""}, "first_name", "Indiquez votre prénom"),
    ({"last_name": "B" * 300}, "last_name", "ne doit pas dépasser 100 caractères"),
    ({"first_name": "Cam\x07ille"}, "first_name", "caractères de contrôle"),
    ({"last_name": "Bern\x00ard"}, "last_name", "caractères de contrôle"),
    ({"first_name": "<script>"}, "first_name", "que des lettres"),
    ({"email": "camille@"}, "email", "n'est pas valide"),
    ({"email": "camille bernard@exemple.fr"}, "email", "n'est pas valide"),
    ({"identifier": "10001234567"}, "identifier", "clé de ce numéro RPPS est incorrecte"),
    ({"identifier": "1234"}, "identifier", "11 chiffres"),
    ({"password": "court"}, "password", "au moins 12 caractères"),
    ({"password": "toutenminuscules123"}, "password", "une lettre majuscule"),
    ({"password": "Camille-Bernard-2026"}, "password", "ni votre prénom"),
    ({"password": "Azerty123456"}, "password", "mot de passe courant"),
    ({"accept_terms": None}, "accept_terms", "conditions générales"),
    ({"accept_privacy": None}, "accept_privacy", "protection des données"),
    ({"exercise_mode": "autre"}, "exercise_mode", "libéral ou salarié"),
]


@pytest.mark.parametrize("overrides,field,message", BAD_INPUT,
                         ids=[f"{f}-{i}" for i, (_, f, _) in enumerate(BAD_INPUT)])
async def test_each_rule_answers_next_to_the_field_and_keeps_the_rest(
        web, client_for, overrides, field, message):
    client = client_for(web)
    form = valid_form(**overrides)
    mails_before = await count(web, OutboxMail)
    page = await client.start(**{**overrides, "email": form["email"]})
    assert page.status == 400
    error = page.field_error(field)
    assert error is not None and message in error, (field, error)
    assert f'href="#{field}"' in page.text  # the summary links to the field
    # only that field is in error, and the others are still filled in
    assert all(page.field_error(other) is None for other in
               ("first_name", "last_name", "email", "identifier", "password") if other != field)
    if field != "email":
        assert page.value_of("email") == form["email"]
    if field not in ("first_name",):
        assert page.value_of("first_name") == "Camille"
    if field != "identifier":
        assert page.value_of("identifier") == "10001045367"
    assert STRONG_PASSWORD not in page.text  # a password is never echoed back
    assert await count(web, OutboxMail) == mails_before
    assert await signup_row(web, form["email"]) is None


async def test_adeli_and_national_identifier_forms_are_accepted(web, client_for, smtp):
    for identifier, kind, stored in (("75 12 3456 7", "ADELI", "751234567"),
                                     ("810002813839", "RPPS", "10002813839")):
        email = unique_email()
        page = await client_for(web).start(email=email, identifier=identifier)
        assert page.status == 200 and page.url.endswith("/signup/code")
        row = await signup_row(web, email)
        assert (row.declared_identifier, row.declared_identifier_type) == (stored, kind)


async def test_forged_missing_foreign_and_replayed_forms_are_refused(web, client_for, smtp):
    client, other = client_for(web), client_for(web)
    email = unique_email()
    await client.get("/signup")
    genuine = client.last.token("/signup")
    await other.get("/signup")
    foreign = other.last.token("/signup")
    for token in ("", "forged" * 10, foreign):
        page = await client.post("/signup", valid_form(email=email), token=token)
        assert page.status == 403, token
        assert "formulaire" in page.text and page.value_of("email") == email
    assert await signup_row(web, email) is None
    first = await client.post("/signup", valid_form(email=email), token=genuine)
    assert first.status == 200 and first.url.endswith("/signup/code")
    replay = await client.post("/signup", valid_form(email=email), token=genuine)
    assert replay.status == 403 and "déjà été envoyé" in replay.text
    assert await count(web, SignupRequest, SignupRequest.email == email) == 1
    # the code form is protected the same way
    page = await client.post("/signup/code", {"code": "123456"}, token="forged")
    assert page.status == 403
    assert (await signup_row(web, email)).attempts == 0


async def test_five_wrong_codes_then_a_new_code_is_needed(web, client_for, smtp):
    client = client_for(web)
    email = unique_email()
    await client.start(email=email)
    code = code_in((await smtp.wait_for(email))[0].text)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1):
        page = await client.submit_code(wrong)
        assert page.status == 400
        assert f"Il vous reste {left} essai" in page.field_error("code")
    page = await client.submit_code(wrong)
    assert "n'est plus valable" in page.field_error("code")
    page = await client.submit_code(code)  # even the right code is now refused
    assert page.status == 400 and "n'est plus valable" in page.field_error("code")
    assert await count(web, Account, Account.email == email) == 0
    await move_back(web, email, last_sent_at=timedelta(minutes=2))
    page = await client.resend()
    assert page.status == 200 and "Un nouveau code vient de vous être envoyé" in page.text
    fresh = code_in((await smtp.wait_for(email, 2))[-1].text)
    assert (await signup_row(web, email)).attempts == 0
    page = await client.submit_code(fresh)
    # Synapse is not running behind this service: the account cannot be created, and
    # nothing is half-made; the code stays usable
    assert page.status == 503 and "ne répond pas" in page.text
    assert await count(web, Account, Account.email == email) == 0
    row = await signup_row(web, email)
    assert row.completed_at is None and row.claimed_at is None and row.code_hash


async def test_expired_code_is_refused(web, client_for, smtp):
    client = client_for(web)
    email = unique_email()
    await client.start(email=email)
    code = code_in((await smtp.wait_for(email))[0].text)
    await move_back(web, email, code_expires_at=timedelta(seconds=1))
    page = await client.submit_code(code)
    assert page.status == 400 and "a expiré" in page.field_error("code")
    assert (await signup_row(web, email)).attempts == 0


async def test_code_is_stored_hashed(web, client_for, smtp):
    client = client_for(web)
    email = unique_email()
    await client.start(email=email)
    code = code_in((await smtp.wait_for(email))[0].text)
    row = await signup_row(web, email)
    assert code not in (row.code_hash or "") and len(row.code_hash) == 64

    async def sent() -> OutboxMail | None:
        async with web.database.session() as session:
            mail = await session.get(OutboxMail, row.outbox_id)
        return mail if mail.sent_at is not None else None
    assert await wait(sent, 10)
    mail = await sent()
    assert code not in mail.body_text + mail.body_html  # blanked once delivered


async def test_resend_is_throttled(web, client_for, smtp):
    client = client_for(web)
    email = unique_email()
    await client.start(email=email)
    first = code_in((await smtp.wait_for(email))[0].text)
    page = await client.resend()
    assert page.status == 429 and "dans" in page.text and "secondes" in page.text
    assert len(smtp.to(email)) == 1
    await move_back(web, email, last_sent_at=timedelta(seconds=61))
    page = await client.resend()
    assert page.status == 200
    second = code_in((await smtp.wait_for(email, 2))[-1].text)
    if second != first:  # the old code no longer works
        page = await client.submit_code(first)
        assert page.status == 400 and "incorrect" in page.field_error("code")


async def test_codes_per_address_are_limited(web, client_for, smtp):
    email = unique_email()
    for _ in range(3):  # CODES_PER_ADDRESS_PER_HOUR = 3, each from another client address
        page = await client_for(web).start(email=email)
        assert page.url.endswith("/signup/code")
    page = await client_for(web).start(email=email)
    assert page.status == 429 and "pour cette adresse" in page.text
    await smtp.wait_for(email, 3)
    assert await count(web, SignupRequest, SignupRequest.email == email) == 3


async def test_requests_per_client_address_are_limited(web, client_for, smtp):
    ip = "203.0.113.77"
    for _ in range(5):  # CODES_PER_IP_PER_HOUR = 5
        client = SignupClient(web.settings.service.url, ip=ip)
        try:
            page = await client.start()
        finally:
            await client.close()
        assert page.url.endswith("/signup/code")
    client = SignupClient(web.settings.service.url, ip=ip)
    try:
        page = await client.start()
    finally:
        await client.close()
    assert page.status == 429 and "depuis votre connexion" in page.text


async def test_existing_address_gets_a_notice_and_the_page_says_nothing(web, client_for, smtp):
    known = unique_email("deja")
    now = utcnow()
    async with web.database.session() as session:
        session.add(Account(user_id=f"@deja{now.microsecond}:localhost", first_name="Dominique",
                            last_name="Déjà", email=known, exercise_mode="salarie",
                            terms_version="x", terms_accepted_at=now, privacy_version="x",
                            privacy_accepted_at=now))
        await session.commit()
    fresh = unique_email("neuf")
    known_page = await client_for(web).start(email=known)
    fresh_page = await client_for(web).start(email=fresh)
    assert known_page.status == fresh_page.status == 200
    assert known_page.text.replace(known, "X") .split('name="csrf"')[0] == \
        fresh_page.text.replace(fresh, "X").split('name="csrf"')[0]
    notice = (await smtp.wait_for(known))[0]
    assert "déjà un compte" in notice.subject and "@deja" in notice.text
    assert not any(line.strip().isdigit() and len(line.strip()) == 6
                   for line in notice.text.splitlines())
    assert code_in((await smtp.wait_for(fresh))[0].text)
    client = client_for(web)
    await client.start(email=known)
    page = await client.submit_code("000000")
    assert page.status == 400 and "Code incorrect" in page.field_error("code")
    assert await count(web, Account, Account.email == known) == 1


async def test_lost_session_gets_a_clear_way_back(web, client_for):
    page = await client_for(web).get("/signup/code")
    assert page.status == 400 and "Recommencez l&#39;inscription" in page.text
    assert 'href="/signup"' in page.text
