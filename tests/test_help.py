"""`!aide` lists the administrators' commands to the administrators only (#16 item 11)."""

from __future__ import annotations

from types import SimpleNamespace

from bridge.features import build_router

ADMIN = "@admin:localhost"


async def _help_for(sender: str) -> str:
    services = SimpleNamespace(settings=SimpleNamespace(administrators=(ADMIN,)))
    router = build_router(services)
    answers: list[str] = []

    async def reply(text: str, html: str | None = None) -> None:
        answers.append(text + "\n" + (html or ""))

    assert await router.dispatch(sender, "!room:localhost", "!aide", reply)
    return answers[0]


async def test_practitioner_does_not_see_admin_commands():
    text = await _help_for("@lea:localhost")
    assert "!annuaire" in text and "!verifier" in text
    assert "!admin" not in text and "Administration" not in text


async def test_administrator_sees_admin_commands():
    text = await _help_for(ADMIN)
    assert "!admin" in text and "Administration" in text
