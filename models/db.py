"""Opening the database a URL names: SQLite for one user, PostgreSQL for a team.

``sqlite:///relative.db``, ``sqlite:////absolute/path.db`` or
``postgresql://user@host:5432/name`` (any ``playhouse.db_url`` URL).
A new SQLite file is created readable by its owner only (0600), in WAL mode,
with foreign keys on and a busy timeout so two kehu processes can share it.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect as url_connect

from .errors import KehuError
from .i18n import tr

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10_000,
    "synchronous": "normal",
    "cache_size": -32_000,
    "temp_store": "memory",
}


class DatabaseError(KehuError):
    pass


def sqlite_path(url: str) -> Path | None:
    """The file behind a ``sqlite://`` URL (None for other URLs or memory)."""
    if not url.startswith("sqlite:"):
        return None
    path = url[len("sqlite:"):]
    if path.startswith("///"):
        path = path[3:]
    elif path.startswith("//"):
        path = path[2:]
    path = path.split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path)


def private_file(path: Path) -> None:
    """Create ``path`` if needed and make it readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def connect(url: str) -> peewee.Database:
    """Open the database at ``url``; raises ``DatabaseError`` with one clear sentence."""
    scheme = urlparse(url).scheme
    if scheme.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            try:
                private_file(path)
            except OSError as exc:
                raise DatabaseError(tr("db.cannot_create", path=path, error=exc.strerror)) from None
        # IMMEDIATE: a transaction takes the write lock when it begins (waiting up to the
        # timeout), so a read-then-write never fails with "database is locked" mid-way.
        sqlite_opts = {"pragmas": SQLITE_PRAGMAS, "timeout": 10, "lock_type": "IMMEDIATE"}
        if path is not None and _encrypted(path):   # SQLCipher: models.crypto asks for the key
            from .crypto import open_encrypted

            return open_encrypted(path, **sqlite_opts)
        db = peewee.SqliteDatabase(str(path) if path else ":memory:", **sqlite_opts)
    elif scheme.startswith("postgres"):
        try:
            db = url_connect(url)
        except Exception as exc:  # noqa: BLE001 - driver errors vary
            raise DatabaseError(tr("db.bad_url", url=url, error=exc)) from None
    else:
        raise DatabaseError(tr("db.unknown_scheme", url=url))
    try:
        db.connect(reuse_if_open=True)
        if isinstance(db, peewee.SqliteDatabase) and path is not None:
            for suffix in ("-wal", "-shm"):
                side = Path(str(path) + suffix)
                if side.exists():
                    os.chmod(side, stat.S_IRUSR | stat.S_IWUSR)
    except peewee.DatabaseError as exc:
        if "locked" in str(exc):  # a first big import writes past the WAL and holds the file
            raise DatabaseError(tr("db.busy", url=redact(url))) from None
        raise DatabaseError(tr("db.cannot_open", url=redact(url), error=str(exc).strip())) from None
    return db


def _encrypted(path: Path) -> bool:
    from .crypto import is_encrypted

    return is_encrypted(path)


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    parts = urlparse(url)
    if parts.password:
        return url.replace(":" + parts.password + "@", ":***@", 1)
    return url


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)
