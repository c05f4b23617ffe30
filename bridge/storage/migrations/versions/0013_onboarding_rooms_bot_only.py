"""Only the conversation the bot opened (accounts.onboarding_room_id) is an onboarding room.

The `onboarding_rooms` table recorded any room a practitioner invited the bot to with
`is_direct` — a group room could become "onboarding" and stay usable after a revocation. It
is dropped: its rows were all chosen by users.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("onboarding_rooms")


def downgrade() -> None:
    op.create_table(
        "onboarding_rooms",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False, index=True),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "room_id"),
    )
