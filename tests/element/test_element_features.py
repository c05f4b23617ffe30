"""Two verified practitioners on Element's crypto stack (matrix-js-sdk + Rust crypto, both
cross-signed, "exclude insecure devices" on) use every message feature Element offers in an
encrypted room: each event is sent by one, decrypted by the other, and travels as
`m.room.encrypted` (the homeserver only accepts Megolm ciphertext for non-state events).
"""

from __future__ import annotations

import time

import pytest

from tests.element.conftest import element_account, raw_messages, record_timing
from tests.element.jsclient import MEGOLM, JsClient, missing_packages, needs_node

pytestmark = [pytest.mark.e2e, needs_node]

POLL_UNSTABLE = {  # what Element Web sends today (MSC3381, unstable prefix)
    "start": ("org.matrix.msc3381.poll.start", {
        "org.matrix.msc3381.poll.start": {
            "question": {"org.matrix.msc1767.text": "Staff du jeudi : 14 h ?"},
            "kind": "org.matrix.msc3381.poll.disclosed", "max_selections": 1,
            "answers": [{"id": "oui", "org.matrix.msc1767.text": "Oui"},
                        {"id": "non", "org.matrix.msc1767.text": "Non"}],
        },
        "org.matrix.msc1767.text": "Staff du jeudi : 14 h ?\n1. Oui\n2. Non",
    }),
    "response": ("org.matrix.msc3381.poll.response",
                 {"org.matrix.msc3381.poll.response": {"answers": ["oui"]}}),
    "end": ("org.matrix.msc3381.poll.end",
            {"org.matrix.msc3381.poll.end": {}, "org.matrix.msc1767.text": "Sondage terminé"}),
}
POLL_STABLE = {  # the stable names (Matrix 1.x, m.poll.*)
    "start": ("m.poll.start", {
        "m.poll": {
            "question": {"m.text": [{"body": "Staff du jeudi : 14 h ?"}]},
            "kind": "m.poll.disclosed", "max_selections": 1,
            "answers": [{"m.id": "oui", "m.text": [{"body": "Oui"}]},
                        {"m.id": "non", "m.text": [{"body": "Non"}]}],
        },
        "m.text": [{"body": "Staff du jeudi : 14 h ?"}],
    }),
    "response": ("m.poll.response", {"m.selections": ["oui"]}),
    "end": ("m.poll.end", {"m.text": [{"body": "Sondage terminé"}]}),
}
# a tiny valid PNG (1×1) and a PDF-like payload
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")
PDF = b"%PDF-1.4\n% courrier d'adressage (test)\n" + bytes(range(256)) * 8


class Pair:
    """Alice and Bob, both on js-sdk, in one encrypted room they both joined."""

    def __init__(self, stack, alice: JsClient, bob: JsClient, room_id: str) -> None:
        self.stack, self.alice, self.bob, self.room_id = stack, alice, bob, room_id

    async def exchange(self, scenario: str, sender: JsClient, receiver: JsClient,
                       content: dict, type: str = "m.room.message",
                       thread_id: str | None = None) -> dict:
        """Send, wait until the other side has decrypted it, check the wire; the event seen."""
        started = time.monotonic()
        event_id = await sender.send(self.room_id, content, type, thread_id)
        received = await receiver.wait_event_id(event_id)
        record_timing(self.stack, scenario, started)
        assert received["decryption_failure"] is None, received
        assert received["encrypted"] and received["type"] == type, received
        assert received["sender"] == sender.user_id
        # Element shows no warning shield: the sender's device is cross-signed by its owner
        assert received["shield"] == {"colour": "NONE", "reason": None}, received["shield"]
        await self.check_ciphertext_on_the_wire(receiver, event_id)
        return received

    async def check_ciphertext_on_the_wire(self, member: JsClient, event_id: str) -> None:
        """What a member fetches from the server is Megolm ciphertext, nothing in clear but
        the relation (which Matrix keeps in clear for server-side aggregation)."""
        wire = (await raw_messages(self.stack, member, self.room_id))[event_id]
        assert wire["type"] == "m.room.encrypted", wire["type"]
        assert wire["content"]["algorithm"] == MEGOLM
        assert set(wire["content"]) <= {"algorithm", "ciphertext", "sender_key", "device_id",
                                        "session_id", "m.relates_to"}, wire["content"].keys()
        assert wire["content"]["ciphertext"], "no ciphertext"


