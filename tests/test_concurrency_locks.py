"""Two and three writers at once, each with a connection of its own, on SQLite
and PostgreSQL: opposite merges of one pair, counters incremented without a
version, imports that update customers, a file held by another import.

The two-connection tests are deterministic: the first writer holds its
transaction open until the second is seen waiting for it (on PostgreSQL in
pg_stat_activity; SQLite's second writer waits on the file's write lock), and
only then lets it go.
"""
from __future__ import annotations

import sqlite3
import threading
import time

import pytest
import yaml

from kehu.models import dedupe, db as kdb, search, security
from kehu.models.db import DatabaseBusy, connect, sqlite_path
from kehu.models.errors import KehuError
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.security import add_user
from kehu.models.store import Store


def _waiting_on_a_lock(store: Store, timeout: float = 10.0) -> None:
    """Return once another connection of this database waits for a row lock
    (PostgreSQL), or after a moment (SQLite: the other waits on the file lock)."""
    if not store.is_postgres:
        time.sleep(0.3)
        return
    end = time.monotonic() + timeout
    probe = connect(store.url)
    try:
        while time.monotonic() < end:
            waiting = probe.execute_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'").fetchone()[0]
            if waiting:
                return
            time.sleep(0.02)
    finally:
        probe.close()
    raise AssertionError("the second writer never waited for the first")


def _live(store: Store, *ids: int) -> list[int]:
    C = store.Customer
    return sorted(i for (i,) in C.select(C.id).where(C.id.in_(ids), C.deleted_at.is_null()).tuples())


# --- merges ----------------------------------------------------------------------

def test_opposite_merges_keep_one_customer_and_tell_the_loser(store, db_url):
    zhang = store.create_customer({"name": "张三", "mobile": "13812345678"})
    li = store.create_customer({"name": "李四", "mobile": "13812345678"})
    store.add_interaction(zhang.id, "call", summary="张三的电话")
    store.add_interaction(li.id, "call", summary="李四的电话")
    assert dedupe.list_merges(store) == []   # the merge journal exists before the two meet
    first, second = (Store.open(db_url, user=u, migrate=False) for u in ("sam", "lee"))
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def merge_and_hold():          # 李四 into 张三, kept uncommitted until released
        try:
            with first.db.atomic():
                dedupe.merge(first, zhang.id, li.id)
                holding.set()
                release.wait(10)
            outcome["first"] = "merged"
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            outcome["first"] = exc
            holding.set()

    def merge_opposite():          # 张三 into 李四, planned before the first commits
        plan = dedupe.merge_plan(second, li.id, zhang.id)
        holding.wait(10)
        try:
            dedupe.merge(second, li.id, zhang.id, expected_versions=plan.versions)
            outcome["second"] = "merged"
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            outcome["second"] = exc

    threads = [threading.Thread(target=merge_and_hold), threading.Thread(target=merge_opposite)]
    for t in threads:
        t.start()
    holding.wait(10)
    _waiting_on_a_lock(first)
    release.set()
    for t in threads:
        t.join(20)
    first.close()
    second.close()

    assert outcome["first"] == "merged"
    assert isinstance(outcome["second"], dedupe.MergeConflict)
    assert str(outcome["second"]) == (
        f"李四 (#{li.id}) was merged into 张三 (#{zhang.id}) a moment ago by sam"
        f" (at {dedupe.list_merges(store)[0].created_at:%H:%M:%S}); nothing was changed")
    assert _live(store, zhang.id, li.id) == [zhang.id]        # no customer lost
    summaries = {i.summary for i in store.interactions(zhang.id)}
    assert summaries == {"张三的电话", "李四的电话"}             # and the timeline is on the live one
    assert len(dedupe.list_merges(store)) == 1


def test_the_merge_loser_is_told_in_chinese(store, db_url):
    from kehu.models import i18n

    zhang = store.create_customer({"name": "张三"})
    li = store.create_customer({"name": "李四"})
    dedupe.merge(Store.open(db_url, user="sam", migrate=False), zhang.id, li.id)
    i18n.set_lang("zh")
    with pytest.raises(dedupe.MergeConflict, match=f"李四（#{li.id}）刚刚已由 sam 合并到 张三"):
        dedupe.merge(store, li.id, zhang.id)


def test_a_merge_planned_before_an_edit_is_refused(store):
    zhang = store.create_customer({"name": "张三", "company": "甲公司"})
    li = store.create_customer({"name": "李四"})
    plan = dedupe.merge_plan(store, zhang.id, li.id)
    store.update_customer(zhang.id, {"company": "乙公司"})   # someone edits meanwhile
    with pytest.raises(dedupe.MergeConflict, match=r"张三 \(#\d+\) was changed by someone else"):
        dedupe.merge(store, zhang.id, li.id, {"company": "甲公司"}, expected_versions=plan.versions)
    assert store.get_customer(zhang.id).company == "乙公司"
    assert _live(store, zhang.id, li.id) == [zhang.id, li.id]


