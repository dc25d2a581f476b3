"""Money is exact and range-checked (issue 14 point 10).

SQLite has no exact decimal column: kehu kept money in a DECIMAL column, which SQLite
stores as a double, so 99999999999999999.99 came back as 1e17, sums drifted by a cent and
1e30 crashed. Money now lives in minor units (cents) on SQLite and in NUMERIC on
PostgreSQL, every value within ±9,999,999,999,999.99 (15 digits).
"""
import csv
import datetime as dt
import textwrap
from decimal import Decimal

import openpyxl
import peewee
import pytest

from kehu.models import reports, store as store_module, timeline
from kehu.models.exporter import export
from kehu.models.i18n import tr
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.results import ResultSet
from kehu.models.schema import load_schema
from kehu.models.store import Store
from kehu.models.validate import FieldError, RecordInvalid, display

LIMIT = "9,999,999,999,999.99"
TODAY = dt.date.today()

SCHEMA = """
groups: [{key: main, label: Main}]
fields:
  - {key: name, label: Name, type: text, group: main, required: true, in_table: true}
  - {key: balance, label: Balance, type: money, group: main, index: true}
  - {key: fee, label: Fee, type: money, group: main}
  - {key: grade, label: Grade, type: choice, group: main, choices: [A, B]}
"""


def small_store(db_url, tmp_path):
    path = tmp_path / "money.yaml"
    path.write_text(textwrap.dedent(SCHEMA), encoding="utf-8")
    return Store.open(db_url, load_schema(path), user="tester")


def sqlite_path(store):
    return store.url.removeprefix("sqlite:///")


def raw(store, sql):
    return store.db.execute_sql(sql).fetchall()


# --- range -------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["99999999999999999.99", "1e30", "-1e30", "10000000000000",
                                   "1e100000"])
def test_money_past_the_range_is_refused_with_the_limit(store, typed):
    with pytest.raises(RecordInvalid) as caught:
        store.create_customer({"name": "张三", "registered_capital": typed})
    error = caught.value.errors["registered_capital"]
    assert isinstance(error, FieldError)
    assert str(error) == tr("validate.field_message", label=error.label, message=tr(
        "money.out_of_range", value=typed, limit=LIMIT))
    assert LIMIT in str(caught.value) and typed in str(caught.value)
    assert store.count_customers() == 0


def test_the_limit_is_said_in_chinese_too(store):
    from kehu.models import i18n

    before = i18n.get_lang()
    i18n.set_lang("zh")
    try:
        with pytest.raises(RecordInvalid) as caught:
            store.create_customer({"name": "张三", "registered_capital": "1e30"})
        assert "超出范围" in str(caught.value) and LIMIT in str(caught.value)
    finally:
        i18n.set_lang(before)


def test_the_largest_money_values_are_kept_exactly(db_url, tmp_path):
    store = small_store(db_url, tmp_path)
    for value in ("9999999999999.99", "-9999999999999.99", "0.01", "1234567890123.45"):
        row = store.create_customer({"name": value, "balance": value})
        assert store.get_customer(row.id).balance == Decimal(value)
        assert str(store.get_customer(row.id).balance) == value
    store.close()


def test_a_decimal_field_past_the_range_is_a_field_error_not_a_crash(store):
    # satisfaction='1e40' raised decimal.InvalidOperation out of validation
    with pytest.raises(RecordInvalid) as caught:
        store.create_customer({"name": "张三", "satisfaction": "1e40"})
    assert "satisfaction" in caught.value.errors


