"""Searching: every field, fragments, typos, synonyms, filters, ranking, paging, hostile text."""

from __future__ import annotations

import pytest

from bridge.directory.service import DirectoryService
from bridge.directory.synthetic import generate
from bridge.directory.text import words
from bridge.storage.database import Database

from .conftest import SAMPLE, by_header, sample_lines


@pytest.fixture(scope="module")
async def sample_dir(tmp_path_factory):
    """The shared sample imported once (SQLite) for the read-only search tests."""
    root = tmp_path_factory.mktemp("search")
    database = Database(f"sqlite+aiosqlite:///{root / 'c.db'}")
    await database.migrate()
    service = DirectoryService(root / "directory", database)
    await service.import_extract(SAMPLE, progress=False)
    yield service
    await database.close()


@pytest.fixture(scope="module")
async def big_dir(tmp_path_factory):
    """A synthetic directory of 3,000 rows for paging and the 100-result cap."""
    root = tmp_path_factory.mktemp("big")
    generate(root / "x.txt", 3000, seed=11)
    database = Database(f"sqlite+aiosqlite:///{root / 'c.db'}")
    await database.migrate()
    service = DirectoryService(root / "directory", database)
    await service.import_extract(root / "x.txt", progress=False)
    yield service
    await database.close()


ROWS = by_header(sample_lines())


def expected(predicate) -> set[str]:
    """National ids of the sample rows satisfying `predicate` (computed from the file itself)."""
    return {r["Identification nationale PP"] for r in ROWS if predicate(r)}


async def ids(service, text, **kw) -> set[str]:
    page = await service.search(text, page_size=100, **kw)
    found = {p.national_id for p in page.results}
    assert len(found) == len(page.results), "a person appears once whatever their sites"
    assert page.total == len(found)
    return found


def has_word(value: str, word: str) -> bool:
    return word in words(value)


@pytest.mark.parametrize(
    "column,value",
    [
        ("Nom d'exercice", "FONTAINE"),
        ("Prénom d'exercice", "Cyrielle"),
        ("Libellé profession", "Orthophoniste"),
        ("Libellé savoir-faire", "Pneumologie"),
        ("Raison sociale site", "MSP FAUBOURG SANTÉ"),
        ("Libellé commune (coord. structure)", "Ajaccio"),
        ("Code postal (coord. structure)", "59500"),
        ("Libellé Département (structure)", "Corse-du-Sud"),
        ("Code Département (structure)", "2A"),
    ],
)
async def test_search_by_each_field(sample_dir, column, value):
    want = expected(lambda r: all(has_word(r[column], w) for w in words(value)))
    assert want
    assert want <= await ids(sample_dir, value)


async def test_accents_and_case_do_not_matter(sample_dir):
    assert (
        await ids(sample_dir, "guerin")
        == await ids(sample_dir, "GUÉRIN")
        == expected(lambda r: r["Nom d'exercice"] == "GUÉRIN")
    )
    assert await ids(sample_dir, "thi hoa") == expected(lambda r: r["Nom d'exercice"] == "N'GUYEN")


async def test_fragments_match(sample_dir):
    found = await ids(sample_dir, "fontai")
    assert expected(lambda r: r["Nom d'exercice"].startswith("FONTAINE")) <= found
    assert await ids(sample_dir, "danqui") == expected(lambda r: r["Nom d'exercice"] == "DANQUIGNY")


async def test_typos_only_as_a_fallback(sample_dir):
    exact = await sample_dir.search("Karimo")
    assert not exact.fuzzy and exact.results[0].last_name == "KARIMO"
    assert {p.last_name for p in exact.results} == {"KARIMO"}  # no KARIM, no fuzzy noise
    typo = await sample_dir.search("Abdelak")
    assert typo.fuzzy and typo.results[0].first_name == "Abdelhak"
    assert (await sample_dir.search("Fontanie")).results[0].last_name == "FONTAINE"


async def test_exact_name_ranks_first(sample_dir):
    page = await sample_dir.search("karim")
    assert [p.last_name for p in page.results][:2] == ["KARIM", "KARIM"]
    assert "KARIMO" in [p.last_name for p in page.results]
    martin = await sample_dir.search("martin")
    lasts = [p.last_name == "MARTIN" for p in martin.results]
    assert lasts == sorted(lasts, reverse=True)  # last-name matches before anything else


