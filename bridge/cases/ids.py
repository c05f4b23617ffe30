"""Opaque case ids: a letter for the kind, then random Crockford base-32 (no I, L, O, U).

The id is the only case-specific thing the server can read (room name, `fr.confrere.case`
state); it says nothing about the patient and cannot be guessed."""

from __future__ import annotations

import secrets

from bridge.synapse_module.typed_state import CASE_ID

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIX = {"case": "C", "teleexpertise": "T"}


def new_case_id(kind: str = "case", length: int = 8) -> str:
    """`C-7K3M9QXA` (case) or `T-…` (téléexpertise); 40 random bits."""
    case_id = f"{PREFIX[kind]}-" + "".join(secrets.choice(ALPHABET) for _ in range(length))
    assert CASE_ID.match(case_id)
    return case_id
