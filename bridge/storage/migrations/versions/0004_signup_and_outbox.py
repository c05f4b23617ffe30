"""Signup by e-mail code, the mail outbox, rate-limit hits, used form tokens; the welcome's state on accounts.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signup_requests",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, index=True),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
        sa.Column("exercise_mode", sa.String(16), nullable=False),
        sa.Column("declared_identifier", sa.String(16), nullable=True),
        sa.Column("declared_identifier_type", sa.String(8), nullable=True),
        sa.Column("terms_version", sa.String(32), nullable=False),
        sa.Column("terms_accepted_at", TZ, nullable=False),
        sa.Column("privacy_version", sa.String(32), nullable=False),
        sa.Column("privacy_accepted_at", TZ, nullable=False),
        sa.Column("existing_account", sa.Boolean, nullable=False),
        sa.Column("code_hash", sa.String(64), nullable=True),
        sa.Column("code_expires_at", TZ, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("sends", sa.Integer, nullable=False),
        sa.Column("last_sent_at", TZ, nullable=False),
        sa.Column("outbox_id", sa.Integer, nullable=True),
        sa.Column("claimed_at", TZ, nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("completed_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False, index=True),
    )
    op.create_table(
        "mail_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(255), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(254), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(255), nullable=True),
        sa.Column("claimed_until", TZ, nullable=True),
        sa.Column("sent_at", TZ, nullable=True, index=True),
        sa.Column("failed_at", TZ, nullable=True),
    )
    op.create_table(
        "rate_limit_hits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("bucket", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_index("ix_rate_limit_hits_bucket_time", "rate_limit_hits", ["bucket", "created_at"])
    op.create_table(
        "form_nonces",
        sa.Column("nonce", sa.String(32), primary_key=True),
        sa.Column("expires_at", TZ, nullable=False, index=True),
    )
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("welcome_pending", sa.Boolean, nullable=False,
                                   server_default=sa.false()))
        batch.add_column(sa.Column("welcome_sent_at", TZ, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("welcome_sent_at")
        batch.drop_column("welcome_pending")
    op.drop_table("form_nonces")
    op.drop_index("ix_rate_limit_hits_bucket_time", table_name="rate_limit_hits")
    op.drop_table("rate_limit_hits")
    op.drop_table("mail_outbox")
    op.drop_table("signup_requests")
