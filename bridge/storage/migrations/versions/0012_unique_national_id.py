"""One national identifier belongs to one account: a unique index on accounts.national_id.

Accounts that already share an identifier (possible before this revision) keep it only on the
first account; the later ones lose the link, go back to "pending" and get an audit entry and a
pending request, so that the administrators see them in `!admin verifications`.

Revision ID: 0012
Revises: 0011
"""

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

REASON = "numéro national déjà lié à un autre compte (doublon trouvé à la mise à jour)"


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(timezone.utc)
    rows = bind.execute(sa.text(
        "SELECT id, user_id, national_id FROM accounts WHERE national_id IS NOT NULL "
        "ORDER BY national_id, id")).all()
    seen: set[str] = set()
    for account_id, user_id, national_id in rows:
        if national_id not in seen:
            seen.add(national_id)
            continue
        bind.execute(sa.text("UPDATE accounts SET national_id = NULL, verification_state = "
                             "'pending' WHERE id = :id"), {"id": account_id})
        bind.execute(sa.text(
            "INSERT INTO verification_audit (at, user_id, action, method, actor, reason) "
            "VALUES (:at, :user_id, 'duplicate', NULL, 'confrere', :reason)"),
            {"at": now, "user_id": user_id, "reason": REASON})
        bind.execute(sa.text(
            "INSERT INTO verification_requests (user_id, method, status, evidence, reason, "
            "created_at) VALUES (:user_id, 'manual', 'pending', :evidence, :reason, :at)"
        ).bindparams(sa.bindparam("evidence", type_=sa.JSON)),
            {"user_id": user_id, "evidence": {"duplicate_of": national_id},
             "reason": REASON, "at": now})
    op.drop_index("ix_accounts_national_id", table_name="accounts")
    op.create_index("uq_accounts_national_id", "accounts", ["national_id"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_accounts_national_id", table_name="accounts")
    op.create_index("ix_accounts_national_id", "accounts", ["national_id"])
