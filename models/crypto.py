"""Encryption at rest: an optional SQLCipher database file.

An encrypted kehu database is an ordinary ``sqlite:///`` URL whose file is
SQLCipher (AES-256) instead of plain SQLite; ``models.db.connect`` notices (the
file does not start with the SQLite header) and opens it here. The key comes
from the environment variable ``KEHU_DB_KEY`` or, in a terminal, from a prompt
(the CLI installs one with ``set_key_prompt``). A wrong key gives one clear
sentence, never a traceback.

``encrypt(path, key)`` / ``decrypt(path, key)`` convert a database in place
(through a 0600 temporary file beside it, then an atomic rename), so no
plaintext copy is left behind by ``encrypt``. A backup of an encrypted
database is a copy of its (encrypted) file: ``backup(path, dest)``.

Needs the ``sqlcipher3`` package (wheel: ``sqlcipher3-binary``).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

import peewee

from .db import DatabaseError
from .i18n import tr

KEY_ENV = "KEHU_DB_KEY"
SQLITE_HEADER = b"SQLite format 3\x00"
_prompt: Callable[[Path], str] | None = None


class CryptoError(DatabaseError):
    """Encryption cannot proceed; ``str()`` is the one sentence to show."""


def available() -> bool:
    try:
        import sqlcipher3  # noqa: F401
    except ImportError:
        return False
    return True


def set_key_prompt(prompt: Callable[[Path], str] | None) -> None:
    """How to ask for a key when ``KEHU_DB_KEY`` is not set (the CLI asks on the terminal)."""
    global _prompt
    _prompt = prompt


def is_encrypted(path: Path) -> bool:
    """A non-empty file that is not plain SQLite (SQLCipher files look like noise)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError:
        return False
    return bool(head) and head != SQLITE_HEADER


#: Keys that opened a file in this process: a restore opens the backup and the
#: database several times and asks for each file's key once.
_opened_with: dict[Path, str] = {}


def key_for(path: Path) -> str:
    key = os.environ.get(KEY_ENV) or _opened_with.get(Path(path).resolve())
    if not key and _prompt is not None:
        key = _prompt(path)
    if not key:
        raise CryptoError(tr("crypto.no_key", path=path))
    return key


_quiet = False


def _silence() -> None:
    """SQLCipher's own log off (it is process-wide): a wrong key would print
    ``ERROR CORE sqlcipher_codec_ctx_set_error`` and more on stderr before kehu's
    own sentence. kehu says what went wrong itself."""
    global _quiet
    if _quiet:
        return
    from sqlcipher3 import dbapi2

    conn = dbapi2.connect(":memory:")
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
    except dbapi2.Error:  # pragma: no cover - a SQLCipher older than 4.5 has no such log
        pass
    finally:
        conn.close()
    _quiet = True


def _database(path: Path, key: str, **kwargs) -> peewee.Database:
    if not available():
        raise CryptoError(tr("crypto.no_sqlcipher"))
    _silence()
    from playhouse.sqlcipher_ext import SqlCipherDatabase

    return SqlCipherDatabase(str(path), passphrase=key, **kwargs)


def open_encrypted(path: Path, key: str | None = None, **kwargs) -> peewee.Database:
    """The open SQLCipher database at ``path``; ``CryptoError`` for a wrong key."""
    key = key or key_for(path)
    db = _database(path, key, **kwargs)
    try:
        db.connect(reuse_if_open=True)
        db.execute_sql("SELECT count(*) FROM sqlite_master").fetchone()
    except peewee.DatabaseError:
        if not db.is_closed():
            db.close()
        raise CryptoError(tr("crypto.wrong_key", path=path)) from None
    _opened_with[Path(path).resolve()] = key
    return db


def private(path: Path) -> None:
    if path.exists():
        os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)


def _sidecars(path: Path) -> list[Path]:
    return [Path(str(path) + s) for s in ("-wal", "-shm", "-journal")]


def _convert(path: Path, source_key: str, target_key: str) -> None:
    """Copy the database at ``path`` (opened with ``source_key``; '' = plain) into a
    new file keyed with ``target_key`` and put it in place of the old one."""
    if not path.exists():
        raise CryptoError(tr("crypto.missing", path=path))
    if not available():
        raise CryptoError(tr("crypto.no_sqlcipher"))
    from sqlcipher3 import dbapi2 as sqlcipher

    _silence()
    tmp = path.with_name(path.name + ".kehu-convert")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_CREAT | os.O_RDWR | os.O_EXCL, 0o600)
    os.close(fd)
    tmp.unlink()  # SQLCipher creates it again; the umask-proof 0600 is set below
    conn = sqlcipher.connect(str(path), isolation_level=None)
    try:
        if source_key:
            conn.execute(f"PRAGMA key = {_quote(source_key)}")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlcipher.DatabaseError:
            raise CryptoError(tr("crypto.wrong_key", path=path)) from None
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute(f"ATTACH DATABASE {_quote(str(tmp))} AS converted KEY {_quote(target_key)}")
        conn.execute("SELECT sqlcipher_export('converted')")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA converted.user_version = {int(version)}")
        conn.execute("DETACH DATABASE converted")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        conn.close()
    private(tmp)
    for side in _sidecars(path):
        side.unlink(missing_ok=True)
    os.replace(tmp, path)
    private(path)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def encrypt(path: Path, key: str) -> None:
    if not key:
        raise CryptoError(tr("crypto.empty_key"))
    if is_encrypted(path):
        raise CryptoError(tr("crypto.already_encrypted", path=path))
    _convert(path, "", key)


def decrypt(path: Path, key: str) -> None:
    if not is_encrypted(path):
        raise CryptoError(tr("crypto.not_encrypted", path=path))
    _convert(path, key, "")


def db_errors() -> tuple[type[Exception], ...]:
    """The DB-API errors of the drivers ``connect`` may return."""
    import sqlite3

    if not available():
        return (sqlite3.Error,)
    from sqlcipher3 import dbapi2

    return (sqlite3.Error, dbapi2.Error)


def connect(path: Path, *, readonly: bool = False, key: str | None = None):
    """A DB-API connection to the database file ``path``: plain SQLite, or SQLCipher
    opened with its key (``key``, else ``key_for``); ``CryptoError`` for a wrong
    key. With ``key`` a new or empty file is made an encrypted database."""
    if key is None and not is_encrypted(path):
        import sqlite3

        if readonly:
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        return sqlite3.connect(path, timeout=10)
    if not available():
        raise CryptoError(tr("crypto.no_sqlcipher"))
    from sqlcipher3 import dbapi2

    _silence()
    key = key or key_for(path)
    conn = dbapi2.connect(str(path), timeout=10)
    conn.execute(f"PRAGMA key = {_quote(key)}")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except dbapi2.DatabaseError:
        conn.close()
        raise CryptoError(tr("crypto.wrong_key", path=path)) from None
    _opened_with[Path(path).resolve()] = key
    if readonly:
        conn.execute("PRAGMA query_only = 1")
    return conn


def backup(path: Path, dest: Path) -> Path:
    """A consistent copy of the database file at ``dest`` (0600). An encrypted
    database stays encrypted: the copy is of the encrypted pages, same key."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(dest, os.O_CREAT | os.O_RDWR, 0o600)   # private before a byte is written
    os.close(fd)
    private(dest)
    src = connect(path)
    key = key_for(path) if is_encrypted(path) else None  # remembered by connect: no prompt
    try:
        out = connect(dest, key=key)
    except BaseException:
        src.close()
        raise
    try:
        src.backup(out)
    finally:
        out.close()
        src.close()
    return dest
