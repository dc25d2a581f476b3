"""What opening a database says when it cannot: one sentence (a KehuError), never
a password, never a traceback; and how a SQLite file keeps what was saved."""
from __future__ import annotations

import sqlite3

import pytest

from kehu.models import db as kdb
from kehu.models.db import DatabaseBusy, DatabaseError, connect, redact
from kehu.models.errors import KehuError
from kehu.models.store import Store

SECRET = "s3cr/et@#x"


@pytest.mark.parametrize("url", [
    f"postgresql://bob:{SECRET}@127.0.0.1:notaport/db",      # the driver refuses the URL
    f"postgresql://bob:{SECRET}@[bad/db",                      # urlparse itself refuses it
    f"mysql://bob:{SECRET}@db.example/crm",                    # not a kind kehu knows
    "postgresql://bob:s3cret@127.0.0.1:1/db",                  # nothing listens there
    "postgresql://127.0.0.1:1/db?user=bob&password=s3cret",
])
def test_no_error_shows_the_password(url):
    with pytest.raises(DatabaseError) as caught:
        connect(url)
    text = str(caught.value)
    assert isinstance(caught.value, KehuError)
    assert "s3cr" not in text and "***" in text
    assert "\n" not in text                                    # one sentence, one line


def test_redact_hides_passwords_urlparse_reads_wrongly():
    assert redact(f"postgresql://bob:{SECRET}@h:5432/crm") == "postgresql://bob:***@h:5432/crm"
    assert redact("postgresql://h/crm?password=pw&sslmode=require") == \
        "postgresql://h/crm?password=***&sslmode=require"
    assert redact("postgresql://bob@h/crm") == "postgresql://bob@h/crm"
    assert redact("sqlite:////home/a/kehu.db") == "sqlite:////home/a/kehu.db"


def test_a_file_locked_at_open_is_busy_as_one_sentence(tmp_path, monkeypatch):
    path = tmp_path / "kehu.db"
    Store.open(f"sqlite:///{path}").close()
    monkeypatch.setattr(kdb, "BUSY_TIMEOUT", 0.1)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = delete")   # as a first big import does
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseBusy, match="is busy: another program is writing to it"):
            connect(f"sqlite:///{path}")
    finally:
        holder.execute("ROLLBACK")
        holder.execute("PRAGMA journal_mode = wal")
        holder.close()


def test_saves_are_synced_to_disk_before_they_are_shown_as_saved(tmp_path):
    db = connect(f"sqlite:///{tmp_path / 'k.db'}")
    assert db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2   # FULL
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()


@pytest.mark.postgres
def test_a_lost_server_connection_is_one_sentence(worker_id):
    from conftest import pg_url_or_skip

    url = pg_url_or_skip(worker_id)
    store = Store.open(url, user="tester")
    customer = store.create_customer({"name": "张三"})
    pid = store.db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    killer = connect(url)
    killer.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
    killer.close()
    with pytest.raises(kdb.DatabaseLost) as caught:
        store.update_customer(customer.id, {"notes": "x"})
    assert str(caught.value).startswith(f"the connection to the database {url} was lost (")
    assert "\n" not in str(caught.value)


@pytest.mark.postgres
def test_a_deadlock_is_one_sentence_and_the_other_side_saves(worker_id):
    import threading

    from conftest import pg_url_or_skip

    url = pg_url_or_skip(worker_id)
    store = Store.open(url, user="tester")
    a, b = (store.create_customer({"name": n}).id for n in ("甲", "乙"))
    one, two = connect(url), connect(url)
    both = threading.Barrier(2)
    outcome: list = []

    def lock(db, first, second):       # two writers taking the same rows in opposite order
        try:
            with db.atomic():
                db.execute_sql("SELECT id FROM customer WHERE id = %s FOR UPDATE", (first,))
                both.wait(5)
                db.execute_sql("SELECT id FROM customer WHERE id = %s FOR UPDATE", (second,))
            outcome.append("saved")
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome.append(exc)

    threads = [threading.Thread(target=lock, args=(one, a, b)),
               threading.Thread(target=lock, args=(two, b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    errors = [x for x in outcome if x != "saved"]
    assert outcome.count("saved") == 1 and len(errors) == 1
    assert isinstance(errors[0], KehuError)
    assert str(errors[0]) == ("two people changed the same records at the same moment and this "
                              "change had to give way; nothing of it was saved, try it again")