async def test_profession_nouns_and_city(sample_dir):
    cardio = expected(lambda r: r["Libellé savoir-faire"].startswith("Cardiologie"))
    assert cardio and await ids(sample_dir, "cardiologue") == cardio
    kine_douai = expected(
        lambda r: (
            r["Code profession"] == "70"
            and (
                r["Libellé commune (coord. structure)"] == "DOUAI"
                or "DOUAI" in r["Raison sociale site"]
            )
        )
    )
    assert kine_douai and await ids(sample_dir, "kiné douai") == kine_douai
    nurses = expected(lambda r: r["Libellé profession"] == "Infirmier")
    assert await ids(sample_dir, "infirmière") == nurses
    gp = expected(lambda r: r["Code savoir-faire"] == "SM54")
    assert await ids(sample_dir, "généralistes") == gp
    assert await ids(sample_dir, "pédiatre") == expected(
        lambda r: r["Libellé savoir-faire"] == "Pédiatrie"
    )


async def test_filters(sample_dir):
    in_douai = expected(lambda r: r["Libellé commune (coord. structure)"] == "DOUAI")
    assert await ids(sample_dir, "", city="Douai") == in_douai
    assert await ids(sample_dir, "", city="59500") == in_douai
    nord = expected(lambda r: r["Code Département (structure)"] == "59")
    assert await ids(sample_dir, "", city="59") == nord
    doctors_nord = expected(
        lambda r: r["Code profession"] == "10" and r["Code Département (structure)"] == "59"
    )
    assert await ids(sample_dir, "", profession="médecin", city="59") == doctors_nord
    pneumo = expected(lambda r: r["Libellé savoir-faire"] == "Pneumologie")
    assert await ids(sample_dir, "", specialty="pneumologie") == pneumo
    assert await ids(sample_dir, "karimo", specialty="cardiologie") == set()
    assert await ids(sample_dir, "", profession="kiné") == expected(
        lambda r: r["Code profession"] == "70"
    )


async def test_several_sites_shown_once(sample_dir):
    page = await sample_dir.search("DURAND NADIA")
    assert page.total == 1
    rows = [r for r in ROWS if r["Identification nationale PP"] == page.results[0].national_id]
    assert len(page.results[0].sites) == len(rows) > 1


async def test_paging_and_cap(big_dir):
    first = await big_dir.search("infirmier", page_size=10)
    assert first.total > 100 and first.pages == 10 and first.capped
    seen = []
    for number in range(1, 11):
        page = await big_dir.search("infirmier", page=number, page_size=10)
        assert len(page.results) == 10
        seen += [p.national_id for p in page.results]
    assert len(set(seen)) == 100
    beyond = await big_dir.search("infirmier", page=11, page_size=10)
    assert beyond.results == [] and beyond.total == first.total
    big = await big_dir.search("infirmier", page_size=500)
    assert len(big.results) == 100


@pytest.mark.parametrize(
    "text",
    [
        '"',
        "'",
        '"unbalanced',
        "a AND OR NOT b",
        "name:(x",
        "*",
        "?~2",
        '+-&&||!(){}[]^"~*?:\\/',
        "😀🩺",
        "\x00\x01",
        "DROP TABLE directory_people;--",
        "martin" * 2000,
        "a " * 5000,
        "",
        "   ",
        "ﬁ ß Œ",
        "\u202e\u200b",
        "1e308",
        "-1",
    ],
)
async def test_any_text_is_safe(sample_dir, text):
    page = await sample_dir.search(text)
    assert page.total >= 0 and isinstance(page.results, list)
    page = await sample_dir.search(
        text, profession=text, city=text, specialty=text, page=-3, page_size=0
    )
    assert page.total >= 0


async def test_hostile_text_does_not_match_everything(sample_dir):
    assert (await sample_dir.search('martin" OR "a')).total == (
        await sample_dir.search("martin or a")
    ).total
    assert (
        (await sample_dir.search('"martin"')).total == (await sample_dir.search("martin")).total > 0
    )


async def test_empty_directory_answers_empty(tmp_path, database):
    service = DirectoryService(tmp_path / "none", database)
    page = await service.search("martin")
    assert page.total == 0 and page.results == []
    assert await service.get("810000100007") is None
