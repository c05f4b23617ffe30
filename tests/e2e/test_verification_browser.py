"""The Pro Santé Connect path as a practitioner clicks it, in headless Chromium."""

from __future__ import annotations

import time

import pytest

from tests.browser import Screenshots, launch
from tests.e2e import psc_flow
from tests.e2e.test_verification import CAMILLE, onboarding, state_of

pytestmark = pytest.mark.e2e



async def test_psc_link_in_a_real_browser(stack, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api")
    camille, dm = await onboarding(stack, "camille", **CAMILLE)
    link = psc_flow.link_in((await camille.ask(dm, stack.bot_id, "!verifier")).body)
    started = time.perf_counter()
    shots = Screenshots("psc_link")
    async with playwright_api.async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await browser.new_page()
            await page.goto(link)  # a page with a button: opening spends nothing
            await shots.take(page, "link-page")
            await page.get_by_role("button", name="Continuer avec Pro Santé Connect").click()
            await page.wait_for_url("**/wallet/auth**")
            assert "Pro Santé Connect" in await page.title()
            await shots.take(page, "psc-simulator")
            expected = await page.locator(".notice").inner_text()
            assert "Identité attendue" in expected and "Camille BERNARD" in expected
            await page.get_by_role("button", name="Camille Bernard").click()
            await page.wait_for_url("**/verification/psc/callback**")
            heading = await page.locator("h1").inner_text()
            await shots.take(page, "psc-done")
        finally:
            await browser.close()
    elapsed = time.perf_counter() - started
    print(f"\nPSC verification in the browser: {elapsed:.2f} s from link to result page")
    assert heading == "Identité vérifiée"
    assert await state_of(stack, camille.user_id) == "verified"
