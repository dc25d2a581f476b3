"""--json on the listing sub-commands: due, verify --due, user list, audit, audit verify."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from kehu.models.store import Store
from kehu.models.schema import load_schema
from kehu.tui import cli


@pytest.fixture()
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'j.db'}"
    store = Store.open(url, load_schema(None), user="ann")
    cid = store.create_customer({"name": "张三", "mobile": "13912345678"}).id
    store.add_interaction(cid, "call", summary="回访", next_follow_up=dt.datetime.now() - dt.timedelta(days=2))
    store.update_customer(cid, {"name": "张三丰"})
    store.close()
    return url


def _json(capsys, argv):
    assert cli.main(argv) in (0, 1)
    return json.loads(capsys.readouterr().out)


def test_due_json_lists_the_overdue_follow_up(db, capsys):
    data = _json(capsys, ["due", "--db", db, "--user", "ann", "--json"])
    overdue = data["overdue"]
    assert overdue["count"] == 1
    assert overdue["items"][0]["customer"] == "张三丰"
    assert overdue["items"][0]["kind"] == "call"


def test_verify_due_json(db, capsys):
    data = _json(capsys, ["verify", "--due", "--db", db, "--user", "ann", "--json"])
    assert isinstance(data["count"], int) and isinstance(data["items"], list)


def test_user_list_json_names_me(db, capsys):
    data = _json(capsys, ["user", "list", "--db", db, "--user", "ann", "--json"])
    assert any(u["login"] == "ann" and u["you"] for u in data)


def test_audit_json_has_the_rename(db, capsys):
    data = _json(capsys, ["audit", "--db", db, "--user", "ann", "--json"])
    renames = [e for e in data if e["action"] == "update" and e["table"] == "customer"]
    assert renames and renames[0]["fields"]["name"] == ["张三", "张三丰"]
    assert renames[0]["customer"] == "张三丰"
    verify = _json(capsys, ["audit", "verify", "--db", db, "--user", "ann", "--json"])
    assert verify["ok"] is True and verify["entries"] >= 2


def test_imports_and_dedupe_json(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    csv = tmp_path / "in.csv"
    csv.write_text("姓名,手机\n张三,13912345678\n张三,13912345678\n", encoding="utf-8")
    assert cli.main(["import", str(csv), "--db", url, "--user", "ann",
                     "--on-duplicate", "create"]) == 0
    capsys.readouterr()
    batches = _json(capsys, ["imports", "--db", url, "--user", "ann", "--json"])
    assert batches[0]["created"] == 2 and batches[0]["source"].endswith("in.csv")
    pairs = _json(capsys, ["dedupe", "--db", url, "--user", "ann", "--json"])
    assert pairs["scanned"] == 2 and pairs["pairs"] >= 1
    assert {pairs["shown"][0]["a"], pairs["shown"][0]["b"]} == {1, 2}
