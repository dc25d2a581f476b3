"""Export to CSV (UTF-8 with BOM) and XLSX, and the round trip back through import."""
import csv
import datetime as dt

import openpyxl
import pytest

from kehu.models.exporter import ExportFailed, export, export_view
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.results import ResultSet

FULL = {"name": "张三", "customer_type": "company", "gender": "male", "birthday": "1980-05-17",
        "age": "44", "external_id": "C-0001", "company": "北京星辰科技有限公司", "department": "采购部",
        "title": "总经理", "mobile": "13800138000", "phone": "010-6552 9988",
        "email": "zhangsan@example.com", "address": "北京市朝阳区建国路 1 号", "city": "北京",
        "region": "华北", "industry": "it", "source": "exhibition", "acquired_on": "2023-03-05",
        "satisfaction": "9.5", "credit_rating": "AA", "scale": "medium", "grade": "A",
        "stage": "growth", "owner": "tester", "tags": "vip,老客户", "notes": "第一行\n第二行, 有逗号",
        "interests": "高尔夫,茶道", "wechat": "zhangsan_88", "marketing_opt_in": "yes",
        "social": "weibo: @zs", "headcount": "120", "registered_capital": "1500000.5",
        "website": "https://xingchen.example.com", "household": "三口之家", "income_band": "gt1m",
        "education": "master"}


def values_of(store, row):
    return {k: getattr(row, k) for k in store.schema.keys if not store.schema[k].computed}


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_keeps_every_value(store, tmp_path, suffix):
    full = {k: v for k, v in FULL.items() if k in store.schema}
    first = store.create_customer(full)
    second = store.create_customer({"name": "Ada Lovelace", "marketing_opt_in": "no"})
    path = tmp_path / f"out{suffix}"
    result = export(store, path)
    assert result.rows == 2
    source = open_source(path)
    mapping = auto_mapping(store.schema, source)
    imported = run_import(store, source, mapping)
    assert (imported.created, imported.rejected) == (2, 0), imported.problems
    C = store.Customer
    copies = {r.name: r for r in store.customers().where(C.import_batch == imported.batch_id)}
    assert values_of(store, copies["张三"]) == values_of(store, store.get_customer(first.id))
    assert values_of(store, copies["Ada Lovelace"]) == values_of(store, store.get_customer(second.id))


def test_csv_has_a_bom_labels_and_readable_values(store, tmp_path):
    store.create_customer({"name": "张三", "mobile": "13800138000", "grade": "A",
                           "registered_capital": "1500000"})
    path = tmp_path / "out.csv"
    export(store, path)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["Name"] == "张三"
    assert rows[0]["Mobile"] == "138 0013 8000"
    assert rows[0]["Grade"] == "A key"
    assert rows[0]["Registered capital"] == "1500000.00"


def test_a_view_exports_its_rows_and_columns_in_its_order(store, tmp_path):
    for name, grade, credit in (("甲", "A", "AA"), ("乙", "B", "AAA"), ("丙", "A", "AAA")):
        store.create_customer({"name": name, "grade": grade, "credit_rating": credit,
                               "company": f"{name}公司"})
    path = tmp_path / "grades.xlsx"
    result = export_view(store, path, "Grade table", search="grade:A")
    assert result.rows == 2
    ws = openpyxl.load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["Name", "Company", "Credit", "Scale", "Grade", "Purchases", "Owner"]
    assert [r[0] for r in rows[1:]] == ["丙", "甲"]  # the view's sort: credit rating first
    with pytest.raises(ExportFailed, match="no view called 'nope'"):
        export_view(store, path, "nope")


def test_a_query_export(store, tmp_path):
    for name, grade in (("甲", "A"), ("乙", "B")):
        store.create_customer({"name": name, "grade": grade})
    result = export(store, tmp_path / "q.csv", rows=ResultSet(store, "grade:B"), columns=["name"])
    assert result.rows == 1
    assert (tmp_path / "q.csv").read_text(encoding="utf-8-sig").splitlines() == ["Name", "乙"]


def test_bad_targets_get_one_sentence(store, tmp_path):
    with pytest.raises(ExportFailed, match=r"\.csv or \.xlsx"):
        export(store, tmp_path / "out.txt")
    with pytest.raises(ExportFailed, match="no such folder"):
        export(store, tmp_path / "missing" / "out.csv")


def test_dates_stay_dates_in_xlsx(store, tmp_path):
    store.create_customer({"name": "A", "acquired_on": "2023-03-05", "headcount": "12"})
    export(store, tmp_path / "d.xlsx", columns=["name", "acquired_on", "headcount"])
    ws = openpyxl.load_workbook(tmp_path / "d.xlsx").active
    row = [c.value for c in next(ws.iter_rows(min_row=2))]
    assert row == ["A", dt.datetime(2023, 3, 5), 12]


def test_kehu_export_command(store, tmp_path, capsys):
    from kehu.tui.cli import main

    store.create_customer({"name": "甲", "grade": "A"})
    store.create_customer({"name": "乙", "grade": "B"})
    url = store.url
    store.close()
    out = tmp_path / "a.csv"
    assert main(["--db", url, "export", "-o", str(out), "--query", "grade:A",
                 "--columns", "name,客户等级"]) == 0
    assert "1 customers, 2 columns" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["Name,Grade", "甲,A key"]
    assert main(["--db", url, "export", "-o", str(tmp_path / "v.xlsx"), "--view", "roster"]) == 0
    assert main(["--db", url, "export", "-o", str(out), "--query", "grade:"]) == 2
    assert main(["--db", url, "export", "-o", str(tmp_path / "x.txt")]) == 2
    assert ".csv or .xlsx" in capsys.readouterr().err
