"""The embedded SQLite default: private file, WAL, foreign keys, busy timeout."""
import os
import stat

import pytest

from kehu.models.db import DatabaseError, connect, sqlite_path
from kehu.models.store import Store


def test_new_sqlite_file_is_private_wal_with_foreign_keys(tmp_path):
    path = tmp_path / "sub" / "kehu.db"
    store = Store.open(f"sqlite:///{path}")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    db = store.db
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute_sql("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute_sql("PRAGMA busy_timeout").fetchone()[0] >= 5000
    store.create_customer({"name": "x"})
    for suffix in ("-wal", "-shm"):
        side = tmp_path / "sub" / f"kehu.db{suffix}"
        if side.exists():
            assert stat.S_IMODE(os.stat(side).st_mode) == 0o600
    store.close()


@pytest.mark.parametrize("url, path", [
    ("sqlite:///rel/k.db", "rel/k.db"), ("sqlite:////abs/k.db", "/abs/k.db"),
    ("sqlite:///:memory:", None), ("postgresql://u@h/db", None),
])
def test_sqlite_path_from_url(url, path):
    assert (str(sqlite_path(url)) if sqlite_path(url) else None) == path


def test_bad_urls_say_what_to_use(tmp_path):
    with pytest.raises(DatabaseError, match="use sqlite:///file.db or postgresql://"):
        connect("mysql2://nope")
    with pytest.raises(DatabaseError, match="cannot open the database"):
        connect("postgresql://nobody@127.0.0.1:1/none")


def test_a_file_held_by_a_big_import_says_it_is_busy(tmp_path):
    import sqlite3

    path = tmp_path / "kehu.db"
    Store.open(f"sqlite:///{path}").close()
    loader = sqlite3.connect(path, isolation_level=None)  # what a first big import does
    loader.execute("PRAGMA journal_mode = delete")
    loader.execute("BEGIN IMMEDIATE")
    loader.execute("INSERT INTO kehu_meta(key, value) VALUES ('loading', '1')")
    with pytest.raises(DatabaseError, match="is busy: another program is writing to it"):
        connect(f"sqlite:///{path}")
    loader.execute("COMMIT")
    loader.execute("PRAGMA journal_mode = wal")
    loader.close()
    assert connect(f"sqlite:///{path}").execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
