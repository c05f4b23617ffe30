"""Guests: pending invitations, contacts (last mail, opt-out), promotion jobs.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guest_invitations",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guest_key", sa.String(254), nullable=False),
        sa.Column("stand_in", sa.String(255), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("inviter", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("member", sa.String(255), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_guest_invitations_guest_key", "guest_invitations", ["guest_key"])
    op.create_index("ix_guest_invitations_stand_in", "guest_invitations", ["stand_in"])
    op.create_table(
        "guest_contacts",
        sa.Column("guest_key", sa.String(254), primary_key=True),
        sa.Column("stand_in", sa.String(255), nullable=False, unique=True),
        sa.Column("first_name", sa.String(120), nullable=False),
        sa.Column("last_name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("last_mailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "guest_promotions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("guest_key", sa.String(254), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_guest_promotions_guest_key", "guest_promotions", ["guest_key"])
    op.create_index("ix_guest_promotions_next_attempt_at", "guest_promotions",
                    ["next_attempt_at"])


def downgrade() -> None:
    op.drop_table("guest_promotions")
    op.drop_table("guest_contacts")
    op.drop_table("guest_invitations")
