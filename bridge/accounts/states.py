"""Where a practitioner's identity verification stands, and how it was established.

`StrEnum` members compare equal to their strings, so the database keeps the same values
("verified", "psc"…) and rows written before these types existed read back unchanged.
The Synapse module keeps its own strings (`bridge/synapse_module/` imports nothing else).
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    """`Account.verification_state`, and the state a `Decision` announces."""

    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"
    REFUSED = "refused"
    REVOKED = "revoked"
    CONFLICT = "conflict"  # a decision only: the national identifier belongs to another account


class Method(StrEnum):
    """How an identity was (or is being) checked."""

    PSC = "psc"
    CPS = "cps"
    MANUAL = "manual"
    ONFIDO = "onfido"
