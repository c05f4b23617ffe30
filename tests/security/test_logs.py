"""Hole 9: no message content, patient datum, code, password or token in any log.

The unit cases drive real library code (matrix-nio's event parsing, jsonschema's errors)
through the service's log handler; the end-to-end case reproduces the original hole — an
encrypted message whose decrypted content fails nio's schema, sent by a real client to the bot —
and reads every file of the stack's `logs/`. The session-wide scan (tests/conftest.py) then
checks every canary of the whole run against every log file.
"""

from __future__ import annotations

import logging

import pytest
from nio import Event

from bridge.logs import WITHHELD, LogHygieneFilter, file_handler, quiet_libraries
from tests.security.canaries import canary, plant
from tests.security.log_scan import log_files, scan


@pytest.fixture
def service_log(tmp_path):
    """The service's real file handler on the root logger, at DEBUG (the worst case)."""
    root = logging.getLogger()
    handler = file_handler(tmp_path / "logs")
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    quiet_libraries()
    try:
        yield tmp_path / "logs" / "confrere.log"
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(old_level)


def _read(path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.rule("logs.library-dump")
def test_nio_schema_failure_of_a_decrypted_event_is_not_logged(service_log):
    """What the bot's nio does with a decrypted event whose `body` is not a string."""
    patient = canary("patient")
    event = Event.parse_decrypted_event({
        "type": "m.room.message", "sender": "@a:x", "event_id": "$e", "origin_server_ts": 1,
        "content": {"msgtype": "m.text", "body": [f"Mme {patient}, née le 01/02/1950"]},
    })
    assert type(event).__name__ == "BadEvent"
    text = _read(service_log)
    assert patient not in text
    assert WITHHELD in text and "nio.events" in text, "the record is kept, its content is not"


@pytest.mark.rule("logs.content-argument")
@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_event_content_in_arguments_is_withheld_at_every_level(service_log, level):
    patient = canary("patient")
    logger = logging.getLogger("bridge.some.module")
    logger.setLevel(logging.DEBUG)
    logger.log(level, "got event %s", {"type": "m.room.message",
                                       "content": {"msgtype": "m.text", "body": patient}})
    logger.log(level, "answer: %r", [{"formatted_body": f"<b>{patient}</b>"}])
    logger.log(level, "text was {'body': '%s'}", patient)
    logger.log(level, "json was {\"body\": \"%s\"}", patient)
    text = _read(service_log)
    assert patient not in text
    assert text.count(WITHHELD) == 4


@pytest.mark.rule("logs.secret")
def test_tokens_and_codes_are_masked_in_urls_and_headers(service_log):
    token = plant("syt_Y2FuYXJp_" + canary("token"), "access token")
    code = canary("code")
    password = canary("password")
    log = logging.getLogger("bridge.web")
    log.warning("GET /_matrix/client/v3/sync?access_token=%s&since=1", token)
    log.warning("callback /psc/callback?state=abc&code=%s", code)
    log.warning("header Authorization: Bearer %s", token)
    log.warning("login with %s", {"user": "x", "password": password})
    text = _read(service_log)
    for secret in (token, code, password):
        assert secret not in text
    assert "GET /_matrix/client/v3/sync" in text, "the rest of the line stays useful"


@pytest.mark.rule("logs.traceback")
def test_an_exception_quoting_content_loses_its_message_not_its_type(service_log):
    patient = canary("patient")
    try:
        raise ValueError(f"bad event {{'body': '{patient}'}}")
    except ValueError:
        logging.getLogger("bridge.handlers.x").exception("handler failed")
    text = _read(service_log)
    assert patient not in text
    assert "handler failed" in text and "ValueError" in text


@pytest.mark.rule("logs.library-level")
def test_chatty_libraries_stay_at_warning_even_when_the_service_logs_debug(service_log):
    patient = canary("patient")
    logging.getLogger("sqlalchemy.engine.Engine").info("INSERT … ('%s',)", patient)
    logging.getLogger("aiosqlite").debug("executing %s", patient)
    logging.getLogger("nio.crypto.olm_machine").debug("plaintext %s", patient)
    assert patient not in _read(service_log)


def test_the_session_scan_finds_a_canary_and_names_file_and_kind(tmp_path):
    """The scan itself must be able to fail (values here are not registered, so the session
    scan is not tripped by this test's own files)."""
    logs = tmp_path / "stack" / "logs"
    logs.mkdir(parents=True)
    (logs / "synapse.log").write_text("x CanariPatientdeadbeef0000 y\n")
    (logs / "confrere.log.1").write_text("code 4821937 sent; 482193 is not a code\n")
    (tmp_path / "stack" / "bot").mkdir()
    (tmp_path / "stack" / "bot" / "store.db").write_text("CanariPatientdeadbeef0000")
    hits = scan(tmp_path, {"CanariPatientdeadbeef0000": "patient", "482193": "one-time code",
                           "821937": "one-time code"})
    assert {(h.path.name, h.kind) for h in hits} == {("synapse.log", "patient"),
                                                      ("confrere.log.1", "one-time code")}
    assert [h for h in hits if h.kind == "one-time code"][0].hint.startswith("482")
    assert all(p.name != "store.db" for p in log_files(tmp_path))


@pytest.mark.e2e
@pytest.mark.rule("logs.library-dump")
async def test_encrypted_message_failing_nio_schema_leaves_no_trace_in_the_stack_logs(stack):
    """The original hole: a real client sends the bot an encrypted message whose decrypted
    content fails nio's schema (`body` is a list); its text used to land in confrere.log."""
    patient = canary("patient")
    # (verified: an unverified account's first message can race the module's cache)
    alice = await stack.practitioner("alice", verified=True)
    room_id = await alice.open_dm(stack.bot_id)
    # a well-formed message naming a patient first: the bot holds the room key from now on
    await alice.ask(room_id, stack.bot_id, f"Mme {canary('patient')} à revoir, !aide")
    sent = await alice.client.room_send(
        room_id, "m.room.message",
        {"msgtype": "m.text", "body": [f"Patiente {patient}, 3 rue des Lilas"]},
        ignore_unverified_devices=True,
    )
    assert getattr(sent, "event_id", None), sent
    answer = await alice.ask(room_id, stack.bot_id, "!aide")
    assert answer.decrypted and "!aide" in answer.body, "the bot still works"
    logs = stack.settings.logs_dir
    confrere_log = (logs / "confrere.log").read_text(encoding="utf-8")
    assert "nio.events" in confrere_log and WITHHELD in confrere_log, \
        "the bad event reached nio's schema check, and its record was withheld"
    files = log_files(logs)
    assert any(p.name == "synapse.log" for p in files)
    for path in files:
        assert patient not in path.read_text(encoding="utf-8", errors="replace"), path.name


@pytest.mark.e2e
@pytest.mark.rule("logs.any-level")
async def test_a_whole_stack_at_debug_level_logs_no_secret_nor_content(tmp_path):
    """An operator troubleshooting with `logging.level: DEBUG` (Synapse and the service) must
    not turn the logs into a copy of the conversations, passwords and tokens."""
    from tests.e2e.harness import Stack, stack_environment

    root_level = logging.getLogger().level
    stack = await Stack.start(tmp_path / "debug-stack",
                              stack_environment({"CONFRERE_LOGGING__LEVEL": "DEBUG"}))
    patient = canary("patient")
    try:
        alice = await stack.practitioner("alice", verified=True)  # the bot answers its DM
        room_id = await alice.open_dm(stack.bot_id)
        assert (await alice.ask(room_id, stack.bot_id, f"!aide {patient}")).decrypted
        await alice.client.room_send(room_id, "m.room.message",
                                     {"msgtype": "m.text", "body": {"nom": patient}},
                                     ignore_unverified_devices=True)
        assert (await alice.ask(room_id, stack.bot_id, "!aide")).decrypted
        token = alice.client.access_token
    finally:
        await stack.stop()
        logging.getLogger().setLevel(root_level)
    synapse_log = stack.settings.logs_dir / "synapse.log"
    assert " - DEBUG - " in synapse_log.read_text(encoding="utf-8"), "Synapse did log at DEBUG"
    for path in log_files(stack.settings.logs_dir):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert patient not in text and token not in text, path.name
