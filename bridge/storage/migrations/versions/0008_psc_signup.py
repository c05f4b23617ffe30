"""Signup through Pro Santé Connect: the national identifier proven before the form.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signup_requests") as batch:
        batch.add_column(sa.Column("proven_national_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signup_requests") as batch:
        batch.drop_column("proven_national_id")