PAIRS = 8


def test_many_opposite_merges_at_once_lose_no_customer(store, db_url):
    pairs = [(store.create_customer({"name": f"甲{i}"}).id, store.create_customer({"name": f"乙{i}"}).id)
             for i in range(PAIRS)]
    assert dedupe.list_merges(store) == []   # the merge journal exists before the two meet
    start = threading.Barrier(2)
    results: dict = {"a": [], "b": []}

    def worker(name):
        s = Store.open(db_url, user=name, migrate=False)
        try:
            start.wait()
            for a, b in pairs:
                survivor, other = (a, b) if name == "a" else (b, a)
                try:
                    dedupe.merge(s, survivor, other)
                    results[name].append("merged")
                except Exception as exc:  # noqa: BLE001 - a lost pair or a traceback: reported below
                    results[name].append(f"{type(exc).__name__}: {exc}")
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results["a"]) == len(results["b"]) == PAIRS
    for (a, b), one, two in zip(pairs, results["a"], results["b"]):
        assert len(_live(store, a, b)) == 1                    # exactly one of each pair left
        assert sorted([one == "merged", two == "merged"]) == [False, True]
        loser = two if one == "merged" else one
        assert "a moment ago by" in loser


# --- counters without a version ------------------------------------------------

WRITERS, INCREMENTS = 3, 40


def test_three_writers_incrementing_lose_no_increment(store, db_url):
    customer = store.create_customer({"name": "计数", "headcount": 0})
    start = threading.Barrier(WRITERS)
    errors: list = []

    def writer():
        s = Store.open(db_url, user="tester", migrate=False)
        try:
            start.wait()
            for _ in range(INCREMENTS):
                s.update_customer(customer.id, lambda row: {"headcount": (row["headcount"] or 0) + 1})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    row = store.get_customer(customer.id)
    assert row.headcount == WRITERS * INCREMENTS
    assert row.version == 1 + WRITERS * INCREMENTS


def test_a_save_waits_for_the_other_and_builds_on_its_row(store, db_url):
    """An unversioned save while another writer holds the row: it waits, then
    saves on top of the other's change; the search text has both."""
    customer = store.create_customer({"name": "王五", "company": "旧公司"})
    first, second = (Store.open(db_url, user="tester", migrate=False) for _ in range(2))
    holding, release = threading.Event(), threading.Event()

    def hold():
        with first.db.atomic():
            first.update_customer(customer.id, {"company": "新公司"})
            holding.set()
            release.wait(10)

    def save():
        holding.wait(10)
        second.update_customer(customer.id, {"notes": "备注"})

    threads = [threading.Thread(target=hold), threading.Thread(target=save)]
    for t in threads:
        t.start()
    holding.wait(10)
    _waiting_on_a_lock(first)
    release.set()
    for t in threads:
        t.join(20)
    first.close()
    second.close()
    row = store.get_customer(customer.id)
    assert (row.company, row.notes, row.version) == ("新公司", "备注", 3)
    assert row.search_text == search.build_search_text(store.schema, store.raw_record(row))


# --- import --update-by ----------------------------------------------------------

def _csv(path, rows):
    import csv

    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@pytest.fixture
def clerk_roles(tmp_path):
    """A role that may import but edit only company and notes, on its own customers
    (given to the guard directly: a shared database ignores a user's roles.yaml)."""
    path = tmp_path / "clerk-roles.yaml"
    path.write_text(yaml.safe_dump({"roles": {"clerk": {
        "label": {"en": "Clerk", "zh": "文员"}, "view": True, "create": True,
        "edit": ["company", "notes"], "delete": False, "export": False, "import": True,
        "sensitive": True, "rows": "own", "audit": False, "users": False}}}), encoding="utf-8")
    return security.load_roles(path)


