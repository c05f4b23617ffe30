"""Storage runs on both back-ends: migrations apply, are idempotent, and data round-trips."""

from __future__ import annotations

from sqlalchemy import inspect, select

from bridge.storage.database import Database
from bridge.storage.models import AppserviceEvent, AppserviceTransaction


async def test_migrations_create_tables_and_are_idempotent(database_url):
    db = Database(database_url)
    try:
        await db.migrate()
        await db.migrate()  # second run is a no-op, not an error
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert {"appservice_transactions", "appservice_events", "alembic_version"} <= tables
    finally:
        await db.close()


async def test_transaction_round_trip(database):
    async with database.session() as session, session.begin():
        session.add(AppserviceTransaction(txn_id="t1", event_count=1))
        session.add(
            AppserviceEvent(txn_id="t1", event_id="$e", event_type="m.room.message",
                            content={"body": "é"}, attempts=0)
        )
    async with database.session() as session:
        event = (await session.execute(select(AppserviceEvent))).scalar_one()
        assert event.content == {"body": "é"}
        assert event.handled_at is None
