"""Time from clicking "Se connecter avec Pro Santé Connect" to a synced Matrix client.

Headless Chromium opens Synapse's SSO redirect (what Element does on the button), goes through
the service and the PSC simulator (identity picked by script: no human time), comes back with
`loginToken` on a trusted client address; matrix-nio then logs in with `m.login.token`,
syncs and uploads its keys. A fresh browser context per login (no cookie left over).

Usage: python bench/sso_login.py [--count 20]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from _common import describe, percentile

from playwright.async_api import async_playwright

from tests.browser import launch
from tests.e2e import sso_flow
from tests.e2e.harness import Stack, stack_environment


async def main(count: int) -> None:
    env = stack_environment()
    env["CONFRERE_AUTH__TRUSTED_CLIENTS"] = sso_flow.CLIENT_URL
    with tempfile.TemporaryDirectory() as tmp:
        stack = await Stack.start(Path(tmp), env)
        try:
            national_id = sso_flow.new_national_id()
            user_id = await sso_flow.sso_account(stack, "bench", national_id)
            chain, total, ours = [], [], []
            async with async_playwright() as playwright:
                browser = await launch(playwright)
                try:
                    await sso_flow.client_page()
                    for _ in range(count + 1):  # the first one warms up, not counted
                        context = await browser.new_context()
                        page = await context.new_page()
                        started = time.perf_counter()
                        await page.goto(sso_flow.redirect_url(stack))  # the button
                        at_psc = time.perf_counter()
                        await page.fill('input[name="national_id"]', national_id)
                        submitted = time.perf_counter()
                        await page.get_by_role("button", name="Se connecter").click()
                        await page.wait_for_url(sso_flow.CLIENT_URL + "**")
                        browsed = time.perf_counter()
                        client = await sso_flow.token_client(stack, user_id,
                                                             sso_flow.login_token(page.url))
                        synced = time.perf_counter()
                        await context.close()
                        stack.clients.remove(client)
                        await client.close()
                        # The practitioner's own time at PSC (here a scripted fill) is not ours.
                        machine = (at_psc - started) + (synced - submitted)
                        chain.append(((at_psc - started) + (browsed - submitted)) * 1000)
                        total.append((synced - started) * 1000)
                        ours.append(machine * 1000)
                finally:
                    await browser.close()
            chain, total, ours = chain[1:], total[1:], ours[1:]
            print(describe("redirects (no PSC page time)", chain))
            print(describe("button → synced, wall clock", total))
            print(describe("button → synced, no PSC page", ours))
            print(f"p50 button → synced client: {percentile(ours, 50) / 1000:.2f} s without "
                  f"the time on PSC's page, {percentile(total, 50) / 1000:.2f} s wall clock "
                  f"(scripted identity pick), over {len(total)} logins")
        finally:
            await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    asyncio.run(main(parser.parse_args().count))
