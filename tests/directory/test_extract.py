"""Reading the extract: headers by name, variants, encodings, bad rows, grouping."""

from __future__ import annotations

import zipfile

import pytest

from bridge.directory.columns import FIELDS, header_key, map_header
from bridge.directory.extract import Extract, ExtractError
from bridge.directory.payload import P, S
from bridge.directory.synthetic import generate
from bridge.directory.text import luhn_valid, words

from .conftest import HEADER_LINE, SAMPLE, by_header, person_line, sample_lines, write_extract


def read(path):
    extract = Extract(path)
    try:
        return list(extract.persons()), extract.stats
    finally:
        extract.close()


def test_no_header_spelling_answers_to_two_fields():
    owners: dict[str, str] = {}
    for field, (published, variants) in FIELDS.items():
        for name in (published, *variants):
            assert owners.setdefault(header_key(name), field) == field


def test_header_keys_ignore_accents_case_and_qualifiers():
    assert header_key("Code Département (structure)") == header_key(
        "code departement (coord. structure)"
    )
    assert header_key("Adresse e-mail (coord. structure)") == header_key("Adresse email")
    positions, missing = map_header(
        ["Colonne inconnue", "NOM D'EXERCICE", "Identification nationale PP"]
    )
    assert positions == {"last_name": 1, "national_id": 2}
    assert "Prénom d'exercice" in missing


def test_sample_every_person_once_with_all_sites():
    records, stats = read(SAMPLE)
    rows = by_header(sample_lines())
    expected: dict[str, set] = {}
    for row in rows:
        expected.setdefault(row["Identification nationale PP"], set()).add(
            (row["Raison sociale site"], row["Code postal (coord. structure)"])
        )
    assert stats.rows == len(rows) and stats.bad_count == 0
    assert [r.national_id for r in records] == list(dict.fromkeys(expected))
    for record in records:
        got = {(s[S["raison_sociale"]], s[S["postal_code"]]) for s in record.sites if any(s[2:])}
        assert got == {x for x in expected[record.national_id] if any(x)}


def test_bad_rows_are_reported_with_line_numbers_and_never_abort(tmp_path):
    lines = sample_lines()[:4]
    lines.insert(2, "8|too|few|fields|")
    lines.insert(3, person_line("", "SANSID", "Paul"))
    lines.append(person_line("812345678903", "VALIDE", "Anne"))
    path = write_extract(tmp_path / "x.txt", lines)
    with open(path, "ab") as handle:
        handle.write(person_line("810000000000", "CASSÉ", "Zoé").encode("latin-1") + b"\n")
    records, stats = read(path)
    assert stats.bad_count == 3
    reasons = {b.line: b.reason for b in stats.bad_rows}
    assert set(reasons) == {3, 4, 8}
    assert "champs" in reasons[3] and "vide" in reasons[4] and "encodage" in reasons[8]
    assert "VALIDE" in {r.person[P["last_name"]] for r in records}


def test_bad_rpps_key_is_reported_not_fatal(tmp_path):
    assert luhn_valid("10000100007") and not luhn_valid("10000100008")
    path = write_extract(
        tmp_path / "x.txt",
        [
            HEADER_LINE,
            person_line("810000100008", "MAUVAISECLE", "Luc"),
            person_line("810000100007", "BONNECLE", "Léa"),
        ],
    )
    records, stats = read(path)
    assert len(records) == 2
    assert stats.bad_key_count == 1 and stats.bad_keys[0].line == 2


def test_missing_key_columns_refused_naming_them(tmp_path):
    header = HEADER_LINE.replace("Nom d'exercice", "Nom").replace("Code profession", "Profession")
    path = write_extract(tmp_path / "x.txt", [header, person_line("810000100007", "A", "B")])
    with pytest.raises(ExtractError) as caught:
        Extract(path)
    message = str(caught.value)
    assert "Nom d'exercice" in message and "Code profession" in message
    assert message.index("colonnes manquantes") < message.index("missing columns")


def test_bom_and_latin1_files(tmp_path):
    line = person_line("810000100007", "LÉVÊQUE", "Hélène")
    records, stats = read(write_extract(tmp_path / "bom.txt", [HEADER_LINE, line], bom=True))
    assert records[0].person[P["last_name"]] == "LÉVÊQUE" and stats.bad_count == 0
    latin = tmp_path / "latin.txt"
    latin.write_bytes((f"{HEADER_LINE}\n{line}\n").encode("latin-1"))
    records, stats = read(latin)
    assert stats.encoding == "latin-1" and records[0].person[P["first_name"]] == "Hélène"


def test_zip_member_is_streamed(tmp_path):
    archive = tmp_path / "PS_LibreAcces_202601010000.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("PS_LibreAcces_SavoirFaire_202601010000.txt", "nothing|here|\n")
        z.write(SAMPLE, "PS_LibreAcces_Personne_activite_202601010000.txt")
    records, stats = read(archive)
    assert stats.rows == len(sample_lines()) - 1 and len(records) == stats.persons


def test_56_column_variant_with_respelled_headers(tmp_path):
    path = tmp_path / "v56.txt"
    generate(path, 300, seed=4, columns=56)
    header = path.read_text(encoding="utf-8").splitlines()[0].split("|")
    assert len(header) == 57 and "Code fonction" in header and "Code mode d'exercice" in header
    records, stats = read(path)
    assert stats.columns == 56 and stats.bad_count == 0 and stats.rows == 300
    # same seed in 52 columns: same people and places, read through different positions
    generate(tmp_path / "v52.txt", 300, seed=4)
    records52, _ = read(tmp_path / "v52.txt")
    assert [r.national_id for r in records] == [r.national_id for r in records52]
    some = next(r for r in records if r.sites)
    site = some.sites[0]
    assert site[S["role"]] == "Titulaire de cabinet" and site[S["dept"]]
    assert site[S["mode"]] in {"Libéral", "Salarié", "Bénévole", ""}


def test_scattered_rows_of_a_person_are_flagged(tmp_path):
    path = write_extract(
        tmp_path / "x.txt",
        [
            HEADER_LINE,
            person_line("810000100007", "A", "B", city="LILLE"),
            person_line("810000179191", "C", "D"),
            person_line("810000100007", "A", "B", city="LENS"),
        ],
    )
    records, stats = read(path)
    assert [r.continued for r in records] == [False, False, True] and stats.persons == 2


def test_words_fold_like_the_index():
    assert words("DE LA TOUR-D'AUVERGNE Thị Œdipe 😀") == [
        "de",
        "la",
        "tour",
        "d",
        "auvergne",
        "thi",
        "oedipe",
    ]
