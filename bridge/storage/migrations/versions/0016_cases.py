"""Patient cases and téléexpertises (ids, room, people, dates, state; never the patient).

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False, unique=True),
        sa.Column("creator", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("specialist", sa.String(255), nullable=True),
        sa.Column("urgency", sa.String(16), nullable=True),
        sa.Column("state", sa.String(16), nullable=True),
        sa.Column("state_changed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_cases_creator", "cases", ["creator"])
    op.create_index("ix_cases_specialist", "cases", ["specialist"])


def downgrade() -> None:
    op.drop_table("cases")