@pytest.fixture(scope="module")
async def pair(stack):
    """One pair per back-end for the whole module (a login with cross-signing takes seconds)."""
    problem = missing_packages()
    if problem:
        pytest.fail(problem)
    url = stack.settings.synapse.url
    clients: list[JsClient] = []
    try:
        for prefix in ("alice", "bob"):
            user_id, password = await element_account(stack, prefix)
            clients.append(await JsClient.start(url, user_id, password, isolation="only_signed"))
        alice, bob = clients
        assert alice.cross_signing_ready and bob.cross_signing_ready
        room_id = await alice.create_room(name="Staff cardiologie", invite=[bob.user_id])
        await bob.join(room_id)
        await alice.wait_member(room_id, bob.user_id)
        yield Pair(stack, alice, bob, room_id)
    finally:
        for client in clients:
            await client.close()


async def test_text(pair):
    seen = await pair.exchange("text", pair.alice, pair.bob,
                               {"msgtype": "m.text", "body": "Bonjour, un avis ?"})
    assert seen["content"] == {"msgtype": "m.text", "body": "Bonjour, un avis ?"}


async def test_reply(pair):
    asked = await pair.exchange("reply: original", pair.alice, pair.bob,
                                {"msgtype": "m.text", "body": "Dispo demain ?"})
    seen = await pair.exchange("reply", pair.bob, pair.alice, {
        "msgtype": "m.text", "body": "Oui, à 9 h.",
        "m.relates_to": {"m.in_reply_to": {"event_id": asked["event_id"]}},
    })
    assert seen["content"]["body"] == "Oui, à 9 h."
    assert seen["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == asked["event_id"]


async def test_edit(pair):
    original = await pair.exchange("edit: original", pair.alice, pair.bob,
                                   {"msgtype": "m.text", "body": "Rendez-vous mardi"})
    seen = await pair.exchange("edit", pair.alice, pair.bob, {
        "msgtype": "m.text", "body": "* Rendez-vous mercredi",
        "m.new_content": {"msgtype": "m.text", "body": "Rendez-vous mercredi"},
        "m.relates_to": {"rel_type": "m.replace", "event_id": original["event_id"]},
    })
    assert seen["content"]["m.new_content"]["body"] == "Rendez-vous mercredi"
    assert seen["relation"] == {"rel_type": "m.replace", "event_id": original["event_id"]}


async def test_reaction(pair):
    """matrix-js-sdk never encrypts reactions (client.js `shouldEncryptEventForRoom`: the
    relation is in clear anyway, and encrypted reactions would break server-side bundling and
    push rules). So Element's reaction reaches the server as a clear `m.reaction` whose whole
    content is the annotation: the homeserver's "ciphertext only" rule must let exactly that
    shape through (the key, an emoji, is the only readable part), or reactions break."""
    original = await pair.exchange("reaction: original", pair.bob, pair.alice,
                                   {"msgtype": "m.text", "body": "Compte rendu envoyé"})
    annotation = {"rel_type": "m.annotation", "event_id": original["event_id"], "key": "👍"}
    started = time.monotonic()
    event_id = await pair.alice.send(pair.room_id, {"m.relates_to": annotation}, "m.reaction")
    seen = await pair.bob.wait_event_id(event_id)
    record_timing(pair.stack, "reaction (clear m.reaction)", started)
    assert seen["type"] == "m.reaction" and seen["sender"] == pair.alice.user_id
    assert seen["relation"] == annotation
    wire = (await raw_messages(pair.stack, pair.bob, pair.room_id))[event_id]
    assert wire["type"] == "m.reaction", "js-sdk sends reactions in clear (see docstring)"
    assert wire["content"] == {"m.relates_to": annotation}, "nothing but the annotation"


async def test_redaction(pair):
    """Deleting a message (Element's "Remove") is a clear `m.room.redaction`, as the spec wants."""
    original = await pair.exchange("redaction: original", pair.alice, pair.bob,
                                   {"msgtype": "m.text", "body": "Message envoyé par erreur"})
    started = time.monotonic()
    answer = await pair.alice.call("redact", room_id=pair.room_id, event_id=original["event_id"])
    seen = await pair.bob.wait_event_id(answer["event_id"])
    record_timing(pair.stack, "redaction", started)
    assert seen["type"] == "m.room.redaction" and not seen["encrypted"]
    wire = (await raw_messages(pair.stack, pair.bob, pair.room_id))
    assert wire[answer["event_id"]]["type"] == "m.room.redaction"
    assert wire[original["event_id"]]["content"] == {}, "the server dropped the ciphertext"


async def test_thread(pair):
    root = await pair.exchange("thread: root", pair.alice, pair.bob,
                               {"msgtype": "m.text", "body": "Dossier de M. X (fil)"})
    seen = await pair.exchange("thread", pair.bob, pair.alice, {
        "msgtype": "m.text", "body": "Je regarde.",
        "m.relates_to": {"rel_type": "m.thread", "event_id": root["event_id"],
                         "is_falling_back": True,
                         "m.in_reply_to": {"event_id": root["event_id"]}},
    }, thread_id=root["event_id"])
    assert seen["relation"]["rel_type"] == "m.thread"
    assert seen["relation"]["event_id"] == root["event_id"]
    assert seen["content"]["body"] == "Je regarde."


@pytest.mark.parametrize("names", [POLL_UNSTABLE, POLL_STABLE], ids=["msc3381", "stable"])
async def test_poll(pair, names):
    flavour = "msc3381" if names is POLL_UNSTABLE else "stable"
    start_type, start = names["start"]
    started = await pair.exchange(f"poll start ({flavour})", pair.alice, pair.bob, start,
                                  type=start_type)
    assert started["content"] == start
    reference = {"m.relates_to": {"rel_type": "m.reference", "event_id": started["event_id"]}}
    response_type, response = names["response"]
    answered = await pair.exchange(f"poll response ({flavour})", pair.bob, pair.alice,
                                   {**response, **reference}, type=response_type)
    assert {k: answered["content"][k] for k in response} == response
    assert answered["relation"]["event_id"] == started["event_id"]
    end_type, end = names["end"]
    ended = await pair.exchange(f"poll end ({flavour})", pair.alice, pair.bob,
                                {**end, **reference}, type=end_type)
    assert ended["relation"] == {"rel_type": "m.reference", "event_id": started["event_id"]}


@pytest.mark.parametrize("msgtype, data, mimetype, name", [
    ("m.image", PNG, "image/png", "radio.png"),
    ("m.file", PDF, "application/pdf", "courrier.pdf"),
], ids=["image", "file"])
async def test_encrypted_attachment(pair, msgtype, data, mimetype, name):
    started = time.monotonic()
    file = await pair.alice.upload_encrypted(data, mimetype)
    seen = await pair.exchange(f"attachment {msgtype} (message)", pair.alice, pair.bob, {
        "msgtype": msgtype, "body": name, "file": file,
        "info": {"mimetype": mimetype, "size": len(data)},
    })
    assert seen["content"]["file"]["url"] == file["url"]
    assert "url" not in seen["content"], "an encrypted attachment has no clear `url`"
    assert await pair.bob.download_encrypted(seen["content"]["file"]) == data
    record_timing(pair.stack, f"attachment {msgtype} (upload→decrypted file)", started)
    # what the server stores is not the file
    stored = await pair.bob.download_raw(file["url"])
    assert len(stored) == len(data) and stored != data and stored[:4] != data[:4]