def test_a_timeline_amount_past_the_range_is_refused(store):
    customer = store.create_customer({"name": "张三"})
    with pytest.raises(RecordInvalid) as caught:
        timeline.add_entry(store, customer.id, "purchase", amount="1e30")
    assert LIMIT in str(caught.value)
    with pytest.raises(FieldError):   # the store's own call (used by demo and tools) too
        store.add_interaction(customer.id, "purchase", amount="1e30")
    entry = timeline.add_entry(store, customer.id, "purchase", amount="9999999999999.99")
    assert timeline.get_entry(store, entry.id).amount == Decimal("9999999999999.99")
    # a second such purchase would make a total no column keeps exactly
    with pytest.raises(FieldError) as caught:
        timeline.add_entry(store, customer.id, "purchase", amount="1")
    assert "10,000,000,000,000.99" in str(caught.value)
    assert store.get_customer(customer.id).purchase_total == Decimal("9999999999999.99")
    assert timeline.summary(store, customer.id).purchases == Decimal("9999999999999.99")


# --- sums --------------------------------------------------------------------------

def test_sums_are_exact_in_the_summary_line_and_the_groups(store):
    for i, value in enumerate(("0.10", "0.20", "0.30")):
        store.create_customer({"name": f"客户{i}", "registered_capital": value, "grade": "A"})
    rs = ResultSet(store, "")
    total = rs.sums(["registered_capital"])["registered_capital"]
    assert total == Decimal("0.60") and str(total) == "0.60"   # not 0.6000000000000001
    (group,) = rs.groups("grade", sums=["registered_capital"])
    assert str(group.sums["registered_capital"]) == "0.60"


def test_a_sum_of_big_amounts_shows_the_right_cent(store):
    # as doubles these three add up to ...214.305, shown as ...214.30
    values = ("9739838627776.54", "9827586914050.62", "4111315636387.15")
    for i, value in enumerate(values):
        store.create_customer({"name": f"客户{i}", "registered_capital": value})
    spec = store.schema["registered_capital"]
    total = ResultSet(store, "").sums(["registered_capital"])["registered_capital"]
    assert total == sum(map(Decimal, values))
    assert display(spec, total) == "23,678,741,178,214.31"


def test_purchases_of_ten_twenty_and_thirty_cents_report_sixty(store):
    for i, amount in enumerate(("0.10", "0.20", "0.30")):
        customer = store.create_customer({"name": f"客户{i}", "grade": "A", "region": "华东"})
        timeline.add_entry(store, customer.id, "purchase", amount=amount,
                           occurred_at=dt.datetime.combine(TODAY, dt.time(10)))
        timeline.add_entry(store, customer.id, "opportunity", amount=amount,
                           next_follow_up=TODAY)
    rs = ResultSet(store, "")
    assert str(rs.sums(["purchase_total"])["purchase_total"]) == "0.60"
    by_grade = reports.run(store, "by_grade", rs, today=TODAY)
    assert str(by_grade.totals["purchases"]) == "0.60"
    sales = reports.run(store, "sales_month", rs, today=TODAY)
    assert [str(r["amount"]) for r in sales.rows][-1] == "0.60"
    assert str(sales.totals["amount"]) == "0.60"
    assert str(reports.run(store, "pipeline", rs, today=TODAY).totals["amount"]) == "0.60"
    assert str(reports.run(store, "pipeline_close", rs, today=TODAY).totals["amount"]) == "0.60"
    assert str(reports.run(store, "top", rs, today=TODAY).totals["purchases"]) == "0.60"


def test_a_sum_past_what_sqlite_integers_hold_is_still_exact(sqlite_url, tmp_path):
    # 1000 customers at the limit: 10^16 yuan is 10^18 cents, ten of those pass 2**63
    store = small_store(sqlite_url, tmp_path)
    top = Decimal("9999999999999.99")
    store.bulk_insert_customers({"name": str(i), "balance": top, "grade": "A"}
                                for i in range(1000))
    rs = ResultSet(store, "")
    assert rs.sums(["balance"])["balance"] == top * 1000
    (group,) = rs.groups("grade", sums=["balance"])
    assert group.sums["balance"] == top * 1000
    store.close()


# --- sorting and querying ------------------------------------------------------------

