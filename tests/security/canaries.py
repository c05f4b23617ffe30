"""Canary strings: what the tests plant (patient names, codes, passwords, tokens) so that a
scan at the end of the test session can prove none of it reached a log file
(`tests/security/log_scan.py`, run by `pytest_sessionfinish` in tests/conftest.py)."""

from __future__ import annotations

import uuid

_planted: dict[str, str] = {}


def canary(kind: str) -> str:
    """A fresh, unmistakable string standing for a secret or a patient datum of `kind`."""
    value = f"Canari{kind.capitalize()}{uuid.uuid4().hex[:12]}"
    _planted[value] = kind
    return value


def plant(value: str, kind: str = "secret") -> str:
    """Register a real secret the test uses (a password, a token, a code) for the log scan."""
    if value and len(value) >= 6:
        _planted.setdefault(value, kind)
    return value


def planted() -> frozenset[str]:
    return frozenset(_planted)


def kind_of(value: str) -> str:
    return _planted.get(value, "secret")
