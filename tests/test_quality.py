"""Data quality (models/quality.py, `kehu quality`, the reports screen's `d`): completeness
per important field and per customer, verification overdue, legacy values that no
longer validate — each a list that opens its customers. A small world on a frozen
day, SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from kehu.models import quality, query, reports
from kehu.models.results import ResultSet
from kehu.models.schema import SchemaError, load_default_schema, parse_schema
from kehu.models.store import Store
from kehu.tui.cli import main

TODAY = dt.date(2026, 3, 15)
IMPORTANT = ["name", "company", "mobile", "email", "address", "region", "industry", "source",
             "grade", "owner"]


@pytest.fixture(autouse=True)
def frozen_day(monkeypatch):
    monkeypatch.setattr(query, "_today", lambda: TODAY)


def make_world(store):
    """Five customers: full, half, bare (owner only), and two with values typed before
    today's rules (an e-mail and a region no rule accepts)."""
    C = store.Customer
    full = {"company": "星辰科技", "mobile": "13800138000", "email": "a@example.com",
            "address": "北京市朝阳区", "region": "华北", "industry": "it", "source": "website",
            "grade": "A", "owner": "王磊"}
    ids = {"full": store.create_customer({"name": "全", **full}).id,
           "half": store.create_customer({"name": "半", "company": "某公司", "mobile": "13900139000",
                                          "region": "华东", "owner": "王磊"}).id,
           "bare": store.create_customer({"name": "空", "owner": "王磊"}).id,
           "bad_email": store.create_customer({"name": "旧邮箱", **full}).id,
           "bad_region": store.create_customer({"name": "旧区域", **full}).id}
    # legacy values: stored before the rules, bypassing validation
    C.update(email="not-an-email").where(C.id == ids["bad_email"]).execute()
    C.update(region="火星", age=200).where(C.id == ids["bad_region"]).execute()
    # three were entered long ago and never verified; "full" was verified yesterday
    C.update(created_at=dt.datetime(2024, 1, 1)).where(C.id != ids["half"]).execute()
    C.update(created_at=dt.datetime(2026, 3, 1)).where(C.id == ids["half"]).execute()
    from kehu.models import verify
    verify.mark_verified(store, ids["full"], when=dt.datetime(2026, 3, 14, 9))
    return ids


def ids_of(store, text):
    return sorted(r["id"] for r in ResultSet(store, text).page(0, 100))


