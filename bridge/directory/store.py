"""Database side of the directory: bulk writes of a generation, the swap, and reads.

The bulk path talks to the driver directly (executemany for SQLite, COPY for PostgreSQL):
ORM objects for 1.2 million people would cost more than the whole import budget.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bridge.storage.database import Database

from .models import CptsMembership, DirectoryImport, DirectoryPerson, DirectoryState
from .payload import P, PersonRecord

PEOPLE_COLUMNS = (
    "generation",
    "national_id",
    "last_name",
    "first_name",
    "profession_code",
    "data",
    "content_hash",
    "retired",
)


class DirectoryStore:
    """Reads and writes of the directory tables (one instance per `Database`)."""

    def __init__(self, database: Database) -> None:
        self.db = database

    # -- reads ---------------------------------------------------------------------------
    async def current_generation(self) -> int | None:
        async with self.db.session() as session:
            return await session.scalar(
                select(DirectoryState.generation).where(DirectoryState.id == 1)
            )

    async def people(self, national_ids: list[str]) -> dict[str, tuple[str, bool]]:
        """`{national_id: (payload, retired)}` in the current generation."""
        current = select(DirectoryState.generation).where(DirectoryState.id == 1).scalar_subquery()
        out: dict[str, tuple[str, bool]] = {}
        async with self.db.session() as session:
            for chunk in _chunks(national_ids):
                query = select(
                    DirectoryPerson.national_id, DirectoryPerson.data, DirectoryPerson.retired
                ).where(
                    DirectoryPerson.generation == current, DirectoryPerson.national_id.in_(chunk)
                )
                for nid, data, retired in (await session.execute(query)).all():
                    out[nid] = (data, bool(retired))
        return out

    async def cpts_map(self, national_ids: list[str] | None = None) -> dict[str, list[str]]:
        """CPTS names per national identifier (all of them, or of the given people)."""
        query = select(CptsMembership.national_id, CptsMembership.cpts).order_by(
            CptsMembership.cpts
        )
        queries = (
            [query]
            if national_ids is None
            else [query.where(CptsMembership.national_id.in_(c)) for c in _chunks(national_ids)]
        )
        out: dict[str, list[str]] = {}
        async with self.db.session() as session:
            for part in queries:
                for nid, name in (await session.execute(part)).all():
                    out.setdefault(nid, []).append(name)
        return out

    async def last_import(self) -> DirectoryImport | None:
        async with self.db.session() as session:
            return await session.scalar(
                select(DirectoryImport)
                .where(DirectoryImport.status == "done")
                .order_by(DirectoryImport.id.desc())
                .limit(1)
            )

    # -- a new generation ----------------------------------------------------------------
    async def start_import(self, source: str) -> int:
        async with self.db.session() as session:
            run = DirectoryImport(source=source, status="running")
            session.add(run)
            await session.commit()
            return run.id

    async def bulk_connection(self) -> AsyncConnection:
        conn = await self.db.engine.connect()
        if self.db.dialect == "sqlite":
            await conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            await conn.commit()
        return conn

    async def insert_people(self, conn: AsyncConnection, rows: list[tuple]) -> None:
        """Insert rows shaped as `PEOPLE_COLUMNS` and commit them (invisible until the swap)."""
        if self.db.dialect == "postgresql":
            raw = await conn.get_raw_connection()
            await raw.driver_connection.copy_records_to_table(
                "directory_people", records=rows, columns=PEOPLE_COLUMNS
            )
        else:
            marks = ",".join("?" * len(PEOPLE_COLUMNS))
            await conn.exec_driver_sql(
                f"INSERT INTO directory_people ({','.join(PEOPLE_COLUMNS)}) VALUES ({marks})", rows
            )
        await conn.commit()

    async def person_data(
        self, conn: AsyncConnection, generation: int, national_id: str
    ) -> str | None:
        result = await conn.execute(
            text("SELECT data FROM directory_people WHERE generation = :g AND national_id = :n"),
            {"g": generation, "n": national_id},
        )
        return result.scalar()

    async def replace_person(
        self, conn: AsyncConnection, generation: int, national_id: str, data: str, content_hash: int
    ) -> None:
        await conn.execute(
            text(
                "UPDATE directory_people SET data = :d, content_hash = :h "
                "WHERE generation = :g AND national_id = :n"
            ),
            {"d": data, "h": content_hash, "g": generation, "n": national_id},
        )
        await conn.commit()

    async def publish(self, generation: int, counts: dict[str, int]) -> dict[str, int]:
        """Compare with the current generation, carry the retired over, and switch, atomically.

        Returns added / updated / retired counts. Readers of the database switch at the commit.
        """
        async with self.db.engine.begin() as conn:
            old = (
                await conn.execute(text("SELECT generation FROM directory_state WHERE id = 1"))
            ).scalar()
            args = {"new": generation, "old": old}
            if old is None:
                added = (
                    await conn.execute(
                        text("SELECT count(*) FROM directory_people WHERE generation = :new"), args
                    )
                ).scalar()
                updated = retired = 0
            else:
                added = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM directory_people n WHERE n.generation = :new AND NOT EXISTS "
                            "(SELECT 1 FROM directory_people o WHERE o.generation = :old "
                            "AND o.national_id = n.national_id AND NOT o.retired)"
                        ),
                        args,
                    )
                ).scalar()
                updated = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM directory_people n JOIN directory_people o "
                            "ON o.national_id = n.national_id AND o.generation = :old "
                            "WHERE n.generation = :new AND NOT o.retired "
                            "AND o.content_hash <> n.content_hash"
                        ),
                        args,
                    )
                ).scalar()
                retired = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM directory_people o WHERE o.generation = :old "
                            "AND NOT o.retired AND NOT EXISTS (SELECT 1 FROM directory_people n "
                            "WHERE n.generation = :new AND n.national_id = o.national_id)"
                        ),
                        args,
                    )
                ).scalar()
                await conn.execute(
                    text(
                        "INSERT INTO directory_people (generation, national_id, last_name, first_name, "
                        "profession_code, data, content_hash, retired) "
                        "SELECT :new, o.national_id, o.last_name, o.first_name, o.profession_code, "
                        "o.data, o.content_hash, TRUE FROM directory_people o WHERE o.generation = :old "
                        "AND NOT EXISTS (SELECT 1 FROM directory_people n WHERE n.generation = :new "
                        "AND n.national_id = o.national_id)"
                    ),
                    args,
                )
            now = datetime.now(UTC)
            if old is None:
                await conn.execute(
                    DirectoryState.__table__.insert().values(
                        id=1, generation=generation, updated_at=now
                    )
                )
            else:
                await conn.execute(
                    DirectoryState.__table__.update()
                    .where(DirectoryState.id == 1)
                    .values(generation=generation, updated_at=now)
                )
            result = {"added": added, "updated": updated, "retired": retired}
            await conn.execute(
                DirectoryImport.__table__.update()
                .where(DirectoryImport.id == generation)
                .values(status="done", finished_at=now, **counts, **result)
            )
        return result

    async def drop_generations_except(self, generation: int) -> None:
        async with self.db.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM directory_people WHERE generation <> :g"), {"g": generation}
            )

    async def fail_import(self, generation: int) -> None:
        """Forget a generation that will never be published."""
        async with self.db.engine.begin() as conn:
            await conn.execute(
                text("DELETE FROM directory_people WHERE generation = :g"), {"g": generation}
            )
            await conn.execute(
                DirectoryImport.__table__.update()
                .where(DirectoryImport.id == generation)
                .values(status="failed", finished_at=datetime.now(UTC))
            )


def _chunks(items: list[str], size: int = 5000):
    """Slices small enough for any driver's limit on bound parameters."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def row(generation: int, record: PersonRecord, payload: str, content_hash: int) -> tuple:
    """One `directory_people` row in `PEOPLE_COLUMNS` order."""
    person = record.person
    return (
        generation,
        record.national_id,
        person[P["last_name"]][:255],
        person[P["first_name"]][:255],
        person[P["prof_code"]][:8],
        payload,
        content_hash,
        False,
    )
