"""Backups while kehu is open, rotation, and restore with checks first."""
import datetime as dt
import os

import pytest

from kehu.models.backup import (BackupError, backup, backup_dir, check_backup, list_backups,
                                pg_dump_hint, restore)
from kehu.models.store import Store


def dump(store):
    """Every row of every kehu table, every column, as plain tuples."""
    out = {}
    for name, model in store.models.items():
        if store.db.table_exists(model._meta.table_name):
            out[name] = sorted(tuple(str(v) for v in row)
                               for row in model.select().order_by(model._meta.primary_key).tuples())
    return out


def fill(store):
    a = store.create_customer({"name": "张三", "mobile": "13800138000", "company": "星辰科技",
                               "registered_capital": "1.5万", "acquired_on": "2023-03-05",
                               "tags": "vip,老客户", "marketing_opt_in": "是"})
    store.create_customer({"name": "Ada", "email": "ada@example.com", "satisfaction": "9.5"})
    store.add_contact(a.id, name="李总", role="decision_maker", stance="supporter")
    store.add_interaction(a.id, "purchase", amount="1200.50", summary="首单")
    store.add_interaction(a.id, "call", summary="回访", occurred_at=dt.datetime(2024, 1, 2, 9, 30))
    return a


def test_backup_then_restore_keeps_every_row_and_field(sqlite_url, tmp_path):
    store = Store.open(sqlite_url, user="tester")
    first = fill(store)
    before = dump(store)
    made = backup(sqlite_url)  # while the store is open
    assert made.path.parent == backup_dir() and made.path.name.startswith("kehu-")
    assert oct(made.path.stat().st_mode & 0o777) == "0o600"
    store.update_customer(first.id, {"company": "changed"})
    store.create_customer({"name": "after the backup"})
    store.close()
    result = restore(sqlite_url, made.path)
    assert result.counts["customer"] == 2
    assert result.aside.exists()
    store = Store.open(sqlite_url, user="tester")
    assert dump(store) == before
    store.close()
    aside = Store.open(f"sqlite:///{result.aside}", user="tester")  # nothing lost either
    assert aside.count_customers() == 3
    aside.close()


def test_rotation_keeps_the_newest(sqlite_url, tmp_path):
    store = Store.open(sqlite_url)
    fill(store)
    folder = backup_dir()
    folder.mkdir(parents=True)
    for day in range(1, 6):  # five older automatic backups
        (folder / f"kehu-2024010{day}-120000.db").write_bytes(b"")
    other = folder / "my-own-copy.db"
    other.write_bytes(b"")
    result = backup(sqlite_url, keep=3)
    names = [p.name for p in list_backups()]
    assert len(names) == 3 and names[0] == result.path.name
    assert names[1:] == ["kehu-20240105-120000.db", "kehu-20240104-120000.db"]
    assert len(result.removed) == 3
    assert other.exists()  # only kehu's own backups rotate
    explicit = backup(sqlite_url, tmp_path / "copy.db")
    assert explicit.path == tmp_path / "copy.db" and explicit.removed == []
    store.close()


def test_restore_refuses_a_bad_file_and_touches_nothing(sqlite_url, tmp_path):
    store = Store.open(sqlite_url)
    fill(store)
    store.close()
    size = os.path.getsize(sqlite_url[len("sqlite:///"):])
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(BackupError, match="not a SQLite database"):
        restore(sqlite_url, junk)
    import sqlite3

    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(BackupError, match="not a kehu database"):
        restore(sqlite_url, other)
    with pytest.raises(BackupError, match="no such file"):
        check_backup(tmp_path / "missing.db")
    assert os.path.getsize(sqlite_url[len("sqlite:///"):]) == size
    assert not list(tmp_path.glob("*.before-restore-*"))


def test_postgres_is_backed_up_with_pg_dump(store):
    if not store.is_postgres:
        pytest.skip("PostgreSQL only")
    with pytest.raises(BackupError) as err:
        backup(store.url)
    assert "pg_dump --format=custom" in str(err.value)
    assert "pg_restore" in pg_dump_hint(store.url)


def test_backup_and_restore_commands(sqlite_url, tmp_path, capsys):
    from kehu.tui.cli import main

    store = Store.open(sqlite_url)
    fill(store)
    store.close()
    assert main(["--db", sqlite_url, "backup"]) == 0
    made = list_backups()[0]
    assert str(made) in capsys.readouterr().out
    assert main(["--db", sqlite_url, "restore", str(made)]) == 2  # no terminal: needs --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["--db", sqlite_url, "restore", str(made), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "2 customers, 1 contacts, 2 timeline entries" in out and "kept at" in out
    # the restored database's audit trail says who restored which backup
    assert main(["--db", sqlite_url, "--user", "ana", "restore", str(made), "--yes"]) == 0
    capsys.readouterr()
    assert main(["--db", sqlite_url, "audit"]) == 0
    trail = capsys.readouterr().out
    assert "ana" in trail and "restored a backup" in trail and str(made.resolve()) in trail
    junk = tmp_path / "junk.db"
    junk.write_text("junk")
    assert main(["--db", sqlite_url, "restore", str(junk), "--yes"]) == 2
    assert "not a SQLite database" in capsys.readouterr().err