def test_the_schema_marks_important_fields_and_checks_the_key(tmp_path):
    assert [f.key for f in quality.important_fields(load_default_schema())] == IMPORTANT
    path = tmp_path / "schema.yaml"
    path.write_text("extends: default\nfields:\n  - key: wechat\n    important: yes please\n",
                    encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        parse_schema(path)
    assert "important" in str(caught.value) and ":4" in str(caught.value)
    path.write_text("extends: default\nfields:\n  - key: purchase_total\n    important: true\n",
                    encoding="utf-8")
    with pytest.raises(SchemaError) as caught:
        parse_schema(path)
    assert "computed field cannot be important" in str(caught.value)
    path.write_text("extends: default\nfields:\n  - key: wechat\n    important: true\n"
                    "  - key: address\n    important: false\n", encoding="utf-8")
    keys = [f.key for f in quality.important_fields(parse_schema(path))]
    assert "wechat" in keys and "address" not in keys


def test_completeness_per_field_and_per_customer(store):
    ids = make_world(store)
    total, filled, average = quality.field_counts(store, reports.scope(store))
    assert total == 5
    assert filled["name"] == 5 and filled["owner"] == 5
    assert filled["mobile"] == 4 and filled["email"] == 3 and filled["industry"] == 3
    # per customer: full 100, half 50 (name company mobile region owner), bare 20
    assert ids_of(store, "completeness<50") == [ids["bare"]]
    assert ids_of(store, "completeness=50") == [ids["half"]]
    assert ids_of(store, "completeness>=100") == sorted([ids["full"], ids["bad_email"],
                                                         ids["bad_region"]])
    assert ids_of(store, "-completeness<100") == ids_of(store, "完整度=100")
    assert average == Decimal("74.0")                   # (100 * 3 + 50 + 20) / 5
    assert ids_of(store, "email:empty") == sorted([ids["half"], ids["bare"]])


def test_the_completeness_word_reads_its_index_on_sqlite(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    names = [i.name for i in store.db.get_indexes("customer")]
    assert quality.index_name(store.schema) in names
    sql = quality.completeness_sql(store.schema)
    plan = store.db.execute_sql(f"EXPLAIN QUERY PLAN SELECT id FROM customer WHERE {sql} < 50"
                                ).fetchall()
    assert quality.index_name(store.schema) in str(plan)
    store.close()


def test_a_bad_completeness_word_says_what_it_takes(store):
    with pytest.raises(query.QueryError) as caught:
        ResultSet(store, "completeness<lots")
    assert "0–100" in caught.value.message
    with pytest.raises(query.QueryError) as caught:
        ResultSet(store, "invalid:birthday")
    assert "email" in caught.value.message


def test_legacy_values_that_no_longer_validate_are_found_in_batches(store):
    ids = make_world(store)
    counts = quality.scan(store, batch=2)               # three batches of two
    assert counts == {"email": 1, "region": 1, "age": 1}
    assert ids_of(store, "invalid:email") == [ids["bad_email"]]
    assert ids_of(store, "invalid:*") == sorted([ids["bad_email"], ids["bad_region"]])
    report = reports.run(store, "quality", today=TODAY)
    invalid = {r["item"]: r for r in report.rows if r["kind"] == "invalid"}
    assert invalid["Email"]["customers"] == 1 and invalid["Email"]["detail"] == "not-an-email"
    assert invalid["Region"]["detail"] == "火星" and invalid["Region"]["query"] == "invalid:region"
    # fixed since the scan: off the list at once
    store.update_customer(ids["bad_email"], {"email": "fixed@example.com"})
    assert ids_of(store, "invalid:email") == []


def test_the_report_lines_and_their_queries(store):
    ids = make_world(store)
    report = reports.run(store, "quality", today=TODAY)
    by_query = {r["query"]: r for r in report.rows}
    assert by_query["email:empty"]["customers"] == 2
    assert by_query["email:empty"]["share"] == Decimal("40.0")
    assert by_query["email:empty"]["detail"] == "60.0% filled"
    assert by_query["completeness<50"]["customers"] == 1
    assert by_query["completeness>=50 completeness<80"]["customers"] == 1
    # created 2024 and never verified: due; "full" verified yesterday; "half" is new
    assert by_query["verify:credit"]["customers"] == 3
    assert ids_of(store, "verify:credit") == sorted([ids["bare"], ids["bad_email"],
                                                     ids["bad_region"]])
    assert ids_of(store, "核实:due") == ids_of(store, "verify:credit")
    not_scanned = [r for r in report.rows if r["kind"] == "invalid"]
    assert not_scanned[0]["item"] == "not scanned yet" and not_scanned[0]["query"] is None
    assert report.totals["customers"] == 5
    scoped = reports.run(store, "quality", reports.scope(store, query="region:华东"), today=TODAY)
    assert scoped.totals["customers"] == 1
    assert {r["query"]: r for r in scoped.rows}["email:empty"]["customers"] == 1


def test_kehu_quality_prints_the_lists_and_json(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = Store.open(url, user="tester")
    ids = make_world(store)
    store.close()
    code = main(["--db", url, "--user", "tester", "--lang", "en", "quality", "--today",
                 TODAY.isoformat()])
    out = capsys.readouterr().out
    assert code == 0
    assert "Email: 2 (40.0%)  60.0% filled  → email:empty" in out
    assert "Email: 1 (20.0%)  not-an-email  → invalid:email" in out     # scanned: none before
    code = main(["--db", url, "--user", "tester", "--lang", "zh", "quality", "--json",
                 "--no-scan", "--query", "grade:A"])
    data = json.loads(capsys.readouterr().out)
    assert data["customers"] == 3 and data["fields"]["email"]["filled"] == 3   # a bad one is filled
    lists = {item["query"]: item for item in data["lists"] if item["query"]}
    assert lists["invalid:email"]["customers"] == 1
    assert lists["invalid:region"]["customers"] == 1
    assert ids["bad_email"]


async def test_each_line_opens_its_customers_in_the_workbench(sqlite_url):
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.reports import DrillScreen, ReportsScreen, ReportTable

    store = Store.open(sqlite_url, user="tester")
    ids = make_world(store)
    quality.scan(store)
    app = KehuApp(store)
    async with app.run_test(size=(120, 35)) as pilot:
        for _ in range(3):
            await app.workers.wait_for_complete()
            await pilot.pause()
        await app.push_screen(ReportsScreen(today=TODAY))
        await pilot.pause()
        await pilot.press("d")
        screen = app.screen
        for _ in range(4):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert screen.report.key == "quality"
        table = screen.query_one(ReportTable)
        cells = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
        email_row = next(i for i, r in enumerate(cells) if r[1] == "Email" and r[0] == "Empty")
        for _ in range(email_row):
            await pilot.press("down")
        await pilot.press("enter")
        for _ in range(4):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert isinstance(app.screen, DrillScreen)
        assert app.screen.search_text == "email:empty"
        assert app.screen.table.row_count == 2
        await pilot.press("escape")
        await pilot.pause()
        invalid_row = next(i for i, r in enumerate(cells) if r[0] == "Invalid" and r[1] == "Region")
        table.move_cursor(row=invalid_row)
        screen.drill(invalid_row)
        for _ in range(4):
            await app.workers.wait_for_complete()
            await pilot.pause()
        assert app.screen.search_text == "invalid:region"
        assert app.screen.table.row_count == 1
    assert ids["bad_region"]
    store.close()


def test_customers_sort_by_completeness(store):
    ids = make_world(store)
    least = [r["id"] for r in ResultSet(store, "", sort="completeness").page(0, 2)]
    assert least == [ids["bare"], ids["half"]]
    most = [r["id"] for r in ResultSet(store, "completeness<100", sort="-完整度").page(0, 5)]
    assert most == [ids["half"], ids["bare"]]


def test_the_completeness_index_follows_the_important_fields(store, tmp_path):
    names = [i.name for i in store.db.get_indexes("customer")]
    assert quality.index_name(store.schema) in names
    path = tmp_path / "schema.yaml"
    path.write_text("extends: default\nfields:\n  - key: wechat\n    important: true\n",
                    encoding="utf-8")
    other = Store(store.db, parse_schema(path), user="tester")
    quality.ensure_index(other)
    names = [i.name for i in store.db.get_indexes("customer")]
    assert quality.index_name(other.schema) in names
    assert quality.index_name(store.schema) not in names    # the old set's index is gone
