"""Headless Debian Chromium for browser tests (never a browser downloaded by Playwright).

The flags keep Chromium off the network it cannot reach here and runnable as root.
"""

from __future__ import annotations

import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


async def launch(playwright):
    """A headless Chromium browser; close it when done."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
