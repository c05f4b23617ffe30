"""Importing into the database and the index, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bridge.directory.extract import ExtractError
from bridge.directory.index import DirectoryBusy
from bridge.directory.store import DirectoryStore

from .conftest import HEADER_LINE, SAMPLE, by_header, person_line, sample_lines, write_extract


async def test_sample_import_every_person_once_with_all_sites(service):
    report = await service.import_extract(SAMPLE, progress=False)
    rows = by_header(sample_lines())
    ids = list(dict.fromkeys(r["Identification nationale PP"] for r in rows))
    assert (report.rows, report.persons, report.added) == (len(rows), len(ids), len(ids))
    assert report.bad_count == 0 and report.index_bytes > 0
    assert await service.count() == len(ids)
    people = await service.get_many(ids)
    assert [p.national_id for p in people] == ids
    for person in people:
        mine = [r for r in rows if r["Identification nationale PP"] == person.national_id]
        cities = {r["Libellé commune (coord. structure)"] for r in mine} - {""}
        assert {s.city for s in person.sites} == cities
        assert person.last_name == mine[0]["Nom d'exercice"]
    bernard = await service.get("810000100007")
    assert bernard.display_name == "Dr Camille BERNARD" and bernard.id_type == "RPPS"
    assert bernard.specialty == "Médecine générale (SM)"
    assert bernard.sites[0].address == "113 Rue D'AUBY" and bernard.sites[0].postal_code == "69003"
    adeli = await service.get("0096063792")
    assert adeli.id_type == "ADELI" and len(adeli.sites) == 2


async def test_reimport_updates_adds_and_retires(service, tmp_path):
    first = write_extract(
        tmp_path / "v1.txt",
        [
            HEADER_LINE,
            person_line("810000100007", "STABLE", "Anne"),
            person_line("810000179191", "CHANGE", "Paul", city="DOUAI"),
            person_line("810000258383", "PARTI", "Luc"),
        ],
    )
    await service.import_extract(first, progress=False)
    second = write_extract(
        tmp_path / "v2.txt",
        [
            HEADER_LINE,
            person_line("810000100007", "STABLE", "Anne"),
            person_line("810000179191", "CHANGE", "Paul", city="LILLE", postal="59000"),
            person_line("810000337575", "NOUVEAU", "Léa"),
        ],
    )
    report = await service.import_extract(second, progress=False)
    assert (report.added, report.updated, report.retired, report.unchanged) == (1, 1, 1, 1)
    moved = await service.get("810000179191")
    assert [s.city for s in moved.sites] == ["LILLE"]
    gone = await service.get("810000258383")
    assert gone is not None and gone.retired
    assert (await service.search("parti")).total == 0
    assert (await service.search("nouveau")).total == 1
    assert (await service.search("change lille")).total == 1
    assert (await service.search("change douai")).total == 0
    # only the published generation is left, plus the carried-over retired entry
    async with service.database.engine.connect() as conn:
        generations = (
            await conn.exec_driver_sql("SELECT DISTINCT generation FROM directory_people")
        ).all()
    assert len(generations) == 1
    third = await service.import_extract(second, progress=False)
    assert (third.added, third.updated, third.retired, third.unchanged) == (0, 0, 0, 3)


async def test_refused_file_leaves_directory_untouched(service, tmp_path):
    await service.import_extract(SAMPLE, progress=False)
    before = await service.search("fontaine")
    generation = await DirectoryStore(service.database).current_generation()
    broken = write_extract(tmp_path / "x.txt", ["Nom|Prénom|Ville|", "DUPONT|Jean|Douai|"])
    with pytest.raises(ExtractError, match="Identification nationale PP"):
        await service.import_extract(broken, progress=False)
    assert await DirectoryStore(service.database).current_generation() == generation
    assert (await service.search("fontaine")).total == before.total == 1
    assert await service.count() == 76


async def test_failed_import_midway_is_rolled_back(service, tmp_path, monkeypatch):
    await service.import_extract(SAMPLE, progress=False)
    store = DirectoryStore(service.database)
    generation = await store.current_generation()

    async def explode(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(DirectoryStore, "publish", explode)
    other = write_extract(tmp_path / "v.txt", [HEADER_LINE, person_line("810000100007", "X", "Y")])
    with pytest.raises(RuntimeError):
        await service.import_extract(other, progress=False)
    monkeypatch.undo()
    assert await store.current_generation() == generation
    assert (await service.get("810000100007")).last_name == "BERNARD"
    assert await service.count() == 76
    assert [p.name for p in service.root.glob("index-*")] == [f"index-{generation}"]


async def test_scattered_rows_are_merged_into_one_entry(service, tmp_path):
    path = write_extract(
        tmp_path / "x.txt",
        [
            HEADER_LINE,
            person_line("810000100007", "EPARS", "Anne", city="LILLE", postal="59000"),
            person_line("810000179191", "AUTRE", "Paul"),
            person_line("810000100007", "EPARS", "Anne", city="LENS", postal="62300"),
        ],
    )
    report = await service.import_extract(path, progress=False)
    assert report.persons == 2
    page = await service.search("epars")
    assert page.total == 1
    assert {s.city for s in page.results[0].sites} == {"LILLE", "LENS"}
    assert {s.city for s in (await service.get("810000100007")).sites} == {"LILLE", "LENS"}


async def test_one_import_at_a_time(service):
    with service.generations.lock(), pytest.raises(DirectoryBusy):
        await service.import_extract(SAMPLE, progress=False)


async def test_reconcile_after_crash_between_database_and_index_switch(service, tmp_path):
    await service.import_extract(SAMPLE, progress=False)
    old_pointer = service.generations.pointer.read_text()
    second = write_extract(
        tmp_path / "v2.txt", [HEADER_LINE, person_line("810000100007", "SEUL", "Léa")]
    )
    await service.import_extract(second, progress=False)
    service.generations.root.joinpath("index-1").mkdir(exist_ok=True)
    service.generations.pointer.write_text(old_pointer)  # as if we died before the rename
    assert await service.reconcile()
    assert (await service.search("seul")).total == 1
    assert not await service.reconcile()
