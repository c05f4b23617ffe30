"""The command line as an operator types it: `--data` anywhere, no stray data directories."""

from __future__ import annotations

import os
import tarfile

import pytest

from bridge.cli import _hoist_data_option, main


@pytest.mark.parametrize("argv", [
    ["--data", "D", "up"], ["up", "--data", "D"], ["up", "--data=D"],
    ["directory", "search", "--data", "D", "faure"],
])
def test_data_option_is_accepted_before_and_after_the_verb(argv):
    hoisted = _hoist_data_option(argv)
    assert hoisted[:2] == ["--data", "D"] and "--data" not in hoisted[2:]


@pytest.mark.parametrize("verb", [["directory", "search", "cardiologue"], ["status"],
                                  ["backup"], ["account", "create", "Essai", "Test"],
                                  ["api-token", "create", "x"]])
def test_read_verbs_never_create_a_data_directory(tmp_path, capsys, verb):
    missing = tmp_path / "ailleurs"
    code = main([*verb, "--data", str(missing)])
    assert code == 2
    assert not missing.exists(), "a read verb in the wrong folder must not create data"
    assert "Aucune installation Confrère" in capsys.readouterr().err


def test_init_creates_and_search_reports_an_empty_directory(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["init", "--data", str(data)]) == 0
    assert (data / "confrere.yaml").exists()
    capsys.readouterr()
    assert main(["directory", "search", "cardiologue", "--data", str(data)]) == 4
    assert "pas encore importé" in capsys.readouterr().err


def test_backup_refuses_what_is_not_a_data_directory_and_restore_refuses_foreign_archives(
        tmp_path, capsys):
    data = tmp_path / "data"
    main(["init", "--data", str(data)])
    archive = tmp_path / "b.tar.gz"
    assert main(["backup", str(archive), "--data", str(data)]) == 0
    names = tarfile.open(archive).getnames()
    assert "secrets.yaml" in names and "confrere.yaml" in names
    assert main(["backup", str(archive), "--data", str(data)]) == 1, "never overwrite"
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        tar.add(__file__, arcname="notes.txt")
    target = tmp_path / "restored"
    assert main(["restore", str(foreign), "--data", str(target)]) == 1
    assert "pas une sauvegarde" in capsys.readouterr().err
    assert main(["restore", str(archive), "--data", str(target)]) == 0
    assert oct(os.stat(target / "secrets.yaml").st_mode & 0o777) == "0o600"
