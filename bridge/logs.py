"""Logging: everything to `<data>/logs/confrere.log`, only warnings to the terminal.

No message content, patient datum, code, password or token may reach a log, from our code or
from a library. Two layers make sure of it:
- chatty libraries are held at WARNING whatever the configured level (`QUIET_LOGGERS`): their
  DEBUG/INFO lines carry SQL parameters, HTTP headers, mail bodies and decrypted events;
- every handler we install carries `LogHygieneFilter`, which rewrites a record before it is
  written: known leaky call sites (matrix-nio dumps the decrypted event that failed its schema
  at WARNING) are replaced by a fixed text, anything that looks like event content or a secret
  (a dict with a `body`/`content`/`password`… key in the arguments, a JSON-ish `"body":` in the
  text, a schema-validation dump, a traceback quoting any of these) is withheld, and token
  shapes (`syt_…`, `access_token=…`, `Bearer …`) are masked in what remains.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Mapping
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Library loggers whose lines below WARNING carry content or secrets (see module docstring).
QUIET_LOGGERS = (
    "nio", "peewee", "sqlalchemy", "aiosqlite", "asyncpg", "aiohttp.access", "aiohttp.client",
    "aiosmtplib", "mail.log", "urllib3", "playwright",
)

WITHHELD = "[contenu masqué / content withheld]"

# Keys of event content, of secrets, and of patient details (the referral dialog's fields).
SENSITIVE_KEYS = frozenset({
    "body", "formatted_body", "content", "ciphertext", "session_key", "plaintext", "m.new_content",
    "password", "new_password", "access_token", "refresh_token", "as_token", "hs_token", "code",
    "token", "secret", "client_secret", "id_token", "nom", "prenom", "prénom", "nom_naissance",
    "date_naissance", "birth_date", "first_name", "last_name", "telephone", "phone", "email",
    "adresse", "address",
})

# Text shapes that betray a dumped event or object: a quoted sensitive key followed by a colon
# (repr of a dict, JSON), and jsonschema's ValidationError text, which quotes the instance.
_CONTENT_TEXT = re.compile(
    r"""["'](?:body|formatted_body|content|ciphertext|session_key|plaintext|password|"""
    r"""new_password|access_token|refresh_token|m\.new_content)["']\s*:"""
    r"""|Failed validating|On instance\b""",
    re.IGNORECASE,
)
_TOKENS = (
    (re.compile(r"\b(sy[tu]_[A-Za-z0-9_\-]+)"), "<jeton masqué>"),
    (re.compile(r"((?:access_token|password|client_secret)=|[?&;](?:token|code|state)=)"
                r"[^&\s\"']+", re.IGNORECASE), r"\1<masqué>"),
    (re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=\-]+", re.IGNORECASE), r"\1<masqué>"),
)

# (logger name prefix, message prefix) of call sites known to dump decrypted or raw payloads.
_LEAKY_SITES = (
    ("nio.events", ""),                      # "Error validating event: <instance dump>"
    ("nio.responses", ""),                   # response schema dumps (keys, sync bodies)
    ("nio.crypto", "Error validating decrypted"),
    ("nio.crypto", "Failed to parse Olm message payload"),
    ("nio.client", ""),                      # pprint of key dicts, request lists
)


def _sensitive_structure(value: object, depth: int = 0) -> bool:
    """True if `value` (a log argument) is or contains a mapping with a sensitive key."""
    if depth > 4:
        return False
    if isinstance(value, Mapping):
        if any(str(key).lower() in SENSITIVE_KEYS for key in value):
            return True
        return any(_sensitive_structure(item, depth + 1) for item in value.values())
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(_sensitive_structure(item, depth + 1) for item in list(value)[:50])
    source = getattr(value, "source", None)  # nio events keep the raw event in `.source`
    return isinstance(source, Mapping) and _sensitive_structure(source, depth + 1)


def mask_tokens(text: str) -> str:
    for pattern, replacement in _TOKENS:
        text = pattern.sub(replacement, text)
    return text


class LogHygieneFilter(logging.Filter):
    """Rewrites (never drops, except library DEBUG chatter) records that would leak."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("nio") and record.levelno < logging.INFO:
            return False
        reason = self._leak(record)
        if reason is not None:
            record.msg = f"{WITHHELD} {reason}"
            record.args = ()
        else:
            try:
                message = record.getMessage()
            except Exception:  # noqa: BLE001 - a malformed record must not break logging
                message, reason = f"{WITHHELD} malformed log record", "malformed"
            masked = mask_tokens(message)
            if masked != message or reason:
                record.msg, record.args = masked, ()
        self._clean_exception(record)
        return True

    @staticmethod
    def _leak(record: logging.LogRecord) -> str | None:
        message = record.msg if isinstance(record.msg, str) else repr(record.msg)
        for prefix, start in _LEAKY_SITES:
            if record.name.startswith(prefix) and message.startswith(start):
                return f"({record.name}: event or payload dump)"
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        if _sensitive_structure(record.msg) or any(_sensitive_structure(a) for a in args or ()):
            return "(an argument carried message content or a secret)"
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001
            return "(malformed log record)"
        if _CONTENT_TEXT.search(text):
            return "(the text quoted message content or a secret)"
        return None

    @staticmethod
    def _clean_exception(record: logging.LogRecord) -> None:
        """A traceback is kept, but not an exception message that quotes content."""
        if not record.exc_info or not record.exc_info[1]:
            return
        exc_type, exc, _tb = record.exc_info
        text = str(exc)
        if _CONTENT_TEXT.search(text) or mask_tokens(text) != text or any(
                _sensitive_structure(arg) for arg in getattr(exc, "args", ())):
            record.exc_info = None
            record.exc_text = f"{exc_type.__name__}: {WITHHELD} (traceback withheld)"


def quiet_libraries() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


def file_handler(logs_dir: Path) -> logging.Handler:
    """The service's log file, with the hygiene filter."""
    logs_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(
        logs_dir / "confrere.log", maxBytes=20_000_000, backupCount=5, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(LogHygieneFilter())
    return handler


def configure_logging(logs_dir: Path, level: str = "INFO") -> None:
    root = logging.getLogger()
    root.setLevel(level)
    for handler in list(root.handlers):
        root.removeHandler(handler)
    terminal = logging.StreamHandler()
    terminal.setLevel(logging.WARNING)
    terminal.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    terminal.addFilter(LogHygieneFilter())
    root.addHandler(file_handler(logs_dir))
    root.addHandler(terminal)
    quiet_libraries()


def attach_service_log(logs_dir: Path, level: str = "INFO") -> logging.Handler:
    """Add the service's log file to a process that already has its own logging (the test
    session runs the service in-process); the caller removes the handler when done."""
    root = logging.getLogger()
    wanted = logging.getLevelName(level)
    if isinstance(wanted, int) and (root.level == logging.NOTSET or root.level > wanted):
        root.setLevel(wanted)
    handler = file_handler(logs_dir)
    root.addHandler(handler)
    quiet_libraries()
    return handler
