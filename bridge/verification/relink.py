"""After a directory import: verified accounts re-linked to their entries, badges refreshed.

People verified before the directory held their entry (manual review, documents, an empty
directory at first start) keep a bare name until something links them; and an entry's
specialty or city may change with a new extract. `after_import` links every verified account
still without a national id whose declared RPPS/ADELI names a directory entry with the same
names, then queues a badge refresh for every linked verified account.

The refresh is queued as a follow-up row (`followups.py`), not sent to Synapse here: an import
runs in the CLI process too (`confrere directory import`), where the bot and Synapse's admin
token are not; the running service's `FollowUpWorker` picks the rows up within seconds (or at
its next start), exactly as it retries a failed badge after a decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select

from bridge.accounts.models import Account
from bridge.identity.directory_link import link_declared
from bridge.storage.database import Database
from bridge.verification.followups import PendingFollowUp
from bridge.verification.models import AuditEntry

log = logging.getLogger(__name__)

BADGE_LISTENER = "verification.badge"  # the stable name of VerificationEffects.set_badge
ACTOR = "confrere (import de l'annuaire)"


@dataclass(frozen=True)
class RelinkReport:
    linked: int
    refreshes: int


async def link_account(database: Database, directory: Any, account: Account) -> str | None:
    """Link one verified account to the entry its declared number names (same names, number
    not held by another account); returns its national id, or None."""
    if account.national_id:
        return account.national_id
    link = await link_declared(directory, account)
    if link.national_id is None:
        return None
    async with database.session() as session, session.begin():
        holder = await session.scalar(select(Account.user_id).where(
            Account.national_id == link.national_id))
        if holder is not None:
            return None  # one identity, one account: never moved by an import
        row = await session.scalar(select(Account).where(Account.user_id == account.user_id))
        if row is None or row.verification_state != "verified" or row.national_id:
            return row.national_id if row else None
        row.national_id = link.national_id
        session.add(AuditEntry(user_id=account.user_id, action="linked", method="directory",
                               actor=ACTOR))
    return link.national_id


async def queue_badge(database: Database, user_id: str, national_id: str | None) -> bool:
    """Ask the service's follow-up worker to set this badge now (once: no duplicate row)."""
    async with database.session() as session, session.begin():
        queued = await session.scalar(select(PendingFollowUp.id).where(
            PendingFollowUp.listener == BADGE_LISTENER, PendingFollowUp.user_id == user_id,
            PendingFollowUp.state == "verified"))
        if queued is not None:
            return False
        session.add(PendingFollowUp(listener=BADGE_LISTENER, user_id=user_id, state="verified",
                                    method="directory", actor=ACTOR, national_id=national_id,
                                    attempts=0, due_at=datetime.now(timezone.utc)))
    return True


async def after_import(database: Database, directory: Any) -> RelinkReport:
    """Re-link verified accounts to the new directory and queue their badges' refresh."""
    async with database.session() as session:
        accounts = (await session.execute(select(Account).where(
            Account.verification_state == "verified"))).scalars().all()
    linked = refreshes = 0
    for account in accounts:
        before = account.national_id
        national_id = await link_account(database, directory, account)
        linked += national_id is not None and before is None
        if national_id is not None and await queue_badge(database, account.user_id, national_id):
            refreshes += 1
    if linked or refreshes:
        log.info("directory import: %d account(s) linked, %d badge refresh(es) queued",
                 linked, refreshes)
    return RelinkReport(linked, refreshes)
