"""The signup as a practitioner clicks it, in headless Debian Chromium driven by Playwright:
form, code read from the test SMTP server's inbox, congratulations; then a matrix-nio client
logs in with those credentials and reads the bot's welcome in an encrypted DM."""

from __future__ import annotations

import time

import pytest

from tests.browser import Screenshots, launch
from tests.signup.client import code_in, unique_email
from tests.signup.welcome import welcome_of

pytestmark = pytest.mark.e2e

PASSWORD = "Cafe-Au-Lait-Serré-77"


async def test_signup_in_a_real_browser(signup_stack, smtp, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    email = unique_email("amelie")
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        shots = Screenshots("signup_browser")
        try:
            page = await browser.new_page()
            started = time.perf_counter()
            await page.goto(f"{signup_stack.settings.service.url}/signup")
            await shots.take(page, "step1")
            # a first try with a wrong RPPS key: the message sits next to the field
            await page.get_by_label("Prénom").fill("Amélie")
            await page.get_by_label("Nom", exact=True).fill("Poulain")
            await page.get_by_label("Adresse mail").fill(email)
            await page.get_by_label("Salarié").check()
            await page.get_by_label("Numéro RPPS ou ADELI").fill("10001234567")
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.get_by_label("J'accepte les conditions générales").check()
            await page.get_by_label("J'accepte la politique de protection").check()
            await page.get_by_role("button", name="Vérifier mon adresse mail").click()
            await page.wait_for_load_state()
            assert "clé de ce numéro RPPS est incorrecte" in \
                await page.locator("#identifier-erreur").inner_text()
            assert await page.get_by_label("Prénom").input_value() == "Amélie"
            assert await page.get_by_label("Salarié").is_checked()
            await page.get_by_label("Numéro RPPS ou ADELI").fill("99700771191")
            await page.get_by_label("Mot de passe").fill(PASSWORD)
            await page.get_by_role("button", name="Vérifier mon adresse mail").click()
            await page.wait_for_url("**/signup/code")
            await shots.take(page, "step2")
            assert email in await page.locator("main").inner_text()
            code = code_in((await smtp.wait_for(email))[0].text)
            await page.get_by_label("Code reçu par mail").fill(code)
            await page.get_by_role("button", name="Créer mon compte").click()
            await page.wait_for_url("**/signup/bienvenue")
            await shots.take(page, "step3")
            heading = await page.locator("h1").inner_text()
            elapsed = time.perf_counter() - started
            done_text = await page.locator("main").inner_text()
            await page.set_viewport_size({"width": 360, "height": 740})  # a phone
            await page.screenshot(path=str(tmp_path / "signup-done-mobile.png"), full_page=True)
        finally:
            await browser.close()
    assert heading == "Félicitations, votre compte est créé !"
    assert "amelie.poulain" in done_text and signup_stack.settings.synapse.client_url in done_text
    print(f"\nsignup in the browser ({signup_stack.backend}): {elapsed:.2f} s from the empty "
          "form (with one correction) to the account created")
    started = time.perf_counter()
    account, _, welcome = await welcome_of(signup_stack, email, PASSWORD)
    print(f"login, invitation accepted and welcome decrypted: {time.perf_counter() - started:.2f} s")
    assert account.user_id.startswith("@amelie.poulain")
    assert account.declared_identifier == "99700771191" and account.exercise_mode == "salarie"
    assert welcome.decrypted and "vérification de votre identité" in welcome.body
