"""A newcomer's first hour, in order, failing at the first dead end (#16).

Fresh data folder → `confrere up` (a subprocess, as the README says) → signup in headless
Chromium with Pro Santé Connect (the simulator) and the e-mail code read from the development
mail page → the bot's welcome in the encrypted conversation it opens (matrix-nio) → `!annuaire`
finds the sample colleague, shown on Confrère → an encrypted message to that verified
colleague arrives. Every page is screenshotted to tests/artifacts/first_hour/.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
from pathlib import Path

import pytest

from tests.browser import Screenshots, launch
from tests.e2e.harness import stack_environment
from tests.e2e.matrix_client import TestClient
from tests.security.canaries import plant
from tests.signup.client import code_in

pytestmark = pytest.mark.e2e

PASSWORD = plant("Cafe-Au-Lait-Serré-77")
FAURE = ("Emmanuel", "Faure", "810000575141")  # in the bundled sample directory
NEWCOMER = ("Camille", "Bernard", "810001045367")  # not in the sample: a bare badge


class DeadEnd(AssertionError):
    """Where a newcomer would be stuck, said plainly."""


def check(condition: bool, step: str, detail: str = "") -> None:
    if not condition:
        raise DeadEnd(f"dead end at « {step} »" + (f": {detail}" if detail else ""))


async def start_up(data_dir: Path, env: dict) -> tuple[asyncio.subprocess.Process, dict]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bridge", "up", "--data", str(data_dir),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, **env})
    endpoints = data_dir / "endpoints.json"
    for _ in range(1200):
        if endpoints.exists() or process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    check(endpoints.exists(), "confrere up", "not ready within two minutes")
    return process, json.loads(endpoints.read_text())


async def stop(process: asyncio.subprocess.Process) -> str:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
    return (await asyncio.wait_for(process.communicate(), 90))[0].decode()


async def mailed_code(context, web_url: str, email: str, shots: Screenshots, who: str) -> str:
    """The code, as a newcomer reads it: the development mail page `confrere up` points to."""
    page = await context.new_page()
    try:
        for _ in range(100):
            await page.goto(f"{web_url}/_dev/mail")
            mails = [m for m in await page.locator("article.mail").all()
                     if email in await m.inner_text()]
            if mails:
                await shots.take(page, f"{who}-mail")
                return code_in(await mails[0].inner_text())
            await asyncio.sleep(0.2)
    finally:
        await page.close()
    raise DeadEnd(f"dead end at « e-mail code »: no mail for {email} on /_dev/mail")


async def psc_signup(browser, info: dict, person: tuple[str, str, str], email: str,
                     shots: Screenshots) -> str:
    """Signup through Pro Santé Connect as a practitioner clicks it; returns the Matrix id."""
    first, last, national_id = person
    who = first.lower()
    web_url = info["web_url"]
    context = await browser.new_context()
    page = await context.new_page()
    try:
        await page.goto(web_url)
        await shots.take(page, f"{who}-home")
        await page.locator('a[href="/signup"]').first.click()
        await page.wait_for_url("**/signup")
        await shots.take(page, f"{who}-signup")
        psc = page.get_by_role("link", name="S'inscrire avec Pro Santé Connect")
        check(await psc.count() == 1, "signup page", "no Pro Santé Connect button")
        await psc.click()
        await page.wait_for_url("**/wallet/auth**")
        await shots.take(page, f"{who}-psc-simulator")
        await page.locator("input[name=given_name]").fill(first)
        await page.locator("input[name=family_name]").fill(last)
        await page.locator("input[name=national_id]").fill(national_id)
        await page.get_by_role("button", name="Se connecter").click()
        await page.wait_for_url("**/signup")
        proven = await page.locator(".proven").inner_text()
        check(national_id in proven, "signup after PSC", f"identity not shown: {proven!r}")
        await shots.take(page, f"{who}-signup-proven")
        await page.get_by_label("Adresse mail").fill(email)
        await page.get_by_label("Libéral").check()
        await page.get_by_label("Mot de passe").fill(PASSWORD)
        terms = page.get_by_label("J'accepte les conditions générales")
        await terms.check()
        await page.get_by_label("J'accepte la politique de protection").check()
        await page.get_by_role("button", name="Vérifier mon adresse mail").click()
        await page.wait_for_url("**/signup/code")
        await shots.take(page, f"{who}-code")
        code = await mailed_code(context, web_url, email, shots, who)
        await page.get_by_label("Code reçu par mail").fill(code)
        await page.get_by_role("button", name="Créer mon compte").click()
        await page.wait_for_url("**/signup/bienvenue")
        await shots.take(page, f"{who}-welcome-page")
        done = await page.locator("main").inner_text()
        check("vérifier votre identité" not in done, "account created page",
              "asks to verify an identity Pro Santé Connect already proved")
        match = re.search(r"@[a-z0-9._=\-/+]+:[\w.\-:\[\]]+", done)
        check(match is not None, "account created page", "no Matrix identifier shown")
        for path in ("/cgu", "/confidentialite", "/mentions-legales"):
            response = await page.goto(web_url + path)
            check(response is not None and response.status == 200, f"footer link {path}")
            await shots.take(page, f"{who}-{path.strip('/')}")
        return match.group(0)
    finally:
        await context.close()


async def logged_in(info: dict, user_id: str, folder: Path) -> tuple[TestClient, str]:
    """Log in (matrix-nio, as Element would), join the bot's conversation, read its welcome."""
    client = TestClient(info["homeserver_url"], user_id, folder / user_id.strip("@").replace(
        ":", "_"))
    await client.login(PASSWORD)
    try:
        room_id = await client.accept_invite_from(info["bot_user_id"], timeout=60)
        welcome = await client.next_message_from(info["bot_user_id"], room_id, 0, 60)
    except AssertionError as exc:
        await client.close()
        raise DeadEnd(f"dead end at « the bot's welcome » for {user_id}: {exc}") from exc
    check(welcome.decrypted if hasattr(welcome, "decrypted") else True, "the bot's welcome",
          "not decrypted")
    check("vérifiée par Pro Santé Connect" in welcome.body, "the bot's welcome",
          f"does not say the account is verified: {welcome.body[:200]!r}")
    return client, room_id


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_first_hour(tmp_path, backend):
    playwright_api = pytest.importorskip("playwright.async_api")
    shots = Screenshots("first_hour")
    data_dir = tmp_path / "confrere-data"
    process, info = await start_up(data_dir, stack_environment())
    clients: list[TestClient] = []
    try:
        check(info["directory"]["sample"] and info["directory"]["practitioners"] > 50,
              "first start", f"no sample directory: {info['directory']}")
        async with playwright_api.async_playwright() as playwright:
            browser = await launch(playwright)
            try:
                colleague_id = await psc_signup(browser, info, FAURE,
                                                "emmanuel.faure@exemple.invalid", shots)
                newcomer_id = await psc_signup(browser, info, NEWCOMER,
                                               "camille.bernard@exemple.invalid", shots)
            finally:
                await browser.close()
        colleague, _ = await logged_in(info, colleague_id, tmp_path / "clients")
        clients.append(colleague)
        newcomer, bot_room = await logged_in(info, newcomer_id, tmp_path / "clients")
        clients.append(newcomer)

        answer = await newcomer.ask(bot_room, info["bot_user_id"], "!annuaire faure")
        check("FAURE" in answer.body, "!annuaire faure", f"not found: {answer.body[:300]!r}")
        check("échantillon de démonstration" in answer.body, "!annuaire faure",
              "the sample directory is not labelled as such")
        check(colleague_id in answer.body, "!annuaire faure",
              f"the verified colleague's address is not given: {answer.body[:400]!r}")

        created = await newcomer.client.room_create(
            is_direct=True, invite=[colleague_id],
            initial_state=[{"type": "m.room.encryption", "state_key": "",
                            "content": {"algorithm": "m.megolm.v1.aes-sha2"}}])
        room_id = getattr(created, "room_id", None)
        check(room_id is not None, "write to a colleague", f"room refused: {created}")
        joined = await colleague.client.join(room_id)
        check(getattr(joined, "room_id", None) == room_id, "write to a colleague",
              f"the colleague could not join: {joined}")
        await newcomer.wait_for(lambda: colleague_id in getattr(
            newcomer.client.rooms.get(room_id), "users", {}), 20, "colleague joined")
        mark = len(colleague.messages)
        await newcomer.send_text(room_id, "Bonjour, pouvez-vous recevoir une patiente mardi ?")
        received = await colleague.next_message_from(newcomer_id, room_id, mark, 30)
        check("pouvez-vous recevoir" in received.body, "write to a colleague",
              "the message did not arrive decrypted")
    finally:
        for client in clients:
            await client.close()
        output = await stop(process)
        print(f"\nscreenshots: {shots.folder}")
    assert "Confrère est arrêté." in output, output[-2000:]
