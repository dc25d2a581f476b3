"""The audit trail: every change says who, when, which record and each field before/after."""
from __future__ import annotations

import datetime as dt

import peewee
import pytest

from kehu.models.audit import RevertError
from kehu.models.security import PermissionDenied, add_user
from kehu.models.store import Store
from kehu.tui.cli import main


def test_create_update_delete_restore_are_recorded(store):
    c = store.create_customer({"name": "张三", "city": "北京"})
    store.update_customer(c.id, {"city": "上海", "name": "张三"}, expected_version=1)
    store.delete_customer(c.id)
    store.restore_customer(c.id)
    history = store.audit.history(c.id)
    assert [h.action for h in history] == ["restore", "delete", "update", "create"]
    update = history[2]
    assert update.user == "tester" and update.table == "customer" and update.record_id == c.id
    assert update.fields == {"city": ["北京", "上海"]}    # only what changed
    assert history[3].fields["name"] == [None, "张三"]
    assert isinstance(update.at, dt.datetime)


def test_a_save_that_changes_nothing_leaves_no_entry(store):
    c = store.create_customer({"name": "张三"})
    store.update_customer(c.id, {"name": "张三"})
    assert [h.action for h in store.audit.history(c.id)] == ["create"]


def test_contacts_timeline_and_imports_show_in_the_customer_history(store):
    c = store.create_customer({"name": "张三"})
    store.add_contact(c.id, name="李经理", role="decision_maker")
    store.add_interaction(c.id, "call", summary="首次电话")
    store.bulk_insert_customers([{"name": "导入一"}, {"name": "导入二"}], import_batch=7)
    history = store.audit.history(c.id)
    assert [(h.action, h.table) for h in history] == [
        ("create", "interaction"), ("create", "contact"), ("create", "customer")]
    assert history[1].fields["name"] == [None, "李经理"]
    imported = store.customers().where(store.Customer.name == "导入一").get()
    entry = store.audit.history(imported.id)[0]
    assert (entry.action, entry.batch, entry.fields["rows"]) == ("import", 7, [None, 2])


def test_revert_one_change_is_itself_audited(store):
    c = store.create_customer({"name": "张三", "city": "北京", "grade": "A"})
    store.update_customer(c.id, {"city": "上海"})
    store.update_customer(c.id, {"grade": "B"})
    city_change = next(h for h in store.audit.history(c.id) if "city" in h.fields)
    store.audit.revert(city_change.id)
    row = store.get_customer(c.id)
    assert (row.city, row.grade) == ("北京", "B")   # the later grade change stays
    latest = store.audit.history(c.id)[0]
    assert (latest.action, latest.reverts, latest.fields) == ("revert", city_change.id,
                                                              {"city": ["上海", "北京"]})


def test_revert_refuses_when_a_later_change_touched_the_field(store):
    c = store.create_customer({"name": "张三", "city": "北京"})
    store.update_customer(c.id, {"city": "上海"})
    first = store.audit.history(c.id)[0].id
    store.update_customer(c.id, {"city": "广州"})
    with pytest.raises(RevertError) as err:
        store.audit.revert(first)
    assert "City" in str(err.value)
    assert store.get_customer(c.id).city == "广州"


def test_revert_of_a_delete_restores(store):
    c = store.create_customer({"name": "张三"})
    store.delete_customer(c.id)
    store.audit.revert(store.audit.history(c.id)[0].id)
    assert store.get_customer(c.id).deleted_at is None


def test_audit_rows_cannot_be_edited_or_deleted(store):
    c = store.create_customer({"name": "张三"})
    E = store.audit.Entry
    for attempt in (lambda: E.update(login="someone").execute(),
                    lambda: E.delete().execute()):
        with pytest.raises(peewee.DatabaseError) as err:
            with store.db.atomic():
                attempt()
        assert "read-only" in str(err.value)
    assert [h.user for h in store.audit.history(c.id)] == ["tester"]
    assert not hasattr(store.audit, "delete") and not hasattr(store.audit, "update")