def test_update_by_import_keeps_to_the_users_rows_and_field_rights(store, db_url, tmp_path,
                                                                   clerk_roles):
    store.guard._roles = clerk_roles
    add_user(store, "cat", "clerk")
    mine = store.create_customer({"name": "我的", "owner": "cat", "mobile": "13800000001",
                                  "headcount": 5, "company": "旧"})
    theirs = store.create_customer({"name": "别人的", "owner": "lee", "mobile": "13800000002",
                                    "company": "别人公司"})
    clerk = Store.open(db_url, user="cat", migrate=False)
    clerk.guard._roles = clerk_roles
    assert clerk.guard.role.name == "clerk"
    path = _csv(tmp_path / "upd.csv", [["姓名", "手机", "公司", "人数"],
                                       ["我的", "13800000001", "新", "5"],     # company: allowed
                                       ["别人的", "13800000002", "抢过来", ""],  # not cat's customer
                                       ])
    source = open_source(path)
    result = run_import(clerk, source, auto_mapping(clerk.schema, source), update_by="mobile",
                        report_path=tmp_path / "report.csv")
    assert (result.updated, result.rejected, result.created) == (1, 1, 0)
    assert store.get_customer(theirs.id).company == "别人公司"      # not touched
    assert store.get_customer(mine.id).company == "新"
    problem = result.problems[0]
    assert problem.row == 3 and problem.value.endswith("13800000002")
    assert problem.reason.startswith(f"not updated: customer {theirs.id} belongs to another owner")

    # a field the role may not edit: that row is refused, naming the field; nothing changes
    path = _csv(tmp_path / "upd2.csv", [["姓名", "手机", "公司", "人数"],
                                        ["我的", "13800000001", "再新", "99"]])
    source = open_source(path)
    result = run_import(clerk, source, auto_mapping(clerk.schema, source), update_by="mobile",
                        report_path=tmp_path / "report2.csv")
    assert (result.updated, result.rejected) == (0, 1)
    row = store.get_customer(mine.id)
    assert (row.headcount, row.company) == (5, "新")
    assert store.schema["headcount"].label() in result.problems[0].reason
    clerk.close()


def test_update_by_import_waits_for_a_held_row_and_indexes_its_new_value(store, db_url, tmp_path):
    """The import reads the row locked: a concurrent save is kept, and the search
    text is built from the row as saved, not as it was before."""
    customer = store.create_customer({"name": "赵六", "mobile": "13800000003", "company": "旧公司"})
    editor, importer = (Store.open(db_url, user="tester", migrate=False) for _ in range(2))
    holding, release = threading.Event(), threading.Event()
    path = _csv(tmp_path / "u.csv", [["姓名", "手机", "备注"], ["赵六", "13800000003", "导入的备注"]])
    errors: list = []

    def edit():
        with editor.db.atomic():
            editor.update_customer(customer.id, {"company": "新公司"})
            holding.set()
            release.wait(10)

    def load():
        holding.wait(10)
        try:
            source = open_source(path)
            run_import(importer, source, auto_mapping(importer.schema, source), update_by="mobile",
                       report_path=tmp_path / "r.csv")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=edit), threading.Thread(target=load)]
    for t in threads:
        t.start()
    holding.wait(10)
    _waiting_on_a_lock(editor)
    release.set()
    for t in threads:
        t.join(30)
    editor.close()
    importer.close()
    assert errors == []
    row = store.get_customer(customer.id)
    assert (row.company, row.notes) == ("新公司", "导入的备注")
    assert row.search_text == search.build_search_text(store.schema, store.raw_record(row))


# --- a SQLite file held by another import ----------------------------------------

