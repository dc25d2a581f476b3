"""Encryption at rest (SQLCipher) and SQL-looking input that must stay plain text."""
from __future__ import annotations

import sqlite3
import stat

import pytest

from kehu.models import crypto
from kehu.models.db import DatabaseError
from kehu.models.results import ResultSet
from kehu.models.store import Store
from kehu.tui.cli import main

needs_sqlcipher = pytest.mark.skipif(not crypto.available(), reason="sqlcipher3 not installed")


@pytest.fixture(autouse=True)
def _no_remembered_keys(monkeypatch):
    monkeypatch.setattr(crypto, "_opened_with", {})

INJECTIONS = [
    "'; DROP TABLE customer; --",
    "Robert'); DELETE FROM customer WHERE ('1'='1",
    "\" OR 1=1 --",
    "1; UPDATE customer SET name='pwned'",
    "张三' UNION SELECT login, role FROM kehu_user --",
    "%' OR '%'='",
]


@pytest.fixture
def plain_db(tmp_path):
    path = tmp_path / "kehu.db"
    s = Store.open(f"sqlite:///{path}", user="tester")
    s.create_customer({"name": "张三", "mobile": "13812345678", "notes": "机密备注"})
    s.close()
    return path


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


@needs_sqlcipher
def test_encrypted_database_cannot_be_read_without_the_key(plain_db, monkeypatch):
    crypto.encrypt(plain_db, "s3cret")
    assert crypto.is_encrypted(plain_db)
    assert b"13812345678" not in plain_db.read_bytes()
    assert "机密备注".encode() not in plain_db.read_bytes()
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        sqlite3.connect(plain_db).execute("SELECT * FROM customer").fetchall()
    assert _mode(plain_db) == 0o600

    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    s = Store.open(f"sqlite:///{plain_db}", user="tester")
    assert s.customers().get().notes == "机密备注"
    s.create_customer({"name": "李四"})
    s.close()
    assert b"\xe6\x9d\x8e\xe5\x9b\x9b" not in plain_db.read_bytes()  # 李四, not in clear


@needs_sqlcipher
def test_a_wrong_or_missing_key_says_so(plain_db, monkeypatch):
    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "guess")
    with pytest.raises(DatabaseError, match="key .* is wrong"):
        Store.open(f"sqlite:///{plain_db}")
    monkeypatch.delenv("KEHU_DB_KEY")
    with pytest.raises(DatabaseError, match="KEHU_DB_KEY"):
        Store.open(f"sqlite:///{plain_db}")


@needs_sqlcipher
def test_decrypt_gives_back_a_plain_database(plain_db):
    crypto.encrypt(plain_db, "s3cret")
    with pytest.raises(DatabaseError, match="wrong"):
        crypto.decrypt(plain_db, "nope")
    crypto.decrypt(plain_db, "s3cret")
    rows = sqlite3.connect(plain_db).execute("SELECT name FROM customer").fetchall()
    assert rows == [("张三",)]
    assert _mode(plain_db) == 0o600


@needs_sqlcipher
def test_backup_of_an_encrypted_database_stays_encrypted(plain_db, tmp_path, monkeypatch):
    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    copy = crypto.backup(plain_db, tmp_path / "backups" / "kehu-1.db")
    assert crypto.is_encrypted(copy) and _mode(copy) == 0o600
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(copy).execute("SELECT * FROM customer").fetchall()
    s = Store.open(f"sqlite:///{copy}", user="tester")
    assert s.customers().get().name == "张三"
    s.close()


@needs_sqlcipher
def test_kehu_encrypt_and_decrypt_commands(plain_db, monkeypatch, capsys):
    url = f"sqlite:///{plain_db}"
    monkeypatch.setenv("KEHU_DB_KEY", "k3y")
    assert main(["--db", url, "encrypt"]) == 0
    assert "encrypted" in capsys.readouterr().out
    assert crypto.is_encrypted(plain_db)
    assert main(["--db", url, "encrypt"]) == 2
    assert "already encrypted" in capsys.readouterr().err
    monkeypatch.setenv("KEHU_DB_KEY", "wrong")
    assert main(["--db", url, "decrypt"]) == 2
    assert "wrong" in capsys.readouterr().err
    monkeypatch.setenv("KEHU_DB_KEY", "k3y")
    assert main(["--db", url, "decrypt"]) == 0
    assert not crypto.is_encrypted(plain_db)
    assert main(["--db", "postgresql://127.0.0.1/x", "encrypt"]) == 2
    assert "SQLite" in capsys.readouterr().err


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_in_a_value_or_the_search_box_is_just_text(store, text):
    store.create_customer({"name": "正常客户"})
    made = store.create_customer({"name": text, "notes": text})
    store.bulk_insert_customers([{"name": text + " (imported)", "notes": text}], import_batch=1)
    assert store.get_customer(made.id).name == text               # stored verbatim
    assert store.count_customers() == 3                           # nothing dropped or deleted
    for query in (text, f"name:{text!r}", f"notes:\"{text}\""):
        try:
            rows = ResultSet(store, query).page(0, 10)
        except Exception as exc:  # a query error is fine, a database error is not
            assert type(exc).__name__ == "QueryError", exc
            continue
        assert all(r["name"] != "pwned" for r in rows)
    assert store.count_customers() == 3
    assert {r["name"] for r in ResultSet(store, "").page(0, 10)} >= {"正常客户", text}


