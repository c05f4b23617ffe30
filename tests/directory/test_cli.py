"""`confrere directory …` verbs, called the way bridge/cli.py calls them."""

from __future__ import annotations

import argparse
import json

from bridge.config import load_settings
from bridge.directory.cli import register

from .conftest import SAMPLE


def run(settings, *argv) -> int:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["directory", *argv])
    return args.func(args, settings)


def _last_json(capsys) -> str:
    out = capsys.readouterr().out
    return out[out.index("{") :]


def test_cli_verbs(tmp_path, capsys):
    settings = load_settings(tmp_path, environ={})
    assert run(settings, "import", str(SAMPLE), "--no-progress") == 0
    out = capsys.readouterr().out
    assert "praticiens : 76" in out and "lignes rejetées : 0" in out
    assert run(settings, "search", "cardiologue") == 0
    assert "Dr Emmanuel FAURE — Médecin, Cardiologie" in capsys.readouterr().out
    assert run(settings, "search", "fontai", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["total"] == 1 and data["results"][0]["last_name"] == "FONTAINE"
    assert run(settings, "search", "zzzzzzzz") == 0
    assert "Aucun praticien" in capsys.readouterr().out
    csv = tmp_path / "cpts.csv"
    csv.write_text("CPTS Grand Douai,810000179191\n", encoding="utf-8")
    assert run(settings, "import-cpts", str(csv)) == 0
    assert run(settings, "search", "--json", "cpts", "grand", "douai", "--city", "marseille") == 0
    found = json.loads(_last_json(capsys))
    member = [r for r in found["results"] if r["cpts"]]
    assert [r["national_id"] for r in member] == ["810000179191"]
    assert member[0]["cpts"] == ["CPTS Grand Douai"]
    assert run(settings, "generate", str(tmp_path / "g.txt"), "--rows", "50", "--seed", "3") == 0
    assert (tmp_path / "g.txt").read_text(encoding="utf-8").count("\n") == 51


def test_cli_refuses_a_non_extract(tmp_path, capsys):
    settings = load_settings(tmp_path, environ={})
    bad = tmp_path / "notes.txt"
    bad.write_text("bonjour|\n", encoding="utf-8")
    assert run(settings, "import", str(bad)) == 2
    assert "colonnes manquantes" in capsys.readouterr().err
