"""Ghost users: `@<prefix><national id>:<server>` stand for directory entries without an account.

A national identifier is "8" + 11-digit RPPS or "0" + ADELI (9 digits, sometimes more); we
keep the localpart to lowercase digits so it is a valid Matrix localpart.
"""

from __future__ import annotations

import re

_NATIONAL_ID = re.compile(r"^[08][0-9A-Za-z]{8,12}$")


def ghost_user_id(prefix: str, national_id: str, server_name: str) -> str:
    if not _NATIONAL_ID.match(national_id):
        raise ValueError("not a national identifier")
    return f"@{prefix}{national_id.lower()}:{server_name}"


def national_id_of(prefix: str, user_id: str, server_name: str) -> str | None:
    """The national id a ghost stands for, or None if `user_id` is not a well-formed ghost."""
    if not user_id.startswith(f"@{prefix}") or not user_id.endswith(f":{server_name}"):
        return None
    candidate = user_id[len(prefix) + 1: -len(server_name) - 1]
    return candidate if _NATIONAL_ID.match(candidate) else None
