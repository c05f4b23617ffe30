"""What the service keeps about a case or a téléexpertise: ids, room, people, dates, state —
never the patient (who lives only in the room's first encrypted message)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class Case(Base):
    """A case room or a téléexpertise room (`kind`: case | teleexpertise)."""

    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    room_id: Mapped[str] = mapped_column(String(255), unique=True)
    creator: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # téléexpertise only: the specialist asked, urgency and where the request stands
    specialist: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    urgency: Mapped[str | None] = mapped_column(String(16), nullable=True)
    state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    state_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True),
                                                              nullable=True)
