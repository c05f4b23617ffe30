"""Raw appservice events become typed objects; a hook receives only the kind it declared."""

from __future__ import annotations

from types import SimpleNamespace

from bridge.appservice.events import (
    Event,
    InviteToGhost,
    MembershipChange,
    Message,
    on,
    parse,
)

SETTINGS = SimpleNamespace(appservice=SimpleNamespace(ghost_prefix="rpps_"),
                           server_name="localhost")


def member(target: str, membership: str) -> dict:
    return {"type": "m.room.member", "room_id": "!r:localhost", "sender": "@a:localhost",
            "event_id": "$m", "state_key": target,
            "content": {"membership": membership, "displayname": "X"}}


def test_parse_gives_the_most_precise_type():
    invite = parse(member("@rpps_810000100007:localhost", "invite"), SETTINGS)
    assert isinstance(invite, InviteToGhost) and invite.national_id == "810000100007"
    assert type(parse(member("@rpps_810000100007:localhost", "leave"), SETTINGS)) \
        is MembershipChange
    assert type(parse(member("@bob:localhost", "invite"), SETTINGS)) is MembershipChange
    message = parse({"type": "m.room.message", "room_id": "!r", "sender": "@a",
                     "content": {"msgtype": "m.text", "body": "hi"}}, SETTINGS)
    assert isinstance(message, Message) and message.body == "hi"
    odd = parse({"type": "m.room.member", "content": "nope"}, SETTINGS)
    assert type(odd) is Event


async def test_a_hook_receives_only_its_kind():
    received = []

    async def handler(event: InviteToGhost) -> None:
        received.append(event.target)

    hook = on(InviteToGhost, handler, SETTINGS)
    await hook(member("@bob:localhost", "invite"))
    await hook({"type": "m.room.message", "content": {"body": "x"}})
    await hook(member("@rpps_810000100007:localhost", "invite"))
    assert received == ["@rpps_810000100007:localhost"]
