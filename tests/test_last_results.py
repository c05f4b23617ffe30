"""`LastResultsStore`: one entry per (practitioner, conversation), sealed at rest."""

from __future__ import annotations

from sqlalchemy import select

from bridge.directory.last_results import LastResults, LastResultsStore
from bridge.storage.sealing import SealedBox
from bridge.storage.values import ServiceValue


async def test_results_are_per_conversation_replaced_and_sealed(database):
    store = LastResultsStore(database, SealedBox("k" * 32, "last-results"))
    await store.put("@a:x", "!room1:x", LastResults("dupont lille", 2, 3, 10,
                                                    [f"8{i:011d}" for i in range(10)]))
    assert await store.get("@a:x", "!room2:x") is None
    assert await store.get("@b:x", "!room1:x") is None
    got = await store.get("@a:x", "!room1:x")
    assert got.numbered(11) == "800000000000" and got.numbered(10) is None
    assert got.numbered(20) == "800000000009" and got.numbered(21) is None
    await store.put("@a:x", "!room1:x", LastResults("martin", 1, 1, 10, ["810000000001"]))
    assert (await store.get("@a:x", "!room1:x")).numbered(1) == "810000000001"
    async with database.session() as session:
        rows = (await session.execute(select(ServiceValue))).scalars().all()
    assert len(rows) == 1
    assert "martin" not in rows[0].value and "@a:x" not in rows[0].key
    other_key = LastResultsStore(database, SealedBox("z" * 32, "last-results"))
    assert await other_key.get("@a:x", "!room1:x") is None  # unreadable: as if no search