@needs_sqlcipher
def test_kehu_backup_of_an_encrypted_database_is_encrypted(plain_db, tmp_path, monkeypatch):
    from kehu.models import backup

    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    result = backup.backup(f"sqlite:///{plain_db}", tmp_path)
    assert crypto.is_encrypted(result.path) and _mode(result.path) == 0o600
    assert "机密备注".encode() not in result.path.read_bytes()


@needs_sqlcipher
def test_an_encrypted_backup_is_checked_and_restored_with_its_key(plain_db, tmp_path, monkeypatch):
    from kehu.models import backup as backups

    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    url = f"sqlite:///{plain_db}"
    (tmp_path / "backups").mkdir()
    made = backups.backup(url, tmp_path / "backups").path
    assert crypto.is_encrypted(made) and made.parent.name == "backups"
    assert backups.check_backup(made)["customer"] == 1
    s = Store.open(url, user="tester")
    s.create_customer({"name": "备份之后"})
    s.close()
    result = backups.restore(url, made, user="ana")
    assert crypto.is_encrypted(plain_db) and crypto.is_encrypted(result.aside)
    s = Store.open(url, user="tester")
    assert [c.name for c in s.customers()] == ["张三"]  # the one added after the backup is gone
    assert any(e.action == "restore_backup" and e.user == "ana" for e in s.audit.entries())
    s.close()
    monkeypatch.setenv("KEHU_DB_KEY", "wrong")
    with pytest.raises(backups.BackupError, match=r"or an encrypted one.*the key for .*kehu-.*\.db is wrong"):
        backups.check_backup(made)


@needs_sqlcipher
def test_restore_refuses_to_mix_encrypted_and_plain(plain_db, tmp_path, monkeypatch):
    from kehu.models import backup as backups

    url = f"sqlite:///{plain_db}"
    plain_copy = backups.backup(url, tmp_path / "plain").path
    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    before = plain_db.read_bytes()
    with pytest.raises(backups.BackupError, match="is not encrypted but the database .* is encrypted"):
        backups.restore(url, plain_copy)
    assert plain_db.read_bytes() == before  # nothing touched, still encrypted


@needs_sqlcipher
def test_a_restore_asks_for_each_files_key_once(plain_db, tmp_path, monkeypatch):
    from kehu.models import backup as backups

    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.delenv("KEHU_DB_KEY", raising=False)
    asked = []
    crypto.set_key_prompt(lambda path: asked.append(path.name) or "s3cret")
    try:
        (tmp_path / "backups").mkdir()
        made = backups.backup(f"sqlite:///{plain_db}", tmp_path / "backups").path
        assert asked == ["kehu.db"]
        asked.clear()
        monkeypatch.setattr(crypto, "_opened_with", {})  # a new process: nothing known
        backups.restore(f"sqlite:///{plain_db}", made, user="ana")
        assert sorted(asked) == sorted([made.name, "kehu.db"])
    finally:
        crypto.set_key_prompt(None)


@needs_sqlcipher
def test_a_wrong_key_prints_kehus_sentence_only(plain_db):
    """SQLCipher's own log (``ERROR CORE sqlcipher_codec_ctx_set_error`` …) stays quiet."""
    import os
    import subprocess
    import sys

    crypto.encrypt(plain_db, "s3cret")
    env = dict(os.environ, KEHU_DB_KEY="wrong")
    for args in (["query", "name:张"], ["backup"], ["decrypt"]):
        done = subprocess.run([sys.executable, "-m", "kehu", "--db", f"sqlite:///{plain_db}", *args],
                              env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        assert done.returncode == 2, done.stderr
        assert done.stderr == f"kehu: the key for {plain_db} is wrong (or the file is not a kehu database)\n"


@needs_sqlcipher
def test_automatic_backups_of_an_encrypted_database(plain_db, monkeypatch):
    from kehu.models import backup as backups

    crypto.encrypt(plain_db, "s3cret")
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    url = f"sqlite:///{plain_db}"
    first = backups.backup(url).path
    second = backups.backup(url, keep=1).path
    assert backups.list_backups(url) == [second] and not first.exists()
    assert crypto.is_encrypted(second) and _mode(second) == 0o600