def test_history_masks_values_the_role_may_not_see(store, db_url):
    c = store.create_customer({"name": "张三", "mobile": "13812345678", "wechat": "zhang_san88",
                               "owner": "sam"})
    add_user(store, "sam", "sales")
    add_user(store, "vic", "viewer")
    sam = Store.open(db_url, user="sam")
    vic = Store.open(db_url, user="vic")
    try:
        created = sam.audit.history(c.id)[-1]
        assert created.fields["mobile"] == [None, "+8613812345678"]   # sales sees contact fields
        assert created.fields["wechat"] == [None, "z****"]          # not personal ones
        assert sam.audit.get(created.id).fields["wechat"] == [None, "z****"]
        with pytest.raises(PermissionDenied):
            sam.audit.entries()                # the whole trail needs the audit right
        with pytest.raises(PermissionDenied) as err:
            vic.audit.history(c.id)            # a viewer's role has no history right
        assert "history" in str(err.value)
        with pytest.raises(PermissionDenied):
            vic.audit.get(created.id)
        with pytest.raises(PermissionDenied):
            vic.audit.revert(created.id)       # reverting is a write
    finally:
        sam.close()
        vic.close()


def test_kehu_audit_command_filters(sqlite_url, capsys):
    s = Store.open(sqlite_url, user="tester")
    a = s.create_customer({"name": "张三"})
    b = s.create_customer({"name": "李四"})
    s.update_customer(b.id, {"city": "上海"})
    created_b = s.audit.history(b.id)[-1].id
    s.close()
    assert main(["--db", sqlite_url, "--user", "tester", "audit", "--customer", str(b.id)]) == 0
    out = capsys.readouterr().out
    assert "上海" in out and "李四" in out and "张三" not in out
    assert main(["--db", sqlite_url, "--user", "tester", "audit", "--user", "nobody"]) == 0
    assert "张三" not in capsys.readouterr().out
    assert main(["--db", sqlite_url, "--user", "tester", "audit", "--since", "2999-01-01"]) == 0
    assert "张三" not in capsys.readouterr().out
    assert main(["--db", sqlite_url, "--user", "tester", "audit", "--since", "yesterday-ish"]) == 2
    assert "since" in capsys.readouterr().err
    assert main(["--db", sqlite_url, "--user", "tester", "audit", "--revert", str(created_b)]) == 0
    capsys.readouterr()
    s = Store.open(sqlite_url, user="tester")
    assert s.get_customer(b.id, include_deleted=True).deleted_at is not None   # undoing its creation deletes it
    assert s.get_customer(a.id).name == "张三"
    s.close()


def test_chain_timeline_and_merge_are_guarded_and_audited(store, db_url):
    from kehu.models import chain, dedupe, timeline

    c = store.create_customer({"name": "张三", "city": "北京"})
    boss = chain.add_contact(store, c.id, name="王总")
    chain.update_contact(store, boss.id, title="总经理")
    entry = timeline.add_entry(store, c.id, "call", summary="首次电话")
    timeline.delete_entry(store, entry.id)
    twin = store.create_customer({"name": "张三", "phone": "010-88886666"})
    dedupe.merge(store, c.id, twin.id)
    seen = [(h.action, h.table) for h in store.audit.history(c.id)]
    assert seen[:5] == [("merge", "customer"), ("delete", "interaction"),
                        ("create", "interaction"), ("update", "contact"), ("create", "contact")]
    assert store.audit.history(c.id)[3].fields == {"title": [None, "总经理"]}
    assert store.audit.history(twin.id)[0].action == "merge"

    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        for attempt in (lambda: chain.add_contact(vic, c.id, name="某人"),
                        lambda: chain.update_contact(vic, boss.id, title="x"),
                        lambda: timeline.add_entry(vic, c.id, "call", summary="x")):
            with pytest.raises(PermissionDenied):
                attempt()
    finally:
        vic.close()
    assert chain.get_contact(store, boss.id).title == "总经理"


# -- privileged operations: a right each, checked in the model layer, and audited ----------

PRIVILEGED = [
    (["backup"], "may not back up the database"),
    (["restore", "--yes", "BACKUP"], "may not restore a backup"),
    (["segments", "recompute"], "may not recompute the segments"),
    (["encrypt"], "may not encrypt or decrypt the database"),
    (["user", "list"], "may not list the users"),
    (["audit", "--customer", "1"], None),   # viewer: no history right; sales: their own
    (["--schema", "SCHEMA", "query", "x"], "may not change the database's fields (--schema)"),
]


