"""The legal pages exist, are linked from every page footer and from the signup consents, and
an operator's own text replaces the shipped one (#16 item 8)."""

from __future__ import annotations

import re

import aiohttp
import pytest

pytestmark = pytest.mark.e2e

PAGES = ["/", "/signup", "/cgu", "/confidentialite", "/mentions-legales",
         "/verification/psc?t=not-a-link"]
FOOTER = re.compile(r"<footer.*?</footer>", re.S)
HREF = re.compile(r'href="(/[^"]*)"')


async def test_every_footer_link_answers(stack):
    base = stack.settings.service.url
    seen: set[str] = set()
    async with aiohttp.ClientSession() as http:
        for path in PAGES:
            async with http.get(base + path) as response:
                text = await response.text()
            footer = FOOTER.search(text)
            assert footer, f"{path}: no footer"
            links = set(HREF.findall(footer.group(0)))
            assert {"/cgu", "/confidentialite", "/mentions-legales"} <= links, path
            seen |= links
        for link in sorted(seen):
            async with http.get(base + link) as response:
                assert response.status == 200, link
                assert "Confrère" in await response.text()
        async with http.get(base + "/signup") as response:
            form = await response.text()
    consents = form[form.index("Vos accords"):]
    assert 'href="/cgu"' in consents and 'href="/confidentialite"' in consents
    version = stack.settings.signup.privacy_version
    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/confidentialite") as response:
            privacy = await response.text()
    assert f"Version {version}" in privacy and "6 mois" in privacy
    assert "données de santé" in privacy and "supprimées dès la décision" in privacy


async def test_operator_text_replaces_the_shipped_one(stack):
    folder = stack.settings.data_dir / "legal"
    folder.mkdir(exist_ok=True)
    custom = folder / "mentions-legales.html"
    custom.write_text("<h1>Mentions légales</h1><p>Cabinet Exemple SAS, 59500 Douai.</p>",
                      encoding="utf-8")
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(stack.settings.service.url + "/mentions-legales") as response:
                text = await response.text()
        assert response.status == 200 and "Cabinet Exemple SAS" in text
        assert 'href="/cgu"' in text, "still in the site's layout, footer included"
    finally:
        custom.unlink()
