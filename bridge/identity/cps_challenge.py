"""The two single-use secrets of the CPS card path, both bound to one account.

1. The **code** the bot gives in the practitioner's DM (short, typeable, minutes-long): it
   proves the command line runs for that Matrix account.
2. The **challenge** the card signs, handed out in exchange for the code (random, seconds
   to minutes long): it proves the signature is fresh.
Both live in `tokens` (only hashes stored; consuming is a compare-and-set), so a replay or a
race finds them already spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from confrere_cps import protocol

from bridge.storage.database import Database
from bridge.verification import tokens

CODE_PURPOSE = "cps_code"
CHALLENGE_PURPOSE = "cps_challenge"


@dataclass(frozen=True)
class Challenge:
    user_id: str
    value: str
    expires_at: datetime


async def issue_code(db: Database, user_id: str, minutes: int) -> str:
    """A new code for `user_id`, in its display form (ABCDE-12345)."""
    code = protocol.new_code()
    await tokens.issue(db, CODE_PURPOSE, user_id, timedelta(minutes=minutes), secret=code)
    return protocol.display_code(code)


async def exchange_code(db: Database, code: str, seconds: int) -> Challenge | None:
    """Spend the code; a fresh challenge for its account, or None if the code is not valid."""
    spent = await tokens.consume(db, CODE_PURPOSE, protocol.normalise_code(code))
    if spent is None or not spent.user_id:
        return None
    value = await tokens.issue(db, CHALLENGE_PURPOSE, spent.user_id, timedelta(seconds=seconds))
    return Challenge(spent.user_id, value, datetime.now(UTC) + timedelta(seconds=seconds))


async def spend_challenge(db: Database, value: str) -> str | None:
    """Spend the challenge; the account it was issued for, or None (unknown, expired, used)."""
    spent = await tokens.consume(db, CHALLENGE_PURPOSE, value)
    return spent.user_id if spent is not None else None