@pytest.mark.parametrize("direction", ["asc", "desc"])
def test_sorting_by_money_with_negative_and_big_values(db_url, tmp_path, direction):
    store = small_store(db_url, tmp_path)
    values = ["-5.00", "0.01", "-9999999999999.99", "9999999999999.99", "100.00", "0.00",
              "9999999999999.98", "-0.01", None]
    for i, value in enumerate(values):
        store.create_customer({"name": f"c{i}", "balance": value})
    rows = ResultSet(store, "", sort=[("balance", direction)]).page(0, 20)
    got = [r["balance"] for r in rows]
    numbers = sorted((Decimal(v) for v in values if v is not None),
                     reverse=direction == "desc")
    # NULLs first ascending, last descending (the order kehu uses on both databases)
    expected = [None, *numbers] if direction == "asc" else [*numbers, None]
    assert got == expected
    assert [str(v) for v in got if v is not None] == [str(v) for v in numbers]
    names = {r.name for r in ResultSet(store, "balance>0.005").select()}
    assert names == {"c1", "c3", "c4", "c6"}
    assert {r.name for r in ResultSet(store, "balance<=-0.01").select()} == {"c0", "c2", "c7"}
    assert {r.name for r in ResultSet(store, "balance:9999999999999.99").select()} == {"c3"}
    assert ResultSet(store, "balance>9999999999999999").count() == 0
    store.close()


def test_sqlite_keeps_money_as_integer_cents(sqlite_url, tmp_path):
    store = small_store(sqlite_url, tmp_path)
    store.create_customer({"name": "张三", "balance": "12.34", "fee": "-0.5"})
    assert raw(store, "SELECT typeof(balance), balance, fee FROM customer") == [
        ("integer", 1234, -50)]
    store.close()


# --- migration of a database made before ---------------------------------------------

def _old_money_field(decimals, postgres, **opts):
    """How kehu stored money before: a DECIMAL column (a double in SQLite)."""
    return peewee.DecimalField(max_digits=18, decimal_places=decimals, auto_round=True, **opts)


def test_an_old_database_with_double_money_is_migrated_once(sqlite_url, tmp_path, monkeypatch):
    with monkeypatch.context() as old:
        old.setattr(store_module, "money_field", _old_money_field)
        old.setattr(store_module, "migrate_money", lambda store: [])
        store = Store.open(sqlite_url, user="tester")
        for i, value in enumerate(("0.10", "0.20", "0.30", "1234567890123.45")):
            customer = store.create_customer({"name": f"客户{i}", "registered_capital": value})
            store.add_interaction(customer.id, "purchase", amount=Decimal(value))
        store.db.execute_sql("DELETE FROM kehu_meta WHERE key = ?", (store_module.MONEY_META,))
        types = raw(store, "SELECT DISTINCT typeof(registered_capital), typeof(purchase_total) "
                           "FROM customer")
        assert types == [("real", "real")]   # what the old code left
        assert raw(store, "SELECT SUM(registered_capital) FROM customer WHERE id <= 3") != [(0.6,)]
        store.close()

    store = Store.open(sqlite_url, user="tester")
    assert raw(store, "SELECT DISTINCT typeof(registered_capital), typeof(purchase_total) "
                      "FROM customer") == [("integer", "integer")]
    assert raw(store, "SELECT DISTINCT typeof(amount) FROM interaction") == [("integer",)]
    assert [str(c.registered_capital) for c in store.customers().order_by(store.Customer.id)] \
        == ["0.10", "0.20", "0.30", "1234567890123.45"]
    assert [str(c.purchase_total) for c in store.customers().order_by(store.Customer.id)] \
        == ["0.10", "0.20", "0.30", "1234567890123.45"]
    assert str(ResultSet(store, "registered_capital<1").sums()["registered_capital"]) == "0.60"
    assert store.get_meta(store_module.MONEY_META)["customer.registered_capital"] == 2
    # recorded: a second open converts nothing (the cents are not multiplied again)
    assert store_module.migrate_money(store) == []
    store.close()
    store = Store.open(sqlite_url, user="tester")
    assert str(store.get_customer(4).registered_capital) == "1234567890123.45"
    store.close()


