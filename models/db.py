"""Opening the database a URL names: SQLite for one user, PostgreSQL for a team.

``sqlite:///relative.db``, ``sqlite:////absolute/path.db`` or
``postgresql://user@host:5432/name`` (any ``playhouse.db_url`` URL).
A new SQLite file is created readable by its owner only (0600), in WAL mode,
with foreign keys on and a busy timeout so two kehu processes can share it.
"""
from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import peewee
from playhouse.db_url import connect as url_connect

from .errors import KehuError
from .i18n import tr

#: Seconds a SQLite connection waits for another process's write to end before
#: it says the file is busy (``DatabaseBusy``).
BUSY_TIMEOUT = 10.0

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    # FULL: a save shown as "Saved" survives a power cut (NORMAL syncs the WAL only at
    # checkpoints, so the last commits can roll back). Measured on ext4 (two runs, 300
    # and 600 saves): a save's median 1.6-1.8 ms with NORMAL, 7.8-12 ms with FULL; a
    # 20k-row import (one transaction: one sync more) 0.9-3.4 s either way, no difference
    # above the noise, so an import keeps FULL too.
    "synchronous": "full",
    "cache_size": -32_000,
    "temp_store": "memory",
}


class DatabaseError(KehuError):
    pass


class DatabaseBusy(DatabaseError, peewee.OperationalError):
    """Another process held the SQLite file for longer than the busy timeout.
    Still a ``peewee.OperationalError``, for code that expects "locked" as one."""


class DatabaseLost(DatabaseError, peewee.OperationalError):
    """The PostgreSQL server went away (restarted, network down, connection killed)."""


def _busy_problem(exc: BaseException, url: str) -> DatabaseError | None:
    """SQLite: another process kept the file past the busy timeout."""
    text = str(exc).lower()
    if "database is locked" in text or "database is busy" in text:
        return DatabaseBusy(tr("db.busy", url=redact(url)))
    return None


_LOST = ("server closed the connection", "terminating connection", "connection already closed",
         "could not receive data", "could not send data", "ssl connection has been closed",
         "connection not open", "no connection to the server")


def _server_problem(exc: BaseException, url: str) -> DatabaseError | None:
    """PostgreSQL: a deadlock or serialization failure (this change gave way), or a
    lost connection."""
    import psycopg2.errors as pg

    orig = next((e for e in (getattr(exc, "orig", None), exc.__cause__, exc.__context__,
                             *exc.args[:1]) if isinstance(e, BaseException)), exc)  # the driver's
    if isinstance(orig, (pg.DeadlockDetected, pg.SerializationFailure, pg.LockNotAvailable)):
        return DatabaseBusy(tr("db_server.conflict"))
    text = " ".join(str(orig).split())
    if isinstance(exc, peewee.InterfaceError) or any(m in text.lower() for m in _LOST):
        return DatabaseLost(tr("db_server.lost", url=redact(url), error=scrub(text, url)))
    return None


