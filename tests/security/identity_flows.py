"""Attacker-side helpers for the identity cases: a Pro Santé Connect signup driven hop by hop
in a browser-like client, fresh RPPS numbers, and the bot's conversations."""

from __future__ import annotations

import random
import urllib.parse

from yarl import URL

from bridge.accounts.validation import luhn_valid
from bridge.web.psc import SIGNUP_COOKIE
from tests.security.canaries import plant
from tests.signup.client import CODE, SignupClient, unique_email

PASSWORD = "Tisane-Verveine-2026"


def fresh_rpps() -> str:
    """A Luhn-valid RPPS nobody else in this session uses (test range 997…)."""
    while True:
        number = "997" + "".join(random.choice("0123456789") for _ in range(8))
        if luhn_valid(number):
            return number


async def psc_login(client: SignupClient, national_id: str, first: str, last: str,
                    path: str = "/psc/signup") -> tuple[int, str]:
    """The signup page's PSC button, the simulator's login, the callback: (status, page)."""
    http = client.http
    async with http.get(client.base + path, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        authorize = response.headers["Location"]
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(authorize).query))
    form = {**query, "identity": "custom", "national_id": national_id, "given_name": first,
            "family_name": last}
    async with http.post(authorize.split("?")[0], data=form, allow_redirects=False) as response:
        assert response.status == 302, await response.text()
        callback = response.headers["Location"]
    async with http.get(callback, allow_redirects=False) as response:
        return response.status, await response.text()


def psc_cookie(client: SignupClient) -> str | None:
    for cookie in client.http.cookie_jar:
        if cookie.key == SIGNUP_COOKIE:
            return cookie.value
    return None


def give_cookie(client: SignupClient, value: str) -> None:
    """What an attacker does with a copied cookie: put it in their own browser."""
    client.http.cookie_jar.update_cookies({SIGNUP_COOKIE: value}, URL(client.base))


async def submit_psc_form(client: SignupClient, email: str | None = None):
    """The rest of the form after PSC (names and number come from the proof)."""
    await client.get("/signup")
    return await client.post("/signup", {
        "email": email or unique_email("psc"), "exercise_mode": "liberal",
        "password": plant(PASSWORD), "accept_terms": "oui", "accept_privacy": "oui"})


async def mailed_code(stack, email: str, count: int = 1) -> str:
    mails = await stack.service.mail.catcher.wait_for(email, count=count)
    match = CODE.search(mails[-1].text)
    assert match, "no code in the mail"
    return plant(match.group(1))


async def account_by_email(stack, email: str):
    from sqlalchemy import select

    from bridge.accounts.models import Account
    async with stack.service.database.session() as session:
        return (await session.execute(select(Account).where(Account.email == email))
                ).scalar_one_or_none()


async def accounts_with(stack, national_id: str) -> list:
    from sqlalchemy import select

    from bridge.accounts.models import Account
    async with stack.service.database.session() as session:
        return list((await session.execute(select(Account).where(
            Account.national_id == national_id))).scalars().all())
