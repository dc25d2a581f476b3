"""Backups while kehu is open, rotation, and restore with checks first."""
import datetime as dt
import os

import pytest

from kehu.models.backup import (BackupError, backup, backup_dir, check_backup,
                                database_backup_dir, list_backups, pg_dump_hint, restore)
from kehu.models.store import Store


def dump(store):
    """Every row of every kehu table, every column, as plain tuples."""
    out = {}
    for name, model in store.models.items():
        if store.db.table_exists(model._meta.table_name):
            out[name] = sorted(tuple(str(v) for v in row)
                               for row in model.select().order_by(model._meta.primary_key).tuples()
                               if name != "Meta" or row[0] != "database_id")  # set by a backup
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
    assert made.path.parent == database_backup_dir(sqlite_url) and made.path.name.startswith("kehu-")
    assert made.path.parent.parent == backup_dir()
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
    folder = backup(sqlite_url).path.parent   # the database's own backup folder
    for old in folder.iterdir():
        old.unlink()
    for day in range(1, 6):  # five older automatic backups
        (folder / f"kehu-2024010{day}-120000.db").write_bytes(b"")
    other = folder / "my-own-copy.db"
    other.write_bytes(b"")
    result = backup(sqlite_url, keep=3)
    names = [p.name for p in list_backups(sqlite_url)]
    assert len(names) == 3 and names[0] == result.path.name
    assert names[1:] == ["kehu-20240105-120000.db", "kehu-20240104-120000.db"]
    assert len(result.removed) == 3
    assert other.exists()  # only kehu's own backups rotate
    explicit = backup(sqlite_url, tmp_path / "copy.db")
    assert explicit.path == tmp_path / "copy.db" and explicit.removed == []
    store.close()


def test_two_backups_in_one_second_rotate_oldest_first(sqlite_url):
    store = Store.open(sqlite_url)
    fill(store)
    store.close()
    folder = backup(sqlite_url).path.parent
    for old in folder.iterdir():
        old.unlink()
    (folder / "kehu-20240101-120000.db").write_bytes(b"")
    (folder / "kehu-20240101-120000-2.db").write_bytes(b"")   # the same second, made after
    (folder / "kehu-20240101-120000-10.db").write_bytes(b"")
    backup(sqlite_url, keep=3)
    assert [p.name for p in list_backups(sqlite_url)][1:] == [
        "kehu-20240101-120000-10.db", "kehu-20240101-120000-2.db"]


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
    made = list_backups(sqlite_url)[0]
    assert str(made) in capsys.readouterr().out
    assert main(["--db", sqlite_url, "restore", str(made)]) == 2  # no terminal: needs --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["--db", sqlite_url, "restore", str(made), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "2 customers, 1 contact, 2 timeline entries" in out and "kept at" in out
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


# --- each database its own backups (issue 14, point 5) ---------------------------------

def two_databases(tmp_path):
    urls = []
    for name, who in (("br.db", "Ada"), ("small.db", "Bo")):
        url = f"sqlite:///{tmp_path / name}"
        store = Store.open(url)
        store.create_customer({"name": who})
        store.close()
        urls.append(url)
    return urls


def test_each_database_keeps_lists_and_rotates_only_its_own_backups(tmp_path, capsys):
    from kehu.tui.cli import main

    br, small = two_databases(tmp_path)
    assert main(["--db", br, "backup"]) == 0
    assert main(["--db", small, "backup"]) == 0
    capsys.readouterr()
    only_br = list_backups(br)
    assert main(["--db", small, "backup", "--keep", "1"]) == 0
    assert "removed" in capsys.readouterr().out        # small's first backup went
    assert len(only_br) == 1 and only_br[0].exists()   # br's only backup did not
    assert main(["--db", br, "backup", "--list"]) == 0
    listed = capsys.readouterr().out
    assert str(only_br[0]) in listed and str(list_backups(small)[0]) not in listed
    assert main(["--db", small, "backup", "--list"]) == 0
    listed = capsys.readouterr().out
    assert str(only_br[0]) not in listed and str(list_backups(small)[0]) in listed
    assert len(list_backups(small)) == 1


