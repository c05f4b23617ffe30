"""The legal pages: terms of use (/cgu), privacy policy (/confidentialite), legal notice
(/mentions-legales), linked from every page footer and from the signup consents.

The shipped templates (`templates/legal/`) are filled from the `legal:` settings and the
versions of `signup:`. An operator replaces a page entirely by writing its HTML body to
`<data>/legal/<page>.html` (read at each request, so an edit needs no restart).
"""

from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from bridge.web.templating import render

log = logging.getLogger(__name__)

PAGES = {
    "/cgu": ("cgu", "Conditions générales d'utilisation"),
    "/confidentialite": ("confidentialite", "Politique de confidentialité"),
    "/mentions-legales": ("mentions-legales", "Mentions légales"),
}
TERMS_PATH = "/cgu"
PRIVACY_PATH = "/confidentialite"


class LegalPages:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.override_dir = Path(settings.data_dir) / "legal"

    def routes(self) -> list[web.RouteDef]:
        return [web.get(path, self.page) for path in PAGES]

    async def page(self, request: web.Request) -> web.Response:
        name, title = PAGES[request.path]
        override = self.override_dir / f"{name}.html"
        if override.is_file():
            try:
                return render("legal/custom.html", title=title,
                              body_html=override.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                log.warning("legal page %s: cannot read the operator's file (%s); "
                            "showing the shipped text", name, type(exc).__name__)
        signup = self.settings.signup
        return render(f"legal/{name}.html", title=title, legal=self.settings.legal,
                      terms_version=signup.terms_version, privacy_version=signup.privacy_version,
                      retention_months=max(1, round(self.settings.synapse.retention_days / 30.5)))
