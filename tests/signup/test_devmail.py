"""The embedded default: the service runs its own SMTP catcher and `/_dev/mail` shows what it
caught, so a newcomer finishes a signup without a mail server; production has no such page."""

from __future__ import annotations

import asyncio
import html

from bridge.config import load_settings, write_default_config
from bridge.service import ConfrereService
from bridge.stack import endpoints, summary
from tests.e2e.harness import stack_environment
from tests.signup.client import SignupClient, code_in, unique_email


async def test_dev_mailbox_shows_the_code(tmp_path):
    write_default_config(tmp_path)
    service = ConfrereService(load_settings(tmp_path, stack_environment()))
    await service.start_http()
    client = SignupClient(service.settings.service.url)
    try:
        email = unique_email()
        page = await client.start(email=email)
        assert page.url.endswith("/signup/code")
        for _ in range(100):
            if service.mail.catcher.to(email):
                break
            await asyncio.sleep(0.05)
        box = await client.get("/_dev/mail")
        assert box.status == 200 and email in box.text
        assert code_in(html.unescape(box.text.split("<pre>")[1].split("</pre>")[0]))
        info = endpoints(service.settings, service)
        assert info["mail"]["mode"] == "dev_catcher"
        assert info["mail"]["mailbox_url"].endswith("/_dev/mail")
        text = summary(info, 1.0, True)
        assert "/signup" in text and "/_dev/mail" in text
    finally:
        await client.close()
        await service.stop()


async def test_no_dev_mailbox_when_a_real_relay_is_configured(web, client_for):
    page = await client_for(web).get("/_dev/mail")
    assert page.status == 404
    assert endpoints(web.settings, web)["mail"]["mode"] == "smtp"
