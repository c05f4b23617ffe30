"""Headless Debian Chromium for browser tests (never a browser downloaded by Playwright).

The flags keep Chromium off the network it cannot reach here and runnable as root.
"""

from __future__ import annotations

import shutil
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


async def launch(playwright):
    """A headless Chromium browser; close it when done."""
    return await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


ARTIFACTS = Path(__file__).resolve().parent / "artifacts"  # gitignored


class Screenshots:
    """Numbered full-page screenshots of every page a browser test sees, kept as artefacts in
    tests/artifacts/<test>/ (gitignored; the folder is printed so a failure can be looked at)."""

    def __init__(self, test_name: str) -> None:
        self.folder = ARTIFACTS / test_name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = 0

    async def take(self, page, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path
