"""Signup through Pro Santé Connect, clicked in headless Chromium: the identity is proven
first (simulated PSC), the form asks only for the rest, and the account is born verified,
linked to its directory entry, with the badge as display name."""

from __future__ import annotations

import aiohttp
import pytest
from sqlalchemy import select

from bridge.verification.models import AuditEntry
from tests.browser import Screenshots, launch
from tests.signup.client import code_in, unique_email
from tests.signup.welcome import welcome_of

pytestmark = pytest.mark.e2e

PASSWORD = "Cafe-Au-Lait-Serré-77"
FAURE = "810000575141"  # Dr Emmanuel FAURE, cardiologist in the directory sample


async def test_signup_with_pro_sante_connect(signup_stack, smtp):
    playwright_api = pytest.importorskip("playwright.async_api")
    email = unique_email("faure")
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        shots = Screenshots("psc_signup")
        try:
            page = await browser.new_page()
            await page.goto(f"{signup_stack.settings.service.url}/signup")
            await shots.take(page, "step1")
            await page.get_by_role("link", name="S'inscrire avec Pro Santé Connect").click()
            await page.wait_for_url("**/wallet/auth**")
            await shots.take(page, "step2")
            await page.locator("input[name=given_name]").fill("Emmanuel")
            await page.locator("input[name=family_name]").fill("Faure")
            await page.locator("input[name=national_id]").fill(FAURE)
            await page.get_by_role("button", name="Se connecter").click()
            await page.wait_for_url("**/signup")
            await shots.take(page, "step3")
            proven = await page.locator(".proven").inner_text()
            assert "Emmanuel Faure" in proven and FAURE in proven
            assert await page.get_by_label("Prénom").count() == 0, "names come from PSC"
            await page.get_by_label("Adresse mail").fill(email)
            await page.get_by_label("Libéral").check()
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.get_by_label("J'accepte les conditions générales").check()
            await page.get_by_label("J'accepte la politique de protection").check()
            await page.get_by_role("button", name="Vérifier mon adresse mail").click()
            await page.wait_for_url("**/signup/code")
            await shots.take(page, "step4")
            code = code_in((await smtp.wait_for(email))[0].text)
            await page.get_by_label("Code reçu par mail").fill(code)
            await page.get_by_role("button", name="Créer mon compte").click()
            await page.wait_for_url("**/signup/bienvenue")
            await shots.take(page, "step5")
            next_step = await page.locator("main").inner_text()
            assert "vérifier votre identité" not in next_step, "born verified (#16 item 3)"
            assert "vérifiée par Pro Santé Connect" in next_step
        finally:
            await browser.close()

    verification = signup_stack.service.verification
    async with signup_stack.service.database.session() as session:
        from bridge.accounts.models import Account
        account = (await session.execute(
            select(Account).where(Account.email == email))).scalar_one()
        audit = (await session.execute(select(AuditEntry).where(
            AuditEntry.user_id == account.user_id))).scalars().all()
    assert account.verification_state == "verified" and account.national_id == FAURE
    assert account.first_name == "Emmanuel" and account.declared_identifier == FAURE[1:]
    assert [(a.action, a.method) for a in audit] == [("verified", "psc")]
    assert (await verification.state_for_rules(account.user_id))["verification"] == "verified"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{signup_stack.settings.synapse.url}/_synapse/admin/v2/users/"
                            f"{account.user_id}", headers={
                                "Authorization": "Bearer "
                                + signup_stack.service.context.admin_token}) as response:
            name = (await response.json()).get("displayname") or ""
    assert name.startswith("Dr Emmanuel FAURE — Cardiologie")
    _, _, welcome = await welcome_of(signup_stack, email, PASSWORD)
    assert welcome.decrypted and "identité est vérifiée par Pro Santé Connect" in welcome.body


KARIM = "810000337575"  # Abdelhak KARIM in the directory sample


async def test_psc_signup_without_a_password_logs_in_with_psc_only(signup_stack, smtp):
    """An identity proven by PSC may sign up with no password at all (issue #13): the
    account exists, verified; no password opens it; the "Pro Santé Connect" login does."""
    from tests.e2e.sso_flow import HttpWalk, token_in

    playwright_api = pytest.importorskip("playwright.async_api")
    email = unique_email("karim")
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(f"{signup_stack.settings.service.url}/signup")
            await page.get_by_role("link", name="S'inscrire avec Pro Santé Connect").click()
            await page.wait_for_url("**/wallet/auth**")
            await page.locator("input[name=given_name]").fill("Abdelhak")
            await page.locator("input[name=family_name]").fill("Karim")
            await page.locator("input[name=national_id]").fill(KARIM)
            await page.get_by_role("button", name="Se connecter").click()
            await page.wait_for_url("**/signup")
            assert "facultatif" in await page.locator("label[for=password]").inner_text()
            await page.get_by_label("Adresse mail").fill(email)
            await page.get_by_label("Salarié").check()
            await page.get_by_label("J'accepte les conditions générales").check()
            await page.get_by_label("J'accepte la politique de protection").check()
            await page.get_by_role("button", name="Vérifier mon adresse mail").click()
            await page.wait_for_url("**/signup/code")
            code = code_in((await smtp.wait_for(email))[0].text)
            await page.get_by_label("Code reçu par mail").fill(code)
            await page.get_by_role("button", name="Créer mon compte").click()
            await page.wait_for_url("**/signup/bienvenue")
        finally:
            await browser.close()

    from bridge.accounts.models import Account
    async with signup_stack.service.database.session() as session:
        account = (await session.execute(
            select(Account).where(Account.email == email))).scalar_one()
    assert account.verification_state == "verified" and account.national_id == KARIM
    base = f"{signup_stack.settings.synapse.url}/_matrix/client/v3/login"
    walk = HttpWalk(signup_stack)
    try:
        async with aiohttp.ClientSession() as http:
            for guess in ("", PASSWORD):
                async with http.post(base, json={
                        "type": "m.login.password", "password": guess,
                        "identifier": {"type": "m.id.user", "user": account.user_id}}) as answer:
                    assert answer.status in (400, 403), "no password opens this account"
            status, location, body = await walk.login(KARIM, first="Abdelhak", last="Karim")
            token = token_in(location, body)
            assert token, (status, body[:300])
            async with http.post(base, json={"type": "m.login.token", "token": token}) as answer:
                assert answer.status == 200
                assert (await answer.json())["user_id"] == account.user_id
    finally:
        await walk.close()
