"""National directory: generations of people, import runs, CPTS memberships, favourites.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directory_state",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "directory_imports",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        *[
            sa.Column(name, sa.Integer, nullable=False, server_default="0")
            for name in ("rows", "persons", "added", "updated", "retired", "bad_rows", "bad_keys")
        ],
    )
    op.create_table(
        "directory_people",
        sa.Column("generation", sa.Integer, primary_key=True),
        sa.Column("national_id", sa.String(32), primary_key=True),
        sa.Column("last_name", sa.String(255), nullable=False),
        sa.Column("first_name", sa.String(255), nullable=False),
        sa.Column("profession_code", sa.String(8), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("content_hash", sa.BigInteger, nullable=False),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "directory_cpts",
        sa.Column("cpts", sa.String(255), primary_key=True),
        sa.Column("national_id", sa.String(32), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_directory_cpts_national_id", "directory_cpts", ["national_id"])
    op.create_table(
        "directory_favourites",
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("national_id", sa.String(32), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("directory_favourites")
    op.drop_index("ix_directory_cpts_national_id", "directory_cpts")
    op.drop_table("directory_cpts")
    op.drop_table("directory_people")
    op.drop_table("directory_imports")
    op.drop_table("directory_state")
