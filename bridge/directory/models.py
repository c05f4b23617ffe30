"""Tables of the directory.

`directory_people` holds every imported generation side by side: an import writes generation
N+1 while readers keep using N (named by `directory_state`), and the switch is one update.
Sites travel inside the person's JSON `data`: they are always read with their person and it
keeps a 1.9-million-row import to one insert per person.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridge.storage.models import Base, utcnow


class DirectoryState(Base):
    """The one row naming the generation readers use."""

    __tablename__ = "directory_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    generation: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DirectoryImport(Base):
    """One import run; its id is the generation it builds."""

    __tablename__ = "directory_imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # running, done, failed
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    persons: Mapped[int] = mapped_column(Integer, default=0)
    added: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    bad_keys: Mapped[int] = mapped_column(Integer, default=0)


class DirectoryPerson(Base):
    """A person of one generation; `data` is the JSON form of `Practitioner` (without CPTS)."""

    __tablename__ = "directory_people"

    generation: Mapped[int] = mapped_column(Integer, primary_key=True)
    national_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_name: Mapped[str] = mapped_column(String(255))
    first_name: Mapped[str] = mapped_column(String(255))
    profession_code: Mapped[str] = mapped_column(String(8))
    data: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[int] = mapped_column(BigInteger)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class CptsMembership(Base):
    """A member of a CPTS (not in the extract: imported from a CSV the service keeps)."""

    __tablename__ = "directory_cpts"

    cpts: Mapped[str] = mapped_column(String(255), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Favourite(Base):
    """A correspondent a practitioner (Matrix user) keeps at hand."""

    __tablename__ = "directory_favourites"

    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    national_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
