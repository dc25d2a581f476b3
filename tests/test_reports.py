"""Report numbers against the hand-computed data set of report_data.py (as of 2024-07-01).

On top of the purchases (see test_segments.py) the tests add:
    opportunities  A 40 000 (follow-up 2024-07-15), B 25 000 (no date),
                   C 10 000 (follow-up 2024-06-10, overdue), D 7 000 (done: closed)
    a call of A with a follow-up on 2024-06-20 (overdue)
    A and E last verified on 2023-01-01 (due); owners A, B 王磊 · C, D 李娜 · E none
    acquired: A 2024-06-15, B 2024-06-02, C 2023-12-20, D 2020-01-01
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from kehu.models import reports, segments, timeline, verify
from report_data import TODAY, build


@pytest.fixture
def ids(store):
    ids = build(store)
    store.add_interaction(ids["A"], "opportunity", amount=40000,
                          next_follow_up=dt.date(2024, 7, 15))
    store.add_interaction(ids["B"], "opportunity", amount=25000)
    store.add_interaction(ids["C"], "opportunity", amount=10000,
                          next_follow_up=dt.date(2024, 6, 10))
    closed = store.add_interaction(ids["D"], "opportunity", amount=7000,
                                   next_follow_up=dt.date(2024, 6, 1))
    timeline.mark_follow_up_done(store, closed.id)
    store.add_interaction(ids["A"], "call", next_follow_up=dt.date(2024, 6, 20))
    for name in ("A", "E"):
        verify.mark_verified(store, ids[name], when=dt.datetime(2023, 1, 1, 9))
    for name, day in {"A": "2024-06-15", "B": "2024-06-02", "C": "2023-12-20",
                      "D": "2020-01-01"}.items():
        store.update_customer(ids[name], {"acquired_on": day})
    segments.recompute(store, TODAY)
    return ids


def run(store, name, **scope):
    return reports.run(store, name, reports.scope(store, **scope), today=TODAY)


def col(report, key):
    return [row[key] for row in report.rows]


def test_customers_by_region_sums_per_region(store, ids):
    report = run(store, "by_region")
    assert col(report, "value") == ["North", "East", "South"]      # the schema's order
    assert col(report, "customers") == [2, 3, 2]
    assert col(report, "purchases") == [Decimal("80000.00"), Decimal("120000.00"),
                                        Decimal("21000.00")]
    assert col(report, "share") == [Decimal("28.6"), Decimal("42.9"), Decimal("28.6")]
    assert report.totals["customers"] == 7                         # the deleted one is out
    assert report.totals["purchases"] == Decimal("221000.00")


def test_customers_by_grade_and_segment(store, ids):
    grade = run(store, "by_grade")
    assert [(r["key"], r["customers"], r["purchases"]) for r in grade.rows] == [
        ("A", 2, Decimal("180000.00")), ("B", 2, Decimal("20000.00")),
        ("C", 2, Decimal("21000.00")), ("D", 1, Decimal("0.00"))]
    seg = run(store, "by_segment")
    assert [(r["key"], r["customers"]) for r in seg.rows] == [
        # D (396 days) is lost: the one definition of lost, the stage's too (issue 18)
        (None, 2), ("high_value", 1), ("potential", 1), ("normal", 1), ("lost", 2)]
    assert seg.rows[0]["value"] == "(empty)"


def test_customers_by_stage(store, ids):
    report = run(store, "by_stage")
    assert {r["key"]: r["customers"] for r in report.rows} == {
        "lead": 2, "growth": 2, "retention": 1, "lost": 2}


def test_sales_by_month_and_quarter(store, ids):
    month = run(store, "sales_month")
    assert col(month, "period")[0] == "2023-08" and col(month, "period")[-1] == "2024-07"
    got = {r["period"]: (r["orders"], r["amount"], r["buyers"]) for r in month.rows if r["orders"]}
    assert got == {"2023-12": (1, Decimal("80000.00"), 1), "2024-03": (1, Decimal("20000.00"), 1),
                   "2024-05": (1, Decimal("30000.00"), 1), "2024-06": (3, Decimal("70000.00"), 2)}
    assert (month.totals["orders"], month.totals["amount"], month.totals["buyers"]) == \
        (6, Decimal("200000.00"), 3)
    quarter = run(store, "sales_quarter")
    assert col(quarter, "period") == ["2022 Q4", "2023 Q1", "2023 Q2", "2023 Q3", "2023 Q4",
                                      "2024 Q1", "2024 Q2", "2024 Q3"]
    assert col(quarter, "orders") == [1, 1, 3, 0, 1, 1, 4, 0]
    assert col(quarter, "amount") == [Decimal(x) for x in (
        "1000.00", "5000.00", "15000.00", "0.00", "80000.00", "20000.00", "100000.00", "0.00")]
    assert (quarter.totals["amount"], quarter.totals["buyers"]) == (Decimal("221000.00"), 5)


def test_pipeline_by_stage_and_expected_close(store, ids):
    report = run(store, "pipeline")
    assert {r["key"]: (r["opportunities"], r["amount"]) for r in report.rows if r["opportunities"]} \
        == {"growth": (2, Decimal("65000.00")), "retention": (1, Decimal("10000.00"))}
    assert report.totals["amount"] == Decimal("75000.00")          # D's closed one is out
    close = run(store, "pipeline_close")
    got = {r["close"]: (r["opportunities"], r["amount"]) for r in close.rows}
    assert got["earlier"] == (1, Decimal("10000.00"))
    assert got["2024-07"] == (1, Decimal("40000.00"))
    assert got["(no date)"] == (1, Decimal("25000.00"))
    assert col(close, "close")[1:7] == ["2024-07", "2024-08", "2024-09", "2024-10", "2024-11",
                                        "2024-12"]


def test_top_customers(store, ids):
    report = run(store, "top")
    assert col(report, "name") == ["客户A", "客户C", "客户B", "客户D", "客户E"]
    assert col(report, "purchases")[:2] == [Decimal("100000.00"), Decimal("80000.00")]
    assert col(report, "segment")[:2] == ["High value", "Normal"]
    assert report.totals["purchases"] == Decimal("221000.00")
    assert report.totals["share"] == Decimal("100.0")


def test_new_customers_per_month(store, ids):
    report = run(store, "new_customers")
    got = {r["month"]: r["new"] for r in report.rows if r["new"]}
    assert got == {"2023-12": 1, "2024-06": 2}
    assert report.totals["new"] == 3


def test_overdue_follow_ups_and_verifications_per_owner(store, ids):
    report = run(store, "overdue")
    assert [(r["owner"], r["overdue"], r["verify_due"]) for r in report.rows] == [
        ("王磊", 1, 1), ("李娜", 1, 0), ("(no owner)", 0, 1)]
    assert (report.totals["overdue"], report.totals["verify_due"]) == (2, 2)


def test_reports_follow_a_filter_and_a_saved_view(store, ids):
    report = run(store, "by_grade", query="region:华东")
    assert [(r["key"], r["customers"]) for r in report.rows] == [("A", 1), ("B", 2)]
    assert report.scope == "filter: region:华东"
    sales = run(store, "sales_month", query="grade:A")
    assert sales.totals["amount"] == Decimal("180000.00")          # A and C only
    from kehu.models.views import View, save_view

    save_view(View("east", {"en": "East", "zh": "华东"}, query="region:华东"), store.schema)
    report = run(store, "by_region", view="East")
    assert col(report, "customers") == [3]
    assert report.scope == "view: East"
    report = run(store, "top", view="east", query="grade:B")
    assert col(report, "name") == ["客户B"]


def test_unknown_report_or_view_says_what_exists(store):
    with pytest.raises(reports.ReportError, match="unknown report 'sales'.*by_grade"):
        reports.run(store, "sales")
    with pytest.raises(reports.ReportError, match="unknown view 'nope'.*roster"):
        reports.scope(store, view="nope")


def test_report_found_by_title_in_either_language(store):
    assert reports.find("按区域统计客户") == "by_region"
    assert reports.find("Top customers") == "top"


def test_exports(store, ids, tmp_path):
    report = run(store, "by_region")
    out = io.StringIO()
    report.to_csv(out)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["Region", "Customers", "Share", "Purchases"]
    assert lines[2] == ["East", "3", "42.9", "120000.00"]
    assert lines[-1] == ["Total", "7", "100.0", "221000.00"]
    data = json.loads(report.to_json())
    assert data["rows"][1]["customers"] == 3 and data["totals"]["purchases"] == "221000.00"
    from openpyxl import load_workbook

    path = tmp_path / "r.xlsx"
    report.to_xlsx(path)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Customers by region"
    assert rows[2] == ("Region", "Customers", "Share", "Purchases")
    assert rows[4][:2] == ("East", 3) and float(rows[4][3]) == 120000
    assert rows[-1][0] == "Total" and rows[-1][1] == 7


def test_formatted_table_for_the_screen(store, ids):
    table = run(store, "by_region").table()
    assert table[0] == ["Region", "Customers", "Share", "Purchases"]
    assert table[2] == ["East", "3", "42.9%", "120,000.00"]
    assert table[-1] == ["Total", "7", "100.0%", "221,000.00"]
