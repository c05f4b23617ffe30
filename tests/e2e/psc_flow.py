"""Drive the Pro Santé Connect round trip over HTTP, as a browser would, one hop at a time."""

from __future__ import annotations

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
    async with aiohttp.ClientSession() as http:
        async with http.get(link, allow_redirects=False) as response:
            if response.status != 302:
                return response.status, await response.text(), ""
            authorize = response.headers["Location"]
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


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(url, allow_redirects=False) as response:
            return response.status, await response.text()
