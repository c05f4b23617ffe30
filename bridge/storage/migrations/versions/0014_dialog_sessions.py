"""Durable dialogs: where each conversation with the bot stands (answers sealed).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dialog_sessions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("dialog", sa.String(64), nullable=False),
        sa.Column("step", sa.String(64), nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("sealed_data", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "room_id", name="uq_dialog_user_room"),
    )
    op.create_index("ix_dialog_sessions_expires_at", "dialog_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_dialog_sessions_expires_at", "dialog_sessions")
    op.drop_table("dialog_sessions")
