"""The audit trail is a hash chain: an edited, deleted or reordered entry is named by
`kehu audit verify`, on SQLite and PostgreSQL; concurrent writers do not fork it."""
from __future__ import annotations

import threading

import peewee

from kehu.models.audit import chain_hash
from kehu.models.store import Store
from kehu.tui.cli import main


def _tamper(store, sql: str, params: tuple = ()) -> None:
    """What someone with the database file or the owner's login does: triggers off, SQL."""
    db = store.db
    with db.atomic():
        if store.is_postgres:
            db.execute_sql("ALTER TABLE kehu_audit DISABLE TRIGGER kehu_audit_read_only")
        else:
            db.execute_sql("DROP TRIGGER IF EXISTS kehu_audit_no_update")
            db.execute_sql("DROP TRIGGER IF EXISTS kehu_audit_no_delete")
        db.execute_sql(sql.replace("?", db.param), params)
        if store.is_postgres:
            db.execute_sql("ALTER TABLE kehu_audit ENABLE TRIGGER kehu_audit_read_only")


def _trail(store, n: int = 4) -> list[int]:
    c = store.create_customer({"name": "张三", "city": "北京"})
    for city in ["上海", "广州", "深圳", "杭州"][:n - 1]:
        store.update_customer(c.id, {"city": city})
    E = store.audit.Entry
    return [r.id for r in E.select(E.id).order_by(E.id)]


def _verify(url, capsys, *extra) -> tuple[int, str]:
    code = main(["--db", url, "--user", "tester", "audit", "verify", *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_an_untouched_trail_verifies_and_shows_its_head(store, db_url, capsys):
    ids = _trail(store)
    report = store.audit.verify()
    E = store.audit.Entry
    head = E.get(E.id == ids[-1]).hash
    assert report.ok and report.entries == len(ids) and report.head == head
    code, out = _verify(db_url, capsys)
    assert code == 0 and out.startswith("ok:") and head in out
    # each entry links to the one before it
    rows = list(E.select().order_by(E.id))
    assert rows[0].prev_hash == "" and all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))


def test_an_edited_entry_is_named(store, db_url, capsys):
    ids = _trail(store)
    _tamper(store, "UPDATE kehu_audit SET login = 'mallory' WHERE id = ?", (ids[2],))
    report = store.audit.verify()
    assert (report.ok, report.problem, report.entry) == (False, "edited", ids[2])
    code, out = _verify(db_url, capsys)
    assert code == 1 and f"#{ids[2]} was edited" in out


def test_a_deleted_entry_is_named(store, db_url, capsys):
    ids = _trail(store)
    _tamper(store, "DELETE FROM kehu_audit WHERE id = ?", (ids[1],))
    report = store.audit.verify()
    assert (report.problem, report.entry, report.previous) == ("deleted", ids[2], ids[0])
    code, out = _verify(db_url, capsys)
    assert code == 1 and f"before entry #{ids[2]}" in out and f"after #{ids[0]} was deleted" in out


def test_two_swapped_entries_are_named(store, db_url, capsys):
    ids = _trail(store)
    a, b = ids[1], ids[2]
    cols = "at, login, action, table_name, record_id, customer_id, batch, changes, note, " \
           "reverts, prev_hash, hash"
    swap = ", ".join(f"{c} = (SELECT {c} FROM kehu_audit_copy WHERE kehu_audit_copy.id = "
                     f"CASE WHEN kehu_audit.id = {a} THEN {b} ELSE {a} END)"
                     for c in cols.split(", "))
    store.db.execute_sql(f"CREATE TABLE kehu_audit_copy AS SELECT id, {cols} FROM kehu_audit")
    _tamper(store, f"UPDATE kehu_audit SET {swap} WHERE id IN ({a}, {b})")
    report = store.audit.verify()
    assert (report.problem, report.entry) == ("moved", a)
    code, out = _verify(db_url, capsys)
    assert code == 1 and f"#{a} is out of place" in out


def test_a_rewritten_tail_is_caught_by_the_noted_head(store, db_url, capsys):
    ids = _trail(store)
    noted = store.audit.verify().head
    # rewrite the last entry and recompute its hash: the chain alone is consistent again
    E = store.audit.Entry
    last = E.get(E.id == ids[-1])
    from kehu.models.audit import _row_canonical
    last.login = "mallory"
    forged = chain_hash(last.prev_hash, _row_canonical(last))
    _tamper(store, "UPDATE kehu_audit SET login = 'mallory', hash = ? WHERE id = ?",
            (forged, ids[-1]))
    assert store.audit.verify().ok
    code, out = _verify(db_url, capsys, "--head", noted)
    assert code == 1 and "no longer in the chain" in out
    code, out = _verify(db_url, capsys, "--head", store.audit.verify().head)
    assert code == 0


def test_a_trail_from_before_the_chain_is_hashed_once_at_migration(store, db_url, capsys):
    ids = _trail(store, 3)
    _tamper(store, "UPDATE kehu_audit SET hash = NULL, prev_hash = NULL")
    if store.is_postgres:
        store.db.execute_sql("ALTER TABLE kehu_audit DROP COLUMN hash, DROP COLUMN prev_hash")
    else:
        store.db.execute_sql("DROP TRIGGER IF EXISTS kehu_audit_no_update")
        store.db.execute_sql("ALTER TABLE kehu_audit DROP COLUMN hash")
        store.db.execute_sql("ALTER TABLE kehu_audit DROP COLUMN prev_hash")
    store.close()
    again = Store.open(db_url, user="tester")
    try:
        report = again.audit.verify()
        assert report.ok and report.entries == len(ids) + 1 and report.migrated_upto == ids[-1]
        note = again.audit.entries(action="chain")[0].note
        assert f"{len(ids)} audit entries" in note
        assert again.get_meta("audit_chain")["hashed"] == len(ids)
    finally:
        again.close()
    code, out = _verify(db_url, capsys)
    assert code == 0 and f"entries up to #{ids[-1]} were hashed" in out


def test_concurrent_writers_do_not_fork_the_chain(db_url):
    first = Store.open(db_url, user="tester")
    ids = [first.create_customer({"name": f"客户{i}"}).id for i in range(4)]
    first.close()
    errors = []

    def work(k: int) -> None:
        s = Store.open(db_url, user="tester")
        try:
            for n in range(8):
                s.update_customer(ids[k], {"city": f"城{n}"})
        except peewee.OperationalError as exc:   # pragma: no cover - shown if it happens
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    s = Store.open(db_url, user="tester")
    try:
        report = s.audit.verify()
        assert report.ok, report.sentence()
        assert report.entries == 1 + 4 + 32   # first admin, 4 creates, 32 updates
    finally:
        s.close()
