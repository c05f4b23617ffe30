"""`confrere backup` / `confrere restore` for the embedded default (one data directory).

A backup is one `.tar.gz` (mode 0600: it holds the secrets) of everything that cannot be
rebuilt: configuration, secrets, the administrator's credentials, the service's and Synapse's
SQLite databases, Synapse's signing key and media, the bot's session, crypto store and
cross-signing keys (without them the bot would be a new device nobody trusts), the directory
index. Logs are left out. SQLite files are copied with SQLite's online backup API, so the
product may keep running while it is taken. Databases on PostgreSQL are not in the archive:
the operator backs them up with `pg_dump`, as the command says.
"""

from __future__ import annotations

import os
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from bridge.config import CONFIG_FILE

SKIPPED_DIRS = {"logs"}
SKIPPED_FILES = {"endpoints.json"}
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is for the operator (French)."""


@dataclass(frozen=True)
class BackupReport:
    archive: Path
    files: int
    sqlite_databases: int
    external_databases: tuple[str, ...]


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(16) == SQLITE_MAGIC
    except OSError:
        return False


def _copy_sqlite(source: Path, target: Path) -> None:
    """Consistent copy of a live SQLite database (its WAL included)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, \
            sqlite3.connect(target) as dst:
        src.backup(dst)


def _files(data_dir: Path):
    for root, dirs, files in os.walk(data_dir):
        rel_root = Path(root).relative_to(data_dir)
        dirs[:] = sorted(d for d in dirs if not (rel_root == Path(".") and d in SKIPPED_DIRS))
        for name in sorted(files):
            if rel_root == Path(".") and name in SKIPPED_FILES:
                continue
            if name.endswith(SQLITE_SIDE_FILES):
                continue
            yield Path(root) / name, rel_root / name


def backup(data_dir: Path, destination: Path | None, external_databases: tuple[str, ...] = ()
           ) -> BackupReport:
    if not (data_dir / CONFIG_FILE).exists():
        raise BackupError(f"{data_dir} n'est pas un dossier de données Confrère.")
    if destination is None:
        destination = Path(f"confrere-sauvegarde-{datetime.now():%Y%m%d-%H%M%S}.tar.gz")
    if destination.exists():
        raise BackupError(f"{destination} existe déjà : choisissez un autre nom.")
    files = databases = 0
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive, \
                tempfile.TemporaryDirectory() as scratch:
            for path, relative in _files(data_dir):
                if _is_sqlite(path):
                    copy = Path(scratch) / f"db{databases}"
                    _copy_sqlite(path, copy)
                    archive.add(copy, arcname=str(relative), recursive=False)
                    copy.unlink()
                    databases += 1
                else:
                    archive.add(path, arcname=str(relative), recursive=False)
                files += 1
    except BaseException:
        destination.unlink(missing_ok=True)
        raise
    return BackupReport(destination, files, databases, external_databases)


def restore(archive_path: Path, data_dir: Path) -> int:
    """Unpack a backup into a new data directory; returns the number of files restored."""
    if not archive_path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {archive_path}")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} n'est pas vide : restaurez dans un nouveau dossier.")
    try:
        with tarfile.open(archive_path, mode="r:gz") as archive:
            members = archive.getmembers()
            names = {m.name for m in members}
            if CONFIG_FILE not in names:
                raise BackupError(f"{archive_path} n'est pas une sauvegarde Confrère.")
            data_dir.mkdir(parents=True, exist_ok=True)
            os.chmod(data_dir, 0o700)
            archive.extractall(data_dir, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"Sauvegarde illisible : {exc}") from exc
    for secret in ("secrets.yaml", "admin.json"):
        if (data_dir / secret).exists():
            os.chmod(data_dir / secret, 0o600)
    return sum(1 for m in members if m.isfile())
