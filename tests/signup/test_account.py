"""The whole signup against a real Synapse: the account, the profile, the unique localpart, the
welcome in an encrypted DM, no password kept — and Synapse's own /register closed."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from bridge.accounts.pending import SignupRequest
from bridge.mail.models import OutboxMail
from tests.e2e.harness import wait
from tests.signup.client import STRONG_PASSWORD, SignupClient, code_in, unique_email
from tests.signup.welcome import account_of, welcome_of

pytestmark = pytest.mark.e2e


async def sign_up(stack, smtp, email: str, **fields) -> SignupClient:
    client = SignupClient(stack.settings.service.url)
    page = await client.start(email=email, **fields)
    assert page.status == 200 and page.url.endswith("/signup/code"), page.text[:2000]
    code = code_in((await smtp.wait_for(email))[0].text)
    page = await client.submit_code(code)
    assert page.status == 200 and page.url.endswith("/signup/bienvenue"), page.text[:3000]
    return client


async def test_signup_creates_account_profile_and_welcome(signup_stack, smtp):
    email = unique_email("claire")
    client = await sign_up(signup_stack, smtp, email, first_name="Claire",
                           last_name="Lefèvre-Durand", exercise_mode="salarie")
    try:
        done = client.last.text
        assert "Félicitations, votre compte est créé !" in done
        assert signup_stack.settings.synapse.client_url in done
        assert "claire.lefevre-durand" in done and "app.element.io" in done
        again = await client.get("/signup/bienvenue")
        assert again.status == 200  # reloading the page is fine; the password is gone
    finally:
        await client.close()
    account, practitioner, welcome = await welcome_of(signup_stack, email, STRONG_PASSWORD)
    server = signup_stack.settings.server_name
    assert account.user_id == f"@claire.lefevre-durand:{server}"
    assert (account.first_name, account.last_name, account.exercise_mode) == \
        ("Claire", "Lefèvre-Durand", "salarie")
    assert (account.declared_identifier, account.declared_identifier_type) == \
        ("10001045367", "RPPS")
    assert (account.terms_version, account.privacy_version) == ("cgu-test-3", "rgpd-test-7")
    assert account.terms_accepted_at is not None and account.privacy_accepted_at is not None
    assert account.verification_state == "unverified"
    assert welcome.decrypted, "the welcome must arrive end-to-end encrypted"
    assert "bienvenue sur Confrère" in welcome.body and "Pro Santé Connect" in welcome.body
    assert "carte CPS" in welcome.body and "pièce d'identité" in welcome.body
    room = practitioner.client.rooms[account.onboarding_room_id]
    assert room.encrypted and set(room.users) == {account.user_id, signup_stack.bot_id}

    async def marked() -> bool:
        return (await account_of(signup_stack, email)).welcome_sent_at is not None
    assert await wait(marked, 10)
    # the password is nowhere in Confrère's database
    async with signup_stack.service.database.session() as session:
        rows = list(await session.scalars(select(SignupRequest))) + \
            list(await session.scalars(select(OutboxMail)))
    assert not any(STRONG_PASSWORD in str(vars(row)) for row in rows)


async def test_same_name_gets_a_unique_localpart(signup_stack, smtp):
    first, second = unique_email("paul"), unique_email("paul")
    for email in (first, second):
        client = await sign_up(signup_stack, smtp, email, first_name="Paul", last_name="Martin")
        await client.close()
    ids = [(await account_of(signup_stack, e)).user_id for e in (first, second)]
    assert ids[0].startswith("@paul.martin") and ids[1].startswith("@paul.martin")
    assert ids[0] != ids[1]


async def test_synapse_register_endpoint_is_closed(signup_stack):
    url = f"{signup_stack.settings.synapse.url}/_matrix/client/v3/register"
    async with aiohttp.ClientSession() as http, http.post(
            url, json={"username": "intrus", "password": "Intrus-Password-1"}) as r:
        body = await r.json()
    assert r.status == 403 and body.get("errcode") == "M_FORBIDDEN"


async def test_welcome_is_not_lost_when_the_service_restarts(signup_stack, smtp):
    """The welcome waits in the database: a restart of the service (bot included) between the
    signup and the first login changes nothing for the practitioner."""
    email = unique_email("rene")
    client = await sign_up(signup_stack, smtp, email, first_name="René", last_name="Char")
    await client.close()
    await signup_stack.restart_service()
    account, _, welcome = await welcome_of(signup_stack, email, STRONG_PASSWORD)
    assert welcome.decrypted and "René" in welcome.body
    assert account.user_id.startswith("@rene.char")
