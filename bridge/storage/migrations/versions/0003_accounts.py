"""Practitioner accounts.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False, unique=True, index=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("email", sa.String(254), nullable=False, unique=True, index=True),
        sa.Column("exercise_mode", sa.String(16), nullable=False),
        sa.Column("declared_identifier", sa.String(16), nullable=True),
        sa.Column("declared_identifier_type", sa.String(8), nullable=True),
        sa.Column("terms_version", sa.String(32), nullable=False),
        sa.Column("terms_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("privacy_version", sa.String(32), nullable=False),
        sa.Column("privacy_accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("verification_state", sa.String(16), nullable=False),
        sa.Column("national_id", sa.String(16), nullable=True, index=True),
        sa.Column("onboarding_room_id", sa.String(255), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("accounts")
