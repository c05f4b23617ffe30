"""The outbox under an SMTP outage: 50 signups while the server is down, then it comes back —
every code arrives, exactly once; and the page tells the user the mail is only delayed."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bridge.mail.models import OutboxMail
from tests.e2e.harness import wait
from tests.signup.client import SignupClient, code_in, unique_email


async def test_fifty_signups_during_an_smtp_outage_all_arrive_once(web, smtp):
    await smtp.stop()
    emails = [unique_email(f"panne{i}") for i in range(50)]
    clients = [SignupClient(web.settings.service.url) for _ in emails]
    try:
        pages = await asyncio.gather(*(c.start(email=e) for c, e in zip(clients, emails)))
        assert all(p.status == 200 and p.url.endswith("/signup/code") for p in pages)

        async def all_tried_and_failed() -> bool:
            async with web.database.session() as session:
                rows = list(await session.scalars(select(OutboxMail).where(
                    OutboxMail.recipient.in_(emails))))
            assert len(rows) == 50 and all(r.sent_at is None for r in rows)
            return all(r.attempts >= 1 for r in rows)
        assert await wait(all_tried_and_failed, 20)  # the worker tries, fails, backs off
        assert not any(smtp.to(e) for e in emails)
        page = await clients[0].get("/signup/code")
        assert "prend du retard" in page.text and "inutile de recommencer" in page.text
    finally:
        await smtp.start()
        for client in clients:
            await client.close()
    for email in emails:
        await smtp.wait_for(email, 1, timeout=60)
    await asyncio.sleep(3)  # a duplicate would have time to show up
    for email in emails:
        received = smtp.to(email)
        assert len(received) == 1, email
        assert code_in(received[0].text)
        assert received[0].html and "<html" in received[0].html  # plain text + HTML
    async with web.database.session() as session:
        rows = list(await session.scalars(select(OutboxMail).where(
            OutboxMail.recipient.in_(emails))))
    assert all(r.sent_at is not None and r.body_text == "" for r in rows)
    assert len({r.message_id for r in rows}) == 50
