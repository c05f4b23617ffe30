"""Secret files (configuration secrets, admin.json, the bot's session, cross-signing seeds,
trust pins, Synapse's rendered config): written owner-only, whole or not at all.

One helper so that every such file gets the same care: a temporary file created 0600 next to
it, then renamed over it — so a file that existed with looser permissions ends up 0600 too,
and a crash mid-write never leaves half a secret.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def write_private(path: Path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_private_json(path: Path, value: Any, indent: int | None = None) -> None:
    write_private(path, json.dumps(value, indent=indent))
