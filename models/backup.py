"""Backups of a SQLite database, and restoring one.

``backup(url)`` copies the database with SQLite's online backup API, so the
copy is consistent even while kehu is open elsewhere; automatic backups are
timestamped files in ``data_dir()/backups`` of which the newest ``keep`` stay.
``restore(url, file)`` checks the file first (SQLite integrity check, kehu
tables present), keeps the current database aside, then copies the backup in.
PostgreSQL has its own tools: ``pg_dump_hint`` says how to use them.
"""
from __future__ import annotations

import datetime as dt
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from .errors import KehuError
from . import crypto
from .config import data_dir
from .db import private_file, redact, sqlite_path
from .i18n import tr

PREFIX = "kehu-"
SUFFIX = ".db"


class BackupError(KehuError):
    """A backup or restore that cannot be done; ``str()`` is the message."""


def backup_dir() -> Path:
    return data_dir() / "backups"


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def pg_dump_hint(url: str) -> str:
    safe = redact(url)
    return tr("backup.postgres", url=safe, file=f"{PREFIX}{_stamp()}.dump")


def _database_file(url: str) -> Path:
    if url.startswith("postgres"):
        raise BackupError(pg_dump_hint(url))
    path = sqlite_path(url)
    if path is None:
        raise BackupError(tr("backup.not_a_file", url=redact(url)))
    return path


def _copy(source: Path, target: Path) -> None:
    """A consistent copy through the online backup API, written beside the target
    and renamed into place so a half-written file never carries the final name."""
    partial = target.with_name(target.name + ".partial")
    private_file(partial)
    if crypto.is_encrypted(source):   # SQLCipher: the copy stays encrypted, same key
        crypto.backup(source, partial)
        os.replace(partial, target)
        return
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained single file
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(tr("backup.copy_failed", path=source, error=exc)) from None
    finally:
        src.close()
    os.replace(partial, target)


@dataclass
class BackupResult:
    path: Path
    removed: list[Path] = field(default_factory=list)


def list_backups(folder: Path | None = None) -> list[Path]:
    """Automatic backups, newest first."""
    folder = folder or backup_dir()
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file()),
                  key=lambda p: p.name, reverse=True)


def backup(url: str, target: str | Path | None = None, *, keep: int = 10) -> BackupResult:
    """Copy the database at ``url`` to ``target`` (a file or a folder) or, by default,
    to a timestamped file in ``backup_dir()``, then keep the newest ``keep`` there."""
    source = _database_file(url)
    if not source.exists():
        raise BackupError(tr("backup.no_database", path=source))
    rotate = target is None
    target = Path(target) if target is not None else backup_dir()
    if target.is_dir() or rotate:
        target.mkdir(parents=True, exist_ok=True)
        name = f"{PREFIX}{_stamp()}"
        path = target / f"{name}{SUFFIX}"
        n = 1
        while path.exists():
            n += 1
            path = target / f"{name}-{n}{SUFFIX}"
        target = path
    elif not target.parent.is_dir():
        raise BackupError(tr("backup.no_folder", path=target.parent))
    _copy(source, target)
    result = BackupResult(target)
    if rotate:
        for old in list_backups(target.parent)[max(keep, 1):]:
            old.unlink(missing_ok=True)
            result.removed.append(old)
    return result


def check_backup(path: str | Path) -> dict[str, int]:
    """Row counts per table of a sound kehu backup; ``BackupError`` saying what is
    wrong. An encrypted (SQLCipher) backup is opened with its key (``KEHU_DB_KEY``
    or the prompt); a wrong key is said as such."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(tr("backup.no_file", path=path))
    errors = crypto.db_errors()
    try:
        conn = crypto.connect(path, readonly=True)
    except errors as exc:
        raise BackupError(tr("backup.not_sqlite", path=path, error=exc)) from None
    except crypto.CryptoError as exc:  # junk looks encrypted too: say both
        raise BackupError(tr("backup.not_sqlite_or_key", path=path, error=exc)) from None
    try:
        verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if verdict != "ok":
            raise BackupError(tr("backup.damaged", path=path, error=verdict))
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE '%fts%'")]
        if "customer" not in tables or "kehu_meta" not in tables:
            raise BackupError(tr("backup.not_kehu", path=path))
        return {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    except errors as exc:
        raise BackupError(tr("backup.not_sqlite", path=path, error=exc)) from None
    finally:
        conn.close()


@dataclass
class RestoreResult:
    aside: Path | None
    counts: dict[str, int]


def restore(url: str, path: str | Path, *, user: str | None = None,
            counts: dict[str, int] | None = None) -> RestoreResult:
    """Replace the database at ``url`` by the backup ``path`` (checked first); the
    current database is copied aside first and its name returned. The restored
    database's audit trail records the restore (who, from which file, where the
    previous database was kept): a restore takes back every change made since
    the backup, and the trail says so. ``counts``: what ``check_backup(path)``
    returned to a caller that ran it just before (a whole-file check is not
    repeated)."""
    counts = counts if counts is not None else check_backup(path)
    current = _database_file(url)
    path = Path(path)
    exists = current.exists() and current.stat().st_size > 0
    encrypted = crypto.is_encrypted(path)
    if exists and crypto.is_encrypted(current) != encrypted:
        # a plain backup would silently decrypt the database, an encrypted one be unreadable
        raise BackupError(tr("backup.encryption_differs", path=path, current=current,
                             backup=tr("backup.encrypted" if encrypted else "backup.plain"),
                             database=tr("backup.plain" if encrypted else "backup.encrypted")))
    aside = None
    if exists:
        aside = current.with_name(f"{current.stem}.before-restore-{_stamp()}{current.suffix}")
        _copy(current, aside)
    else:
        private_file(current)
    errors = crypto.db_errors()
    key = crypto.key_for(path) if encrypted else None
    src = crypto.connect(path, readonly=True, key=key)
    try:
        dst = crypto.connect(current, key=key)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except errors as exc:
        raise BackupError(tr("backup.restore_failed", path=current, error=exc,
                             aside=aside or "-")) from None
    finally:
        src.close()
    _record_restore(url, Path(path), aside, user)
    return RestoreResult(aside, counts)


def _record_restore(url: str, path: Path, aside: Path | None, user: str | None) -> None:
    from .store import Store  # the store opens the restored file (and migrates an older one)

    store = Store.open(url, user=user)
    try:
        with store.db.atomic():
            store.audit.record("restore_backup", "database", None,
                               note=tr("backup.restore_note", path=path.resolve(),
                                       aside=aside or "-"))
    finally:
        store.close()