def test_changing_the_decimals_of_a_money_field_rescales_it(sqlite_url, tmp_path):
    store = small_store(sqlite_url, tmp_path)
    store.create_customer({"name": "张三", "balance": "12.34"})
    store.close()
    path = tmp_path / "money3.yaml"
    path.write_text(textwrap.dedent(SCHEMA).replace(
        "type: money, group: main, index: true", "type: money, group: main, index: true, decimals: 3"),
        encoding="utf-8")
    store = Store.open(sqlite_url, load_schema(path), user="tester")
    assert store.get_customer(1).balance == Decimal("12.340")
    assert raw(store, "SELECT balance FROM customer") == [(12340,)]
    store.close()


# --- import and export -------------------------------------------------------------------

def test_import_stores_exact_values_and_rejects_the_row_past_the_range(store, tmp_path):
    path = tmp_path / "in.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["姓名", "注册资本"])
        writer.writerows([["甲", "9999999999999.99"], ["乙", "1e30"], ["丙", "0.10"],
                          ["丁", "1234567890123.45"], ["戊", "99999999999999999.99"]])
    source = open_source(path)
    result = run_import(store, source, auto_mapping(store.schema, source))
    assert (result.created, result.rejected) == (3, 2)
    assert {p.row for p in result.problems} == {3, 6}
    assert all(LIMIT in p.reason for p in result.problems)
    got = {c.name: str(c.registered_capital) for c in store.customers()}
    assert got == {"甲": "9999999999999.99", "丙": "0.10", "丁": "1234567890123.45"}
    if not store.is_postgres:
        assert raw(store, "SELECT DISTINCT typeof(registered_capital) FROM customer") == [
            ("integer",)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_prints_the_exact_value(store, tmp_path, suffix):
    for name, value in (("甲", "9999999999999.99"), ("乙", "0.10"), ("丙", "1234567890123.45")):
        store.create_customer({"name": name, "registered_capital": value})
    path = tmp_path / f"out{suffix}"
    export(store, path, columns=["name", "registered_capital"])
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))[1:]
        assert rows == [["甲", "9999999999999.99"], ["乙", "0.10"], ["丙", "1234567890123.45"]]
    else:
        sheet = openpyxl.load_workbook(path).active
        cells = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
        # a spreadsheet number is a double: 15 digits are exact, which is why the limit is there
        assert [Decimal(repr(c)).quantize(Decimal("0.01")) for c in cells] == [
            Decimal("9999999999999.99"), Decimal("0.10"), Decimal("1234567890123.45")]


# --- kept fixed: any amounts within range, on both databases ---------------------------

from hypothesis import given, settings, strategies as st  # noqa: E402

CENTS = 10 ** 15 - 1
amounts = st.lists(st.integers(-CENTS, CENTS).map(lambda c: Decimal(c).scaleb(-2)),
                   min_size=1, max_size=8)


@pytest.mark.fuzz
@settings(max_examples=15, deadline=None)
@given(values=amounts)
def test_any_amounts_are_kept_summed_and_sorted_exactly(db_url, tmp_path, values):
    store = small_store(db_url, tmp_path)
    try:
        store.db.execute_sql("DELETE FROM customer")
        for i, value in enumerate(values):
            store.create_customer({"name": f"c{i}", "balance": str(value), "grade": "A"})
        rs = ResultSet(store, "", sort=[("balance", "asc")])
        assert [r["balance"] for r in rs.page(0, 10)] == sorted(values)
        assert rs.sums(["balance"])["balance"] == sum(values)
        assert rs.groups("grade", sums=["balance"])[0].sums["balance"] == sum(values)
    finally:
        store.close()