def _in_sentences(db: peewee.Database, url: str, problem) -> peewee.Database:
    """``db`` (any class: SQLite, SQLCipher, PostgreSQL) with the driver errors a user
    can meet — ``problem(exc, url)`` names them — raised as one sentence (a
    KehuError that is still a ``peewee.OperationalError``) instead of a traceback.
    Peewee runs every statement, BEGIN and COMMIT through these three methods."""
    for name in ("begin", "execute_sql", "commit"):
        method = getattr(db, name)

        def said(*args, _method=method, **kwargs):
            try:
                return _method(*args, **kwargs)
            except (peewee.OperationalError, peewee.InterfaceError) as exc:
                if isinstance(exc, DatabaseError):
                    raise
                sentence = problem(exc, url)
                if sentence is None:
                    raise
                raise sentence from None

        setattr(db, name, said)
    return db


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
    scheme = url.partition(":")[0].lower() if ":" in url else ""   # urlparse raises on some
    if scheme.startswith("sqlite"):
        path = sqlite_path(url)
        if path is not None:
            try:
                private_file(path)
            except OSError as exc:
                raise DatabaseError(tr("db.cannot_create", path=path, error=exc.strerror)) from None
        # IMMEDIATE: a transaction takes the write lock when it begins (waiting up to the
        # timeout), so a read-then-write never fails with "database is locked" mid-way.
        sqlite_opts = {"pragmas": {**SQLITE_PRAGMAS, "busy_timeout": int(BUSY_TIMEOUT * 1000)},
                       "timeout": BUSY_TIMEOUT, "lock_type": "IMMEDIATE"}
        if path is not None and _encrypted(path):   # SQLCipher: models.crypto asks for the key
            from .crypto import open_encrypted

            return _in_sentences(open_encrypted(path, **sqlite_opts), url, _busy_problem)
        db = _in_sentences(peewee.SqliteDatabase(str(path) if path else ":memory:", **sqlite_opts),
                           url, _busy_problem)
    elif scheme.startswith("postgres"):
        secret = _password(url)
        if secret and any(ch in secret for ch in "/#?"):   # the URL would be read wrongly
            raise DatabaseError(tr("db_url.encode_password", url=redact(url)))
        try:
            db = url_connect(url)
        except Exception as exc:  # noqa: BLE001 - driver errors vary
            raise DatabaseError(tr("db.bad_url", url=redact(url),
                                   error=scrub(str(exc), url))) from None
        db = _in_sentences(db, url, _server_problem)
    else:
        raise DatabaseError(tr("db.unknown_scheme", url=redact(url)))
    try:
        db.connect(reuse_if_open=True)
        if isinstance(db, peewee.SqliteDatabase) and path is not None:
            for suffix in ("-wal", "-shm"):
                side = Path(str(path) + suffix)
                if side.exists():
                    os.chmod(side, stat.S_IRUSR | stat.S_IWUSR)
    except DatabaseBusy:
        raise
    except peewee.DatabaseError as exc:
        if _asked_password(db, url, exc):
            return db
        if "locked" in str(exc):  # a first big import writes past the WAL and holds the file
            raise DatabaseBusy(tr("db.busy", url=redact(url))) from None
        raise DatabaseError(tr("db.cannot_open", url=redact(url),
                               error=scrub(" ".join(str(exc).split()), url))) from None
    return db


_password_prompt = None


def set_password_prompt(ask) -> None:
    """How to ask for the PostgreSQL password the server wants when libpq found none
    (~/.pgpass, PGPASSWORD): ``ask(url) -> str``; the CLI asks on the terminal."""
    global _password_prompt
    _password_prompt = ask


def _asked_password(db: peewee.Database, url: str, exc: BaseException) -> bool:
    """The server wants a password nobody gave: ask once and connect with it."""
    if (_password_prompt is None or not isinstance(db, peewee.PostgresqlDatabase)
            or "no password supplied" not in str(exc)):
        return False
    secret = _password_prompt(redact(url))
    if not secret:
        return False
    db.connect_params["password"] = secret
    try:
        db.connect(reuse_if_open=True)
    except peewee.DatabaseError as again:
        raise DatabaseError(tr("db.cannot_open", url=redact(url),
                               error=scrub(" ".join(str(again).split()), url))) from None
    return True


def _encrypted(path: Path) -> bool:
    from .crypto import is_encrypted

    return is_encrypted(path)


_USERINFO = re.compile(r"^([A-Za-z][\w+.-]*://[^:/@?#]*:)(.*)@")
_QUERY_PASSWORD = re.compile(r"(?i)(\bpassword=)[^&#]*")


def redact(url: str) -> str:
    """The URL without its password, for messages and logs: the part between
    ``user:`` and the last ``@`` before the query (a password may hold ``/ # @``,
    which ``urlparse`` reads wrongly), and any ``password=`` query parameter."""
    head, sep, query = str(url).partition("?")
    head = _USERINFO.sub(lambda m: m.group(1) + "***@", head, count=1)
    return head + sep + _QUERY_PASSWORD.sub(r"\1***", query)


def _password(url: str) -> str | None:
    match = _USERINFO.match(str(url).partition("?")[0])
    if match and match.group(2):
        return match.group(2)
    query = str(url).partition("?")[2]
    match = _QUERY_PASSWORD.search(query)
    return (match and query[match.end(1):match.end()]) or None


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's error) with the URL's password, and the URL, replaced."""
    text = text.replace(url, redact(url))
    secret = _password(url)
    if not secret:
        return text
    text = text.replace(secret, "***")
    for piece in re.split(r"[/#?@:]", secret):   # what a driver that misread the URL saw
        if len(piece) >= 3:
            text = text.replace(piece, "***")
    return text


def is_postgres(db: peewee.Database) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)
