"""Backups of a SQLite database, and restoring one.

``backup(url)`` copies the database with SQLite's online backup API, so the
copy is consistent even while kehu is open elsewhere. Automatic backups are
timestamped files in a folder of the database's own under ``data_dir()/backups``
(``<file stem>-<id>``), of which the newest ``keep`` stay: each database keeps,
lists and rotates only its own backups.

The id is made at its first backup and stored in the database's ``kehu_meta``
table with the path it was made at: it travels with the database when the file
is moved or renamed, and a copy of the file (``cp a.db b.db``: same id, other path,
the first file still there with that id) is given an id of its own at its first
backup. A restore keeps the id of the database it replaces.

Backups made before these folders existed (``backups/kehu-*.db``) are matched to
their database by the first entry of the audit trail (its time to the microsecond):
listed with it, and moved into its folder at its next backup. Those that match no
database are kept and never rotated.

A copy is written to ``*.partial`` (0600) and renamed into place; a backup or a
restore killed half-way leaves such a file, which the next backup or restore of
the same database deletes (under a lock, so a backup running elsewhere keeps its own).

``restore(url, file)`` checks the file first (SQLite integrity check, kehu
tables present), keeps the current database aside, prepares the restored
database beside it — with its ``restore_backup`` audit entry already written
into it — then copies that in with one transaction: the database is either the
old one or the restored one with its audit entry, whatever moment a kill hits.
PostgreSQL has its own tools: ``pg_dump_hint`` says how to use them.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from .errors import KehuError
from . import audit, crypto
from .config import data_dir
from .db import private_file, redact, sqlite_path
from .i18n import tr

PREFIX = "kehu-"
SUFFIX = ".db"
PARTIAL = ".partial"
RESTORING = ".restoring"
ID_KEY = "database_id"
#: Partial files left by kehu versions that wrote every backup into one folder are
#: deleted once older than this (seconds): one of them may still be writing.
OLD_PARTIAL_AGE = 3600


class BackupError(KehuError):
    """A backup or restore that cannot be done; ``str()`` is the message."""


def backup_dir() -> Path:
    """The folder holding every database's backup folder."""
    return data_dir() / "backups"


def _stamp() -> str:
    return dt.datetime.now().strftime("%Y%m%d-%H%M%S")


def pg_dump_hint(url: str) -> str:
    safe = redact(url)
    name = re.sub(r"[^\w.-]+", "_", urlparse(url).path.strip("/")) or "postgres"
    return tr("backup.postgres", url=safe, file=f"{PREFIX}{name}-{_stamp()}.dump")


def _database_file(url: str) -> Path:
    if url.startswith("postgres"):
        raise BackupError(pg_dump_hint(url))
    path = sqlite_path(url)
    if path is None:
        raise BackupError(tr("backup.not_a_file", url=redact(url)))
    return path


# --- locking and stale partial files ---------------------------------------------------

