"""Referral: agendas, bookings and holds, referrals (sealed), SMS and webhook outboxes, feeds.

Revision ID: 0020
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0017"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _delivery_columns() -> list:
    return [
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=False, index=True),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(255)),
        sa.Column("claimed_until", TZ),
        sa.Column("sent_at", TZ),
        sa.Column("failed_at", TZ),
        sa.Column("cancelled_at", TZ),
    ]


def upgrade() -> None:
    op.create_table(
        "agenda_profiles",
        sa.Column("national_id", sa.String(32), primary_key=True),
        sa.Column("accepts_new_patients", sa.Boolean, nullable=False),
        sa.Column("organisation", sa.String(64), index=True),
        sa.Column("webhook_url", sa.String(500)),
        sa.Column("webhook_secret_sealed", sa.Text),
    )
    op.create_table(
        "agenda_places",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("address", sa.String(255), nullable=False),
        sa.Column("postal_code", sa.String(10), nullable=False),
        sa.Column("city", sa.String(255), nullable=False),
    )
    op.create_table(
        "agenda_motifs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("new_patients", sa.Boolean, nullable=False),
        sa.Column("what_to_bring", sa.String(500), nullable=False),
    )
    op.create_table(
        "agenda_rules",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("place_id", sa.Integer,
                  sa.ForeignKey("agenda_places.id", ondelete="CASCADE"), index=True),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
    )
    op.create_table(
        "agenda_absences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("starts_at", TZ, nullable=False),
        sa.Column("ends_at", TZ, nullable=False),
    )
    op.create_table(
        "agenda_published_slots",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("place_id", sa.Integer,
                  sa.ForeignKey("agenda_places.id", ondelete="CASCADE")),
        sa.Column("motif_id", sa.Integer,
                  sa.ForeignKey("agenda_motifs.id", ondelete="CASCADE")),
        sa.Column("starts_at", TZ, nullable=False, index=True),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("withdrawn_at", TZ),
    )
    op.create_table(
        "agenda_bookings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("place_id", sa.Integer),
        sa.Column("motif_id", sa.Integer),
        sa.Column("starts_at", TZ, nullable=False, index=True),
        sa.Column("ends_at", TZ, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("active_slot", sa.String(80), unique=True),
        sa.Column("hold_until", TZ),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ),
    )
    op.create_table(
        "agenda_feed_tokens",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("revoked_at", TZ),
    )
    op.create_table(
        "referrals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("reference", sa.String(32), nullable=False, unique=True),
        sa.Column("booking_id", sa.Integer, sa.ForeignKey("agenda_bookings.id"), index=True),
        sa.Column("referrer_id", sa.String(255), nullable=False),
        sa.Column("colleague_national_id", sa.String(32), nullable=False, index=True),
        sa.Column("sealed_details", sa.Text),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("cancelled_at", TZ),
        sa.Column("purge_after", TZ, nullable=False, index=True),
        sa.Column("purged_at", TZ),
        sa.Column("notices", sa.JSON, nullable=False),
    )
    op.create_table(
        "sms_outbox", *_delivery_columns(),
        sa.Column("sealed_payload", sa.Text, nullable=False),
        sa.Column("referral_id", sa.Integer, index=True),
        sa.Column("send_after", TZ),
    )
    op.create_table(
        "webhook_outbox", *_delivery_columns(),
        sa.Column("national_id", sa.String(32), nullable=False, index=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("sealed_body", sa.Text, nullable=False),
    )


def downgrade() -> None:
    for table in ("webhook_outbox", "sms_outbox", "referrals", "agenda_feed_tokens",
                  "agenda_bookings", "agenda_published_slots", "agenda_absences",
                  "agenda_rules", "agenda_motifs", "agenda_places", "agenda_profiles"):
        op.drop_table(table)
