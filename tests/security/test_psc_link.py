"""The bot's one-time Pro Santé Connect link is spent by its button, not by opening it
(#16 item 9): mail scanners and link previews GET links; only a POST with a CSRF token spends."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from bridge.verification import tokens
from bridge.verification.service import VerificationService
from bridge.web.psc import LINK_PURPOSE, START_PATH, PscPages
from tests.security.test_web import FakeProvider, serve

FIELD = re.compile(r'name="(t|csrf)" value="([^"]*)"')


async def _pages(database):
    pages = PscPages(FakeProvider(), VerificationService(database), "web-secret-" + "z" * 30)
    link = await tokens.issue(database, LINK_PURPOSE, "@lea:localhost", timedelta(minutes=5))
    return await serve(pages.routes()), link


async def _form(client, link: str) -> dict:
    response = await client.get(f"{START_PATH}?t={link}")
    assert response.status == 200
    text = await response.text()
    assert "Continuer avec Pro Santé Connect" in text
    return dict(FIELD.findall(text))


@pytest.mark.rule("psc_link_spent_by_button")
async def test_opening_twice_spends_nothing_then_the_button_works(database):
    client, link = await _pages(database)
    try:
        await _form(client, link)  # a link preview
        form = await _form(client, link)  # the practitioner
        response = await client.post(START_PATH, data=form, allow_redirects=False)
        assert response.status == 302
        assert response.headers["Location"].startswith("https://psc.invalid/auth?state=")
        gone = await client.get(f"{START_PATH}?t={link}")
        assert gone.status == 410 and "!verifier" in await gone.text()
    finally:
        await client.close()


@pytest.mark.rule("psc_link_spent_by_button")
async def test_second_press_is_refused(database):
    client, link = await _pages(database)
    try:
        first, second = await _form(client, link), await _form(client, link)
        assert (await client.post(START_PATH, data=first, allow_redirects=False)).status == 302
        refused = await client.post(START_PATH, data=second, allow_redirects=False)
        assert refused.status == 410
        replay = await client.post(START_PATH, data=first, allow_redirects=False)
        assert replay.status == 403, "a used form token is refused before the link is looked at"
    finally:
        await client.close()


@pytest.mark.rule("psc_link_spent_by_button")
async def test_button_without_csrf_spends_nothing(database):
    client, link = await _pages(database)
    try:
        response = await client.post(START_PATH, data={"t": link}, allow_redirects=False)
        assert response.status == 403
        form = await _form(client, link)  # still usable
        assert (await client.post(START_PATH, data=form, allow_redirects=False)).status == 302
    finally:
        await client.close()
