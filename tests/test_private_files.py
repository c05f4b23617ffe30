"""Secret files end up owner-only, even when they existed with looser permissions."""

from __future__ import annotations

import json
import stat

from bridge.storage.private_files import write_private, write_private_json


def test_a_secret_file_is_0600_even_over_a_world_readable_one(tmp_path):
    path = tmp_path / "admin.json"
    path.write_text("old")
    path.chmod(0o644)
    write_private_json(path, {"password": "x"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"password": "x"}
    write_private(path, "new")
    assert path.read_text() == "new" and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["admin.json"]  # no temporary left