def test_a_moved_database_keeps_its_backups_and_a_copy_gets_its_own(tmp_path):
    import shutil

    br, _ = two_databases(tmp_path)
    first = backup(br).path
    moved = tmp_path / "renamed.db"
    os.replace(tmp_path / "br.db", moved)
    assert list_backups(f"sqlite:///{moved}") == [first]
    second = backup(f"sqlite:///{moved}").path     # in the same folder: the database moved
    assert list_backups(f"sqlite:///{moved}") == [second, first]
    shutil.copyfile(moved, tmp_path / "copy.db")   # a copy: same id inside, other file
    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    made = backup(copy_url, keep=1).path
    assert list_backups(copy_url) == [made] and first.exists() and second.exists()
    assert list_backups(f"sqlite:///{moved}") == [second, first]


def test_backups_from_before_per_database_folders_stay_with_their_database(tmp_path):
    import sqlite3

    br, small = two_databases(tmp_path)
    root = backup_dir()
    root.mkdir(parents=True)
    for url, name in ((br, "kehu-20240101-120000.db"), (small, "kehu-20240102-120000.db")):
        src = sqlite3.connect(url[len("sqlite:///"):])
        dst = sqlite3.connect(root / name)
        src.backup(dst)
        src.close()
        dst.close()
    (root / "kehu-20240103-120000.db").write_bytes(b"not a database")
    assert list_backups(br) == [root / "kehu-20240101-120000.db"]
    result = backup(br, keep=1)     # takes its old backup in, rotates it; touches no other
    assert result.removed == [result.path.parent / "kehu-20240101-120000.db"]
    assert (root / "kehu-20240102-120000.db").exists()
    assert (root / "kehu-20240103-120000.db").exists()
    assert list_backups(small) == [root / "kehu-20240102-120000.db"]
    restore(small, root / "kehu-20240102-120000.db")   # still restorable


# --- a killed backup, a killed restore (point 6) -------------------------------------------

KILL_DURING_BACKUP = """
import os, signal, sqlite3, sys, types
from kehu.models import backup as b

real = sqlite3.connect

class Slow:
    def __init__(self, conn):
        self.conn = conn
    def __getattr__(self, name):
        return getattr(self.conn, name)
    def backup(self, dst):
        def step(status, remaining, total):
            if total - remaining >= 3:
                os.kill(os.getpid(), signal.SIGKILL)   # kill -9 half-way through the copy
        self.conn.backup(dst.conn, pages=1, progress=step)

b.sqlite3 = types.SimpleNamespace(connect=lambda *a, **k: Slow(real(*a, **k)),
                                  Error=sqlite3.Error)
b.backup(sys.argv[1])
"""


def test_a_backup_killed_half_way_leaves_private_partials_the_next_backup_deletes(sqlite_url):
    import subprocess
    import sys

    store = Store.open(sqlite_url)
    for i in range(300):
        store.create_customer({"name": f"客户{i}", "notes": "x" * 500})
    store.close()
    done = subprocess.run([sys.executable, "-c", KILL_DURING_BACKUP, sqlite_url])
    assert done.returncode == -9
    folder = database_backup_dir(sqlite_url)
    left = sorted(folder.glob("*.partial*"))
    assert [p.name.split(".db", 1)[1] for p in left] == [".partial", ".partial-journal"]
    assert {oct(p.stat().st_mode & 0o777) for p in left} == {"0o600"}
    assert list_backups(sqlite_url) == []          # a partial copy is no backup
    result = backup(sqlite_url)
    assert sorted(result.cleaned) == left and not list(folder.glob("*.partial*"))
    assert list_backups(sqlite_url) == [result.path]


