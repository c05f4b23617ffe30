"""Personal spaces: each practitioner's Discussions, Cas patients, Téléexpertises.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "personal_spaces",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("user_id", "kind", name="uq_personal_space"),
    )
    op.create_index("ix_personal_spaces_user_id", "personal_spaces", ["user_id"])


def downgrade() -> None:
    op.drop_table("personal_spaces")
