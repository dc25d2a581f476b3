"""Contacts and timeline entries imported from their own sheets (issue 16):
`kehu import FILE --into contacts|timeline`, each row attached to the customer it
names (customer no., name or company); a row naming none is rejected with its row."""
import csv
import datetime as dt
from decimal import Decimal

import pytest

from kehu.models import import_sheets
from kehu.models.importer import ImportFailed, auto_mapping, open_source
from kehu.tui.cli import main


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def sheet_import(store, path, into, **kw):
    source = open_source(path)
    mapping = auto_mapping(import_sheets.target_schema(into), source)
    return import_sheets.run_import(store, source, mapping, into, **kw)


@pytest.fixture
def customers(store):
    a = store.create_customer({"name": "李娜", "company": "广州市粤海物流有限公司", "external_id": "C-001"})
    b = store.create_customer({"name": "王强", "company": "北京星辰科技有限公司"})
    c = store.create_customer({"name": "张三", "company": "华信"})
    d = store.create_customer({"name": "张三", "company": "宏达"})
    return a.id, b.id, c.id, d.id


def test_a_contact_list_goes_to_the_customers_its_company_column_names(store, customers, tmp_path):
    a, b, _, _ = customers
    path = write_csv(tmp_path / "联系人.csv", [
        ["所属客户", "联系人", "职务", "手机", "邮箱"],
        ["广州市粤海物流有限公司", "陈总", "总经理", "13911112222", ""],
        ["C-001", "小周", "采购", "", "zhou@example.com"],          # by customer no.
        ["王强", "刘工", "工程师", "", ""],                          # by the customer's name
        ["不存在的公司", "某人", "", "", ""],
        ["张三", "赵六", "", "", ""],                                # two customers are 张三
        ["北京星辰科技有限公司", "孙七", "", "12345", ""],            # a bad phone
        ["", "", "", "", ""]], encoding="gbk")
    result = sheet_import(store, path, "contacts", report_path=tmp_path / "rejects.csv")
    assert (result.rows, result.created, result.rejected, result.empty) == (7, 3, 3, 1)
    assert [(c.name, c.title, c.phone, c.email) for c in store.contacts(a)] == [
        ("陈总", "总经理", "+8613911112222", None), ("小周", "采购", None, "zhou@example.com")]
    assert [c.name for c in store.contacts(b)] == ["刘工"]
    reasons = {p.row: p.reason for p in result.problems}
    assert "no customer is called '不存在的公司'" in reasons[5]
    assert "is 2 customers" in reasons[6] and "customer no." in reasons[6]
    assert 7 in reasons and "12345" in reasons[7]
    with open(result.report, encoding="utf-8-sig", newline="") as fh:   # the rows as they were
        rejected = list(csv.reader(fh))
    assert rejected[1][2:] == ["不存在的公司", "某人", "", "", ""]


def test_timeline_entries_with_kinds_dates_and_amounts(store, customers, tmp_path):
    a, b, _, _ = customers
    path = write_csv(tmp_path / "记录.csv", [
        ["日期", "客户", "类型", "内容", "金额"],
        ["2026/3/15", "李娜", "电话", "谈了续约", ""],
        ["2026-03-16 10:30", "广州市粤海物流有限公司", "采购", "首单", "12000"],
        ["2026-03-17", "王强", "飞鸽传书", "x", ""],
        ["2026-03-18", "北京星辰科技有限公司", "拜访", "见了王总", "abc"]])
    result = sheet_import(store, path, "timeline")
    assert (result.created, result.rejected) == (2, 2)
    entries = sorted((e.occurred_at, e.kind, e.summary, e.amount)
                     for e in store.Interaction.select().where(store.Interaction.customer == a))
    assert entries == [(dt.datetime(2026, 3, 15), "call", "谈了续约", None),
                       (dt.datetime(2026, 3, 16, 10, 30), "purchase", "首单", Decimal("12000.00"))]
    assert store.get_customer(a).purchase_total == 12000
    reasons = {p.row: (p.field, p.reason) for p in result.problems}
    assert reasons[4][0] == "Kind" and "飞鸽传书" in reasons[4][1]
    assert reasons[5][0] == "Amount"


def test_a_dry_run_saves_nothing_and_writes_no_file(store, customers, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["公司", "联系人"], ["华信", "甲"], ["无此公司", "乙"]])
    result = sheet_import(store, path, "contacts", dry_run=True)
    assert (result.created, result.rejected, result.report) == (1, 1, None)
    assert store.Contact.select().count() == 0


def test_a_sheet_without_a_customer_column_is_refused(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["联系人", "职务"], ["甲", "经理"]])
    with pytest.raises(ImportFailed, match="Customer"):
        sheet_import(store, path, "contacts")


def test_cli_into_contacts_and_timeline(db_url, tmp_path, capsys):
    from kehu.models.store import Store

    store = Store.open(db_url, user="tester")
    cid = store.create_customer({"name": "李娜", "company": "星辰科技"}).id
    store.close()
    contacts = write_csv(tmp_path / "c.csv", [["公司", "联系人", "电话"], ["星辰科技", "王总", "13911112222"],
                                              ["无此公司", "乙", ""]])
    assert main(["--db", db_url, "--lang", "en", "import", str(contacts), "--into", "contacts"]) == 0
    out = capsys.readouterr().out
    assert "Contacts: 2 rows read — 1 added, 1 rejected" in out
    assert "row 3, Customer '无此公司': no customer is called '无此公司'" in out
    timeline = write_csv(tmp_path / "t.csv", [["日期", "客户", "类型", "内容", "金额"],
                                              ["2026-01-05", "李娜", "采购", "年货", "800"]])
    assert main(["--db", db_url, "--lang", "zh", "import", str(timeline), "--into", "timeline"]) == 0
    assert "大事记：读取 1 行 —— 新增 1" in capsys.readouterr().out
    store = Store.open(db_url, user="tester")
    assert [c.name for c in store.contacts(cid)] == ["王总"]
    assert store.get_customer(cid).purchase_total == 800
    store.close()