def test_a_restore_killed_between_copy_and_audit_leaves_the_old_database(sqlite_url, monkeypatch):
    from kehu.models.audit import AuditLog

    store = Store.open(sqlite_url, user="tester")
    fill(store)
    made = backup(sqlite_url)
    store.create_customer({"name": "after the backup"})
    before = dump(store)
    store.close()
    real = AuditLog.record

    def killed(self, action, *args, **kwargs):
        if action == "restore_backup":
            raise KeyboardInterrupt("killed")   # the process dies at the audit write
        return real(self, action, *args, **kwargs)

    monkeypatch.setattr(AuditLog, "record", killed)
    with pytest.raises(KeyboardInterrupt):
        restore(sqlite_url, made.path)
    monkeypatch.setattr(AuditLog, "record", real)
    store = Store.open(sqlite_url, user="tester")
    # not restored without its audit entry: the database is the one before
    assert dump(store) == before
    assert not [c for c in store.audit.entries() if c.action == "restore_backup"]
    store.close()
    parent = made.path.parent
    assert not list(parent.glob("*.partial*"))
    restore(sqlite_url, made.path)        # a restore after it cleans up and works
    store = Store.open(sqlite_url, user="tester")
    assert store.count_customers() == 2
    assert [c.action for c in store.audit.entries()].count("restore_backup") == 1
    store.close()
    db = sqlite_url[len("sqlite:///"):]
    assert not [p for p in os.listdir(os.path.dirname(db)) if ".restoring" in p or ".partial" in p]


def test_a_restore_that_fails_at_the_last_copy_leaves_the_old_database(sqlite_url, monkeypatch):
    from kehu.models import backup as backups

    store = Store.open(sqlite_url, user="tester")
    fill(store)
    made = backup(sqlite_url)
    store.create_customer({"name": "after the backup"})
    before = dump(store)
    store.close()
    real, calls = backups._transfer, []

    def transfer(source, target, key):
        calls.append(target)
        if len(calls) == 2:   # the prepared copy, audit entry in it, is ready: die now
            raise KeyboardInterrupt("killed")
        return real(source, target, key)

    monkeypatch.setattr(backups, "_transfer", transfer)
    with pytest.raises(KeyboardInterrupt):
        restore(sqlite_url, made.path)
    store = Store.open(sqlite_url, user="tester")
    assert dump(store) == before
    store.close()


def test_a_postgres_database_lists_no_sqlite_backups(store, capsys):
    """`backup --list` on a PostgreSQL URL says how its backups are made (pg_dump, a file
    named after that database), never lists the SQLite databases' backups."""
    from urllib.parse import urlparse

    from kehu.tui.cli import main

    if not store.is_postgres:
        pytest.skip("PostgreSQL only")
    store.close()
    name = urlparse(store.url).path.strip("/")
    assert main(["--db", store.url, "backup", "--list"]) == 1
    out = capsys.readouterr().out
    assert "pg_dump" in out and f"kehu-{name}-" in out and "backups/" not in out


def test_a_backup_waits_for_another_of_the_same_database_and_keeps_its_partial(sqlite_url):
    import threading
    from pathlib import Path

    from kehu.models import backup as backups

    store = Store.open(sqlite_url)
    fill(store)
    store.close()
    folder = backup(sqlite_url).path.parent
    partial = folder / "kehu-20990101-000000.db.partial"   # another backup's copy, being written
    source = Path(sqlite_url[len("sqlite:///"):])
    done = []
    with backups._lock(source):                        # … by a backup still running
        partial.write_bytes(b"x")
        worker = threading.Thread(target=lambda: done.append(backup(sqlite_url)))
        worker.start()
        worker.join(0.5)
        assert worker.is_alive() and partial.exists()  # it waits, and deletes nothing
    worker.join(10)
    assert done and not partial.exists() and partial in done[0].cleaned
