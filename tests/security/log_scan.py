"""The end-of-session log scan: no planted canary (patient name, code, password, token) in any
log file the session produced — the service's `logs/confrere.log`, Synapse's `synapse.log` and
its captured output, under pytest's base temporary directory.

A hit names the file and the kind of canary, never the text around it (the report itself must
not become the leak).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LOG_NAME = re.compile(r"\.log(\.\d+)?$|\.out$|\.err$")


@dataclass(frozen=True)
class Hit:
    path: Path
    kind: str
    hint: str  # the canary shortened, so a real secret is not printed whole


def log_files(root: Path) -> list[Path]:
    """Every file in a `logs` directory, and every `*.log*` file, under `root`."""
    if not root.exists():
        return []
    return sorted(p for p in root.rglob("*")
                  if p.is_file() and ("logs" in p.relative_to(root).parts[:-1]
                                      or LOG_NAME.search(p.name)))


def _pattern(value: str) -> re.Pattern[str]:
    """Numeric codes only count as a whole word (a 6-digit code is also a piece of many
    unrelated numbers and of hexadecimal ids); every other canary counts anywhere."""
    escaped = re.escape(value)
    if value.isdigit():
        return re.compile(rf"(?<![0-9A-Za-z.,:_-]){escaped}(?![0-9A-Za-z-])")
    return re.compile(escaped)


def scan(root: Path, canaries: dict[str, str]) -> list[Hit]:
    """Every canary found in a log file under `root`; `canaries` maps value → kind."""
    if not canaries:
        return []
    patterns = {value: _pattern(value) for value in canaries}
    hits: list[Hit] = []
    for path in log_files(root):
        text = path.read_bytes().decode("utf-8", errors="replace")
        for value, pattern in patterns.items():
            if value in text and pattern.search(text):
                hint = value if value.startswith("Canari") else f"{value[:3]}…({len(value)} car.)"
                hits.append(Hit(path, canaries[value], hint))
    return hits
