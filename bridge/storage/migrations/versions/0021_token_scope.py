"""Integrator tokens scoped to one practitioner or one organisation.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        # "all" (directory only, the tokens made before), "practitioner" or "organisation".
        batch.add_column(sa.Column("scope_kind", sa.String(16), nullable=False,
                                   server_default="all"))
        batch.add_column(sa.Column("scope_value", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("scope_value")
        batch.drop_column("scope_kind")
