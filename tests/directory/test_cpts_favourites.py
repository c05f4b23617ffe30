"""CPTS memberships and favourites, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bridge.directory.cpts import CptsFileError, parse_cpts
from bridge.directory.service import UnknownPractitioner

from .conftest import SAMPLE


async def test_cpts_import_makes_members_findable(service, tmp_path):
    await service.import_extract(SAMPLE, progress=False)
    csv = tmp_path / "cpts.csv"
    csv.write_text(
        "CPTS;Identifiant national\nCPTS du Ponant;810000100007\n"
        "CPTS du Ponant;10000179191\nCPTS Autre;0096063792\nligne cassée\n"
        "CPTS du Ponant;899999999999\n",
        encoding="utf-8",
    )
    report = await service.import_cpts(csv)
    assert report.cpts == ["CPTS du Ponant", "CPTS Autre"] and report.members == 4
    assert report.reindexed == 3 and report.unknown == ["899999999999"]
    assert [b.line for b in report.bad_lines] == [5]
    page = await service.search("CPTS du Ponant")
    assert {p.national_id for p in page.results} == {"810000100007", "810000179191"}
    assert page.results[0].cpts == ("CPTS du Ponant",)
    assert (await service.get("810000179191")).cpts == ("CPTS du Ponant",)
    # a new file for the same CPTS replaces its members and leaves the others alone
    csv.write_text("CPTS du Ponant,810000179191\n", encoding="utf-8")
    await service.import_cpts(csv)
    assert {p.national_id for p in (await service.search("ponant")).results} == {"810000179191"}
    assert (await service.get("810000100007")).cpts == ()
    assert {p.national_id for p in (await service.search("cpts autre")).results} == {"0096063792"}
    # memberships survive a re-import of the extract
    await service.import_extract(SAMPLE, progress=False)
    assert {p.national_id for p in (await service.search("ponant")).results} == {"810000179191"}


async def test_cpts_file_without_usable_line_is_refused(service, tmp_path):
    empty = tmp_path / "x.csv"
    empty.write_text("juste du texte\n", encoding="utf-8")
    with pytest.raises(CptsFileError):
        await service.import_cpts(empty)


def test_cpts_parser_accepts_columns_either_way():
    members, bad = parse_cpts("810000100007\tCPTS Grand Douai\n\nCPTS Grand Douai\t810000179191\n")
    assert members == {"CPTS Grand Douai": ["810000100007", "810000179191"]} and not bad


async def test_favourites(service):
    await service.import_extract(SAMPLE, progress=False)
    user, other = "@dr.bernard:confrere.test", "@autre:confrere.test"
    assert await service.add_favourite(user, "810000179191")
    assert await service.add_favourite(user, "0096063792")
    assert not await service.add_favourite(user, "810000179191")
    with pytest.raises(UnknownPractitioner):
        await service.add_favourite(user, "899999999999")
    assert await service.favourite_ids(user) == ["810000179191", "0096063792"]
    assert [p.last_name for p in await service.favourites(user)] == ["FONTAINE", "MARTIN"]
    assert await service.favourite_ids(other) == []
    assert await service.remove_favourite(user, "810000179191")
    assert not await service.remove_favourite(user, "810000179191")
    assert await service.favourite_ids(user) == ["0096063792"]


async def test_lookup_by_rpps_number_alone(service):
    await service.import_extract(SAMPLE, progress=False)
    assert (await service.get("100 0010 0007")).national_id == "810000100007"
    assert await service.get("unknown") is None