@contextlib.contextmanager
def _lock(database: Path):
    """Hold the backup/restore lock of the database file ``database`` (waits for
    another kehu backing up or restoring the same file)."""
    folder = backup_dir() / ".locks"
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(str(database.resolve()).encode()).hexdigest()[:16]
    fd = os.open(folder / f"{name}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows: no lock, stale files go by age
            fcntl = None
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield fcntl is not None
    finally:
        os.close(fd)   # closing releases the lock


def _clean_stale(database: Path, folder: Path | None, locked: bool) -> list[Path]:
    """Delete what a killed backup or restore of ``database`` left behind: partial
    copies in its backup folder, a half-made copy kept aside, a half-prepared
    restore. Called under ``_lock``: nothing else of this database is writing."""
    found: list[Path] = []
    if folder is not None and folder.is_dir():
        found += folder.glob(f"*{PARTIAL}*")
    found += database.parent.glob(f"{glob_escape(database.stem)}.before-restore-*{PARTIAL}*")
    found += database.parent.glob(f"{glob_escape(database.name)}{RESTORING}*")
    root = backup_dir()
    if root.is_dir():  # from kehu versions with one folder for all (no lock there)
        found += [p for p in root.glob(f"{PREFIX}*{PARTIAL}*")
                  if time.time() - p.stat().st_mtime > OLD_PARTIAL_AGE]
    removed = []
    for path in found:
        if not locked and time.time() - path.stat().st_mtime < OLD_PARTIAL_AGE:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# --- the database's identity and its backup folder ------------------------------------

def _read_meta(conn, key: str):
    try:
        row = conn.execute("SELECT value FROM kehu_meta WHERE key = ?", (key,)).fetchone()
    except crypto.db_errors():
        return None
    if row is None:
        return None
    try:
        return json.loads(row[0])
    except (TypeError, ValueError):
        return None


def _first_audit(conn) -> str | None:
    """The first entry of the audit trail (time, action, login): the same in every
    backup of one database, different in any other."""
    try:
        row = conn.execute("SELECT at, action, login FROM kehu_audit ORDER BY id LIMIT 1").fetchone()
    except crypto.db_errors():
        return None
    return None if row is None else "|".join(str(v) for v in row)


def _peek(path: Path, key: str | None) -> tuple[str | None, str | None]:
    """(database id, first audit entry) of another file, read-only, never asking for
    a key: an encrypted file is tried with ``key`` only."""
    encrypted = crypto.is_encrypted(path)
    if encrypted and not key:
        return None, None
    try:
        conn = crypto.connect(path, readonly=True, key=key if encrypted else None)
    except (crypto.CryptoError, *crypto.db_errors()):
        return None, None
    try:
        ident = _read_meta(conn, ID_KEY)
        return (ident.get("id") if isinstance(ident, dict) else None), _first_audit(conn)
    finally:
        conn.close()


@dataclass
class Identity:
    id: str
    fingerprint: str | None
    key: str | None   # the SQLCipher key the database was opened with (None: plain)


def _identity(source: Path, *, create: bool) -> Identity | None:
    """The database's id (made and stored on first use when ``create``), or None."""
    conn = crypto.connect(source)
    key = crypto.key_for(source) if crypto.is_encrypted(source) else None
    try:
        here = str(source.resolve())
        ident = _read_meta(conn, ID_KEY)
        fingerprint = _first_audit(conn)
        db_id = ident.get("id") if isinstance(ident, dict) else None
        if db_id and ident.get("path") == here:
            return Identity(db_id, fingerprint, key)
        if db_id and ident.get("path"):
            other = Path(ident["path"])
            if (other.exists() and not _same_file(other, source)
                    and _peek(other, key)[0] == db_id):
                db_id = None          # a copy of a database still at its place: a new id
        if not create:
            return Identity(db_id, fingerprint, key) if db_id else None
        # A new id is made from what tells this database from any other at this place (its
        # path, its file's inode, its first audit entry): the same id again if it cannot be
        # stored now (a read-only file, a lock held too long), another for another database.
        db_id = db_id or hashlib.sha1(
            f"{here}|{source.stat().st_ino}|{fingerprint}".encode()).hexdigest()[:32]
        try:
            with conn:
                conn.execute("INSERT OR REPLACE INTO kehu_meta (key, value) VALUES (?, ?)",
                             (ID_KEY, json.dumps({"id": db_id, "path": here})))
        except crypto.db_errors():
            pass   # used without being stored
        return Identity(db_id, fingerprint, key)
    finally:
        conn.close()


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _folder_for(source: Path, ident: Identity, *, create: bool) -> Path:
    short = ident.id[:12]
    root = backup_dir()
    if root.is_dir():
        for folder in root.glob(f"*-{short}"):
            if folder.is_dir():
                return folder
    stem = re.sub(r"[^\w.-]+", "_", source.stem)[:40] or "db"
    folder = root / f"{stem}-{short}"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def database_backup_dir(url: str) -> Path | None:
    """The folder of the backups of the database at ``url`` (None: it has none yet)."""
    source = _database_file(url)
    if not source.exists():
        return None
    ident = _identity(source, create=False)
    return _folder_for(source, ident, create=False) if ident else None


def _old_style(ident: Identity | None) -> list[Path]:
    """Backups from before per-database folders whose first audit entry is this
    database's."""
    root = backup_dir()
    if ident is None or not ident.fingerprint or not root.is_dir():
        return []
    return [p for p in _backup_files(root)
            if _peek(p, ident.key)[1] == ident.fingerprint]


_NAME = re.compile(rf"{PREFIX}(\d{{8}}-\d{{6}})(?:-(\d+))?{re.escape(SUFFIX)}")


def _age_key(path: Path) -> tuple[str, int]:
    """Newest last: by time stamp, then by the -2, -3 … of backups made the same second."""
    m = _NAME.fullmatch(path.name)
    return (m.group(1), int(m.group(2) or 1)) if m else (path.name, 0)


def _newest_first(paths) -> list[Path]:
    return sorted(paths, key=_age_key, reverse=True)


def _backup_files(folder: Path) -> list[Path]:
    return _newest_first(p for p in folder.glob(f"{PREFIX}*{SUFFIX}") if p.is_file())


def _copy(source: Path, target: Path) -> None:
    """A consistent copy through the online backup API, written beside the target
    and renamed into place so a half-written file never carries the final name."""
    partial = target.with_name(target.name + PARTIAL)
    for stale in (partial, Path(str(partial) + "-journal")):
        stale.unlink(missing_ok=True)
    private_file(partial)   # 0600 before a byte is written; its journal gets the same mode
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
    cleaned: list[Path] = field(default_factory=list)   # stale partial files deleted


def list_backups(url: str | None = None, folder: Path | None = None) -> list[Path]:
    """The automatic backups of the database at ``url`` (or those in ``folder``),
    newest first; backups older than per-database folders are included when they
    are known to be this database's."""
    if url is None:
        return _backup_files(folder) if folder is not None and folder.is_dir() else []
    source = _database_file(url)
    if not source.exists():
        return []
    ident = _identity(source, create=False)
    if ident is None:   # never backed up by this kehu: only old-style ones can be its
        probe = _probe_identity(source)
        return _old_style(probe)
    own = _folder_for(source, ident, create=False)
    found = _backup_files(own) if own.is_dir() else []
    found += _old_style(ident)
    return _newest_first(found)


def _probe_identity(source: Path) -> Identity | None:
    conn = crypto.connect(source, readonly=True)
    key = crypto.key_for(source) if crypto.is_encrypted(source) else None
    try:
        fingerprint = _first_audit(conn)
    finally:
        conn.close()
    return Identity("", fingerprint, key) if fingerprint else None


def unmatched_old_backups(url: str) -> list[Path]:
    """Backups from before per-database folders that belong to no database known
    here (kept, never rotated; ``kehu restore FILE`` still takes them)."""
    root = backup_dir()
    if not root.is_dir():
        return []
    mine = set(list_backups(url))
    return [p for p in _backup_files(root) if p not in mine]


def backup(url: str, target: str | Path | None = None, *, keep: int = 10,
           user: str | None = None, store=None) -> BackupResult:
    """Copy the database at ``url`` to ``target`` (a file or a folder) or, by default,
    to a timestamped file in the database's own backup folder, then keep the newest
    ``keep`` there. Needs the ``backup`` right (a full, unmasked copy); the trail
    records it (``store``: the database already open as the user)."""
    source = _database_file(url)
    if not source.exists():
        raise BackupError(tr("backup.no_database", path=source))
    audit.require_right(url, "backup", user=user, store=store)
    rotate = target is None
    with _lock(source) as locked:
        own = None
        if rotate:
            ident = _identity(source, create=True)
            own = _folder_for(source, ident, create=True)
            for old in _old_style(ident):      # adopt this database's old-style backups
                os.replace(old, own / old.name)
            target = own
        else:
            target = Path(target)
        cleaned = _clean_stale(source, own, locked)
        if target.is_dir():
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
        result = BackupResult(target, cleaned=cleaned)
        if rotate:
            for old in _backup_files(own)[max(keep, 1):]:
                old.unlink(missing_ok=True)
                result.removed.append(old)
    audit.record_operation(url, "backup", note=tr("audit.backup_note", path=result.path),
                           user=user, store=store)
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
            counts: dict[str, int] | None = None, schema=None) -> RestoreResult:
    """Replace the database at ``url`` by the backup ``path`` (checked first); the
    current database is copied aside first and its name returned. The restored
    database's audit trail records the restore (who, from which file, where the
    previous database was kept): a restore takes back every change made since
    the backup, and the trail says so. That entry is written into the restored
    copy before it replaces the database, in one transaction, so no restore is
    ever without it. ``counts``: what ``check_backup(path)`` returned to a caller
    that ran it just before (a whole-file check is not repeated). ``schema``: the
    schema the database is opened with (a path, a Schema or None for the default)."""
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
    if exists:   # who may replace this database: its own roles say
        audit.require_right(url, "restore", user=user, schema=schema)
    with _lock(current) as locked:
        _clean_stale(current, None, locked)
        ident = _identity(current, create=False) if exists else None
        aside = None
        if exists:
            aside = current.with_name(f"{current.stem}.before-restore-{_stamp()}{current.suffix}")
            _copy(current, aside)
        else:
            private_file(current)
        errors = crypto.db_errors()
        key = crypto.key_for(path) if encrypted else None
        ready = current.with_name(current.name + RESTORING)
        for stale in [ready, *(Path(str(ready) + s) for s in ("-journal", "-wal", "-shm"))]:
            stale.unlink(missing_ok=True)
        private_file(ready)
        try:
            _transfer(path, ready, key)
            _record_restore(ready, current, path, aside, user, ident, schema)
            _transfer(ready, current, key)   # one transaction: the old database or all of it
        except errors as exc:
            raise BackupError(tr("backup.restore_failed", path=current, error=exc,
                                 aside=aside or "-")) from None
        finally:
            for left in [ready, *(Path(str(ready) + s) for s in ("-journal", "-wal", "-shm"))]:
                left.unlink(missing_ok=True)
    return RestoreResult(aside, counts)


def _transfer(source: Path, target: Path, key: str | None) -> None:
    """Every page of ``source`` into ``target`` (the backup API, one write transaction)."""
    src = crypto.connect(source, readonly=True, key=key)
    try:
        dst = crypto.connect(target, key=key)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()


def _record_restore(ready: Path, current: Path, path: Path, aside: Path | None,
                    user: str | None, ident: Identity | None, schema) -> None:
    """Open the prepared copy as a kehu store (which migrates an older backup), write
    the ``restore_backup`` entry and keep the replaced database's id."""
    from .store import Store

    store = Store.open(f"sqlite:///{ready}", schema, user=user)
    try:
        with store.db.atomic():
            store.audit.record("restore_backup", "database", None,
                               note=tr("backup.restore_note", path=path.resolve(),
                                       aside=aside or "-"))
            if ident is not None:
                store.set_meta(ID_KEY, {"id": ident.id, "path": str(current.resolve())})
        store.db.execute_sql("PRAGMA journal_mode=DELETE")   # one self-contained file
    finally:
        store.close()
