"""A signup through Pro Santé Connect names the proof it will spend.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("signup_requests") as batch:
        batch.add_column(sa.Column("proof_id", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signup_requests") as batch:
        batch.drop_column("proof_id")
