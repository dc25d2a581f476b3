"""`kehu export --all` / `kehu import --all` (issue 16): the whole database out and
back in, SQLite → file → PostgreSQL and PostgreSQL → file → SQLite, keeping every
row, value and link (ids remapped)."""
import datetime as dt
from decimal import Decimal

import pytest

from conftest import pg_url_or_skip
from kehu.models import chain, demo, timeline, verify
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.io_tables import io_models
from kehu.models.store import Store
from kehu.models.views import _write, builtin_views, user_views_path
from kehu.models.whole_db import WholeDbError, export_all, import_all
from kehu.tui.cli import main


def _fill(store, tmp_path):
    demo.generate(store, 120, seed=7)
    C = store.Customer
    first, second = [c.id for c in store.customers().order_by(C.id).limit(2)]
    boss = chain.add_contact(store, first, name="王总", title="总经理", phone="13911112222")
    mid = chain.add_contact(store, first, boss.id, name="李经理", email="li@example.com")
    chain.add_contact(store, first, mid.id, name="小张", notes="第一行\n=SUM(A1)")
    timeline.add_entry(store, first, "call", summary="谈了报价", contact=mid.id,
                       next_follow_up=dt.date(2026, 12, 6), occurred_at="2026-03-15 10:30")
    timeline.add_entry(store, first, "purchase", summary="首单", amount=Decimal("12000.50"))
    verify.mark_verified(store, first, note="电话核实")
    store.delete_customer(second)   # a deleted customer is a row too
    csv_file = tmp_path / "in.csv"
    csv_file.write_text("客户名称,手机\n赵六,13700137000\n", encoding="utf-8")
    source = open_source(csv_file)
    run_import(store, source, auto_mapping(store.schema, source))
    view = builtin_views(store.schema)[0].to_dict() | {"key": "my_view", "name": "我的视图"}
    _write(user_views_path(), [view])


def snapshot(store):
    """Every table as lists of tuples, each id replaced by its row's place in its table."""
    io = io_models(store)
    models = [("customer", store.Customer), ("contact", store.Contact),
              ("interaction", store.Interaction), ("verification", store.Verification),
              ("import_batch", io["ImportBatch"])]
    rank = {name: {i: n for n, (i,) in enumerate(m.select(m.id).order_by(m.id).tuples())}
            for name, m in models}
    links = {"customer_id": "customer", "contact_id": "contact", "reports_to_id": "contact",
             "import_batch": "import_batch"}
    out = {}
    for name, model in models:
        fields = [f for f in model._meta.sorted_fields
                  if f.column_name not in ("id", "search_text")]
        rows = []
        for row in model.select(*fields).order_by(model.id).tuples():
            rows.append(tuple(rank[links[f.column_name]].get(v, ("missing", v))
                              if f.column_name in links and v is not None else v
                              for f, v in zip(fields, row)))
        out[name] = rows
    return out


@pytest.mark.parametrize("shape", ["workbook.xlsx", "folder"])
def test_round_trip_to_the_other_database_keeps_everything(db_url, tmp_path, worker_id, shape):
    source = Store.open(db_url, user="tester")
    _fill(source, tmp_path)
    before = snapshot(source)
    assert len(before["contact"]) > 3 and len(before["interaction"]) > 2
    C = source.Customer
    assert C.select().where(C.deleted_at.is_null(False)).count() == 1   # kept like the others
    path = tmp_path / shape
    written = export_all(source, path)
    source.close()
    assert written.counts["customers"] == len(before["customer"])
    if db_url.startswith("sqlite"):
        target_url = pg_url_or_skip(worker_id)
    else:
        target_url = f"sqlite:///{tmp_path / 'target.db'}"
    user_views_path().unlink()
    target = Store.open(target_url, user="tester")
    # the target already has rows: every imported id is a new one, and links follow
    had = [target.create_customer({"name": f"已有{i}"}).id for i in range(3)]
    chain.add_contact(target, had[0], name="已有联系人")
    timeline.add_entry(target, had[1], "call", summary="已有")
    result = import_all(target, path)
    assert result.left_out == []
    for model in (target.Interaction, target.Contact):
        model.delete().where(model.customer.in_(had)).execute()
    target.Customer.delete().where(target.Customer.id.in_(had)).execute()
    assert snapshot(target) == before
    assert result.counts == written.counts
    C = target.Customer
    first = target.customers().order_by(C.id).first()
    names = {n.contact.name: n for r in chain.contact_tree(target, first.id) for n in r.walk()}
    assert names["小张"].depth == 2 and names["小张"].contact.notes == "第一行\n=SUM(A1)"
    assert target.get_customer(first.id).purchase_total >= Decimal("12000.50")
    assert "my_view" in user_views_path().read_text(encoding="utf-8")
    found = target.customers().where(C.name == "赵六").first()
    assert found is not None and found.import_batch is not None   # still revertible as a batch
    target.close()


def test_cli_export_and_import_all(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = Store.open(url, user="tester")
    cid = store.create_customer({"name": "李娜"}).id
    chain.add_contact(store, cid, name="王总")
    store.close()
    assert main(["--db", url, "export", "--all", "-o", str(tmp_path / "out")]) == 0
    assert "customers 1, contacts 1" in capsys.readouterr().out
    other = f"sqlite:///{tmp_path / 'b.db'}"
    assert main(["--db", other, "import", "--all", str(tmp_path / "out")]) == 0
    assert "customers 1, contacts 1" in capsys.readouterr().out
    assert main(["--db", other, "import", "--all", str(tmp_path / "nowhere.csv")]) == 2
    assert "export --all" in capsys.readouterr().err
    assert main(["--db", url, "export", "--all", "-o", str(tmp_path / "all.csv")]) == 2
    assert "give a folder for the CSV files" in capsys.readouterr().err
    assert not (tmp_path / "all.csv").exists()


def test_a_broken_link_imports_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'a.db'}"
    store = Store.open(url, user="tester")
    cid = store.create_customer({"name": "李娜"}).id
    chain.add_contact(store, cid, name="王总")
    export_all(store, tmp_path / "out")
    text = (tmp_path / "out" / "contacts.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "out" / "contacts.csv").write_text(text.replace("\n1,1,", "\n1,99,"),
                                                    encoding="utf-8-sig")
    with pytest.raises(WholeDbError, match="customers #99"):
        import_all(store, tmp_path / "out")
    assert store.count_customers() == 1
    store.close()


def test_the_whole_database_leaves_only_with_the_backup_right(tmp_path):
    """export --all is an unmasked copy of everything: it takes export, import and backup
    rights; sales and viewers are refused and no file is written."""
    from kehu.models.security import PermissionDenied, add_user

    url = f"sqlite:///{tmp_path / 'w.db'}"
    admin = Store.open(url, user="tester")
    admin.create_customer({"name": "张三", "mobile": "13800138000"})
    add_user(admin, "sam", "sales")
    add_user(admin, "vic", "viewer")
    for login in ("sam", "vic"):
        other = Store.open(url, user=login)
        with pytest.raises(PermissionDenied):
            export_all(other, tmp_path / f"{login}.xlsx")
        other.close()
        assert not (tmp_path / f"{login}.xlsx").exists()
    assert export_all(admin, tmp_path / "all.xlsx").path.exists()
    admin.close()
