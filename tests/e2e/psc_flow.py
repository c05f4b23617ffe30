"""Drive the Pro Santé Connect round trip over HTTP, as a browser would, one hop at a time."""

from __future__ import annotations

import html
import re
import urllib.parse

import aiohttp

LINK = re.compile(r"https?://\S+/verification/psc\?t=[\w\-]+")


def link_in(text: str) -> str:
    match = LINK.search(text)
    assert match, f"no verification link in: {text!r}"
    return match.group(0)


async def follow(link: str, identity: str | int = 0, custom: dict | None = None
                 ) -> tuple[int, str, str]:
    """Open the bot's link, pick a test identity at the simulator, come back to the callback.

    Returns (status, page text, callback URL) of the final page.
    """
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        status, authorize, text = await press(http, link)
        if status != 302:
            return status, text, ""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(authorize).query))
        async with http.get(authorize) as page:
            assert page.status == 200 and "simulateur" in await page.text()
        form = {**query, "identity": str(identity), **(custom or {})}
        async with http.post(authorize.split("?")[0], data=form,
                             allow_redirects=False) as response:
            assert response.status == 302, await response.text()
            callback = response.headers["Location"]
        async with http.get(callback, allow_redirects=False) as response:
            return response.status, await response.text(), callback


FIELD = re.compile(r'name="(t|csrf)" value="([^"]*)"')


async def press(http: aiohttp.ClientSession, link: str) -> tuple[int, str, str]:
    """Open the link (a page with a button, nothing spent) and press the button.

    Returns (status, PSC authorization URL or "", page text) of the button's answer.
    """
    async with http.get(link, allow_redirects=False) as response:
        text = await response.text()
        if response.status != 200:
            return response.status, "", text
    fields = dict(FIELD.findall(html.unescape(text)))
    async with http.post(link.split("?")[0], data=fields, allow_redirects=False) as response:
        return response.status, response.headers.get("Location", ""), await response.text()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as response:
            return response.status, await response.text()
