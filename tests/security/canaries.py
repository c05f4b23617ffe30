"""Canary strings: what the tests plant (patient names, codes, passwords, tokens) so that a
scan at the end of the test session can prove none of it reached a log file."""

from __future__ import annotations

import uuid

_planted: set[str] = set()


def canary(kind: str) -> str:
    """A fresh, unmistakable string standing for a secret or a patient datum of `kind`."""
    value = f"Canari{kind.capitalize()}{uuid.uuid4().hex[:12]}"
    _planted.add(value)
    return value


def plant(value: str) -> str:
    """Register a real secret the test uses (a password, a token, a code) for the log scan."""
    if len(value) >= 6:
        _planted.add(value)
    return value


def planted() -> frozenset[str]:
    return frozenset(_planted)