@pytest.fixture
def team_file(sqlite_url, tmp_path, monkeypatch):
    s = Store.open(sqlite_url, user="tester")
    s.create_customer({"name": "张三", "owner": "sam", "mobile": "13800138000"})
    add_user(s, "vic", "viewer")
    add_user(s, "sam", "sales")
    s.close()
    backup = tmp_path / "b.db"
    assert main(["--db", sqlite_url, "--user", "tester", "backup", "-o", str(backup)]) == 0
    schema = tmp_path / "schema.yaml"
    schema.write_text("extends: default\nfields:\n  - key: vip_level\n    label: VIP\n"
                      "    type: integer\n    group: business\n", encoding="utf-8")
    monkeypatch.setenv("KEHU_DB_KEY", "their own key")
    return sqlite_url, backup, schema


@pytest.mark.parametrize("login", ["vic", "sam"])
def test_viewer_and_sales_are_refused_privileged_operations_in_one_sentence(team_file, login,
                                                                           capsys):
    url, backup, schema = team_file
    path = url[len("sqlite:///"):]
    label = {"vic": "vic (Viewer)", "sam": "sam (Sales)"}[login]
    for argv, refusal in PRIVILEGED:
        argv = [str(backup) if a == "BACKUP" else str(schema) if a == "SCHEMA" else a
                for a in argv]
        code = main(["--db", url, "--user", login, *argv])
        err = capsys.readouterr().err
        if refusal is None:   # audit of a customer: the viewer's role has neither right
            expected = (2, "may not read the change history") if login == "vic" else (0, "")
            assert (code, expected[1] in err) == (expected[0], True), (argv, err)
            continue
        assert code == 2 and err.strip() == f"kehu: {label} {refusal}", (argv, err)
    s = Store.open(url, user="tester")
    try:
        assert "vip_level" not in {c.name for c in s.db.get_columns("customer")}
        assert not [c for c in s.audit.entries() if c.action in ("backup", "encrypt",
                                                                  "recompute")][1:]
    finally:
        s.close()
    from kehu.models import crypto
    assert not crypto.is_encrypted(__import__("pathlib").Path(path))


def test_model_layer_refuses_without_the_cli(store, db_url):
    from kehu.models import segments
    from kehu.models.security import list_users

    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        for attempt in (lambda: segments.recompute(vic), lambda: list_users(vic),
                        lambda: vic.audit.verify()):
            with pytest.raises(PermissionDenied):
                attempt()
    finally:
        vic.close()


def test_export_backup_restore_encrypt_recompute_and_role_changes_are_audited(sqlite_url,
                                                                             tmp_path,
                                                                             monkeypatch,
                                                                             capsys):
    from kehu.models import crypto, exporter, segments
    from kehu.models.backup import backup, restore
    from kehu.models.security import set_role

    s = Store.open(sqlite_url, user="tester")
    for i in range(3):
        s.create_customer({"name": f"客户{i}"})
    exporter.export(s, tmp_path / "out.csv")
    segments.recompute(s)
    add_user(s, "vic", "viewer")
    set_role(s, "vic", "sales")
    s.close()
    made = backup(sqlite_url, tmp_path / "b.db", user="tester").path
    s = Store.open(sqlite_url, user="tester")
    copied = s.audit.entries(action="backup")[0]
    assert copied.fields["rows"] == [None, 3] and "b.db" in copied.note
    s.close()
    restore(sqlite_url, made, user="tester")
    s = Store.open(sqlite_url, user="tester")
    try:
        by_action = {}
        for c in s.audit.entries():
            by_action.setdefault(c.action, c)
        assert by_action["export"].fields["rows"] == [None, 3]
        assert str(tmp_path / "out.csv") in by_action["export"].note
        assert by_action["recompute"].fields["rows"] == [None, 3]
        assert by_action["restore_backup"].user == "tester"
        role = [c for c in s.audit.entries(action="update") if c.table == "kehu_user"][0]
        assert role.fields["role"] == ["viewer", "sales"]
        assert s.audit.verify().ok   # the restored trail is one chain with its new entry
    finally:
        s.close()
    if not crypto.available():
        return
    monkeypatch.setenv("KEHU_DB_KEY", "s3cret")
    assert main(["--db", sqlite_url, "--user", "tester", "encrypt"]) == 0
    assert main(["--db", sqlite_url, "--user", "tester", "decrypt"]) == 0
    capsys.readouterr()
    s = Store.open(sqlite_url, user="tester")
    try:
        assert [c.action for c in s.audit.entries(limit=2)] == ["decrypt", "encrypt"]
        assert s.audit.verify().ok
    finally:
        s.close()