def test_a_file_held_past_the_busy_timeout_is_one_sentence(sqlite_url, tmp_path, monkeypatch):
    store = Store.open(sqlite_url, user="tester")
    store.create_customer({"name": "已有"})
    store.close()
    monkeypatch.setattr(kdb, "BUSY_TIMEOUT", 0.2)
    holder = sqlite3.connect(sqlite_path(sqlite_url), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")              # what another import does for its whole run
    holder.execute("INSERT INTO kehu_meta(key, value) VALUES ('x', '1')")
    try:
        store = Store.open(sqlite_url, user="tester", migrate=False)
        path = _csv(tmp_path / "n.csv", [["姓名"], ["新客户"]])
        source = open_source(path)
        with pytest.raises(DatabaseBusy) as caught:
            run_import(store, source, auto_mapping(store.schema, source))
        assert str(caught.value) == (
            f"the database {sqlite_url} is busy: another program is writing to it (a big import "
            "holds the file until it ends); try again when it has finished")
        with pytest.raises(DatabaseBusy):
            store.update_customer(1, {"notes": "x"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.update_customer(1, {"notes": "x"}).notes == "x"   # free again: works
    store.close()


def test_a_call_logged_on_a_customer_being_merged_away_is_not_orphaned(store, db_url):
    """A timeline entry added to 李四 while 李四 is being merged into 张三 waits for
    the merge, then is refused (the customer is gone) instead of landing on a
    deleted record that no view shows."""
    zhang = store.create_customer({"name": "张三"})
    li = store.create_customer({"name": "李四"})
    assert dedupe.list_merges(store) == []
    merger, caller = (Store.open(db_url, user="tester", migrate=False) for _ in range(2))
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def merge_and_hold():
        with merger.db.atomic():
            dedupe.merge(merger, zhang.id, li.id)
            holding.set()
            release.wait(10)

    def log_call():
        holding.wait(10)
        try:
            caller.add_interaction(li.id, "call", summary="打给李四")
            outcome["call"] = "saved"
        except Exception as exc:  # noqa: BLE001 - reported by the assertions
            outcome["call"] = exc

    threads = [threading.Thread(target=merge_and_hold), threading.Thread(target=log_call)]
    for t in threads:
        t.start()
    holding.wait(10)
    _waiting_on_a_lock(merger)
    release.set()
    for t in threads:
        t.join(20)
    merger.close()
    caller.close()
    assert isinstance(outcome["call"], KehuError), outcome["call"]
    I = store.Interaction
    assert I.select().where(I.customer == li.id).count() == 0     # nothing on the deleted one


def test_merging_a_customer_merged_away_earlier_says_into_whom(store, monkeypatch):
    zhang = store.create_customer({"name": "张三"})
    li = store.create_customer({"name": "李四"})
    dedupe.merge(store, zhang.id, li.id)
    with pytest.raises(dedupe.MergeConflict, match=r"李四 \(#\d+\) was merged into 张三 .* a moment ago"):
        dedupe.merge_plan(store, li.id, zhang.id)
    monkeypatch.setattr(dedupe, "RECENT", dedupe.dt.timedelta(0))   # long ago
    with pytest.raises(dedupe.MergeConflict, match=r"李四 \(#\d+\) was merged into 张三 \(#\d+\) by "
                                                   r"tester on \d{4}-\d\d-\d\d \d\d:\d\d; merge 张三"):
        dedupe.merge_plan(store, zhang.id, li.id)


def test_reverting_an_import_keeps_a_save_made_while_it_waited(store, db_url, tmp_path):
    """An import is reverted while someone saves one of the customers it updated:
    the revert waits, sees the save and leaves that customer alone (skipped)."""
    customer = store.create_customer({"name": "钱七", "mobile": "13800000004", "company": "原公司"})
    path = _csv(tmp_path / "u.csv", [["姓名", "手机", "公司"], ["钱七", "13800000004", "导入公司"]])
    source = open_source(path)
    batch = run_import(store, source, auto_mapping(store.schema, source), update_by="mobile",
                       report_path=tmp_path / "r.csv").batch_id
    editor, reverter = (Store.open(db_url, user="tester", migrate=False) for _ in range(2))
    holding, release = threading.Event(), threading.Event()
    outcome: dict = {}

    def edit():
        with editor.db.atomic():
            editor.update_customer(customer.id, {"company": "手改公司"})
            holding.set()
            release.wait(10)

    def revert():
        from kehu.models.importer import revert_import

        holding.wait(10)
        outcome["revert"] = revert_import(reverter, batch)

    threads = [threading.Thread(target=edit), threading.Thread(target=revert)]
    for t in threads:
        t.start()
    holding.wait(10)
    _waiting_on_a_lock(editor)
    release.set()
    for t in threads:
        t.join(20)
    editor.close()
    reverter.close()
    assert store.get_customer(customer.id).company == "手改公司"     # the save is kept
    assert outcome["revert"].skipped == [customer.id] and outcome["revert"].restored == 0


def test_an_update_by_row_whose_customer_was_deleted_meanwhile_is_rejected(store, tmp_path,
                                                                           monkeypatch):
    from kehu.models import importer

    customer = store.create_customer({"name": "孙八", "mobile": "13800000005"})
    real = importer._apply_updates

    def deleted_first(s, *args, **kwargs):   # someone deletes it after the keys were read
        store.delete_customer(customer.id)
        return real(s, *args, **kwargs)

    monkeypatch.setattr(importer, "_apply_updates", deleted_first)
    path = _csv(tmp_path / "u.csv", [["姓名", "手机", "公司"], ["孙八", "13800000005", "新"]])
    source = open_source(path)
    result = run_import(store, source, auto_mapping(store.schema, source), update_by="mobile",
                        report_path=tmp_path / "r.csv")
    assert (result.updated, result.rejected) == (0, 1)
    assert result.problems[0].reason.startswith("not updated: the customer was deleted")


def test_two_first_opens_of_a_new_database_at_once_both_work(db_url):
    """Two kehu processes started at once on a new database both create its tables
    (PostgreSQL: one waits for the other's migration instead of failing on a
    duplicate CREATE)."""
    start = threading.Barrier(2)
    outcome: list = []

    def open_it():
        start.wait()
        try:
            Store.open(db_url, user="tester").close()
            outcome.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=open_it) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert outcome == ["ok", "ok"]
