"""The query language and the result set the table reads, on SQLite and PostgreSQL."""
from decimal import Decimal

import pytest

from kehu.models import i18n
from kehu.models.query import QueryError
from kehu.models.results import ResultSet, parse_sort


@pytest.fixture
def book(store):
    rows = [
        {"name": "张三", "grade": "A", "region": "华东", "stage": "growth", "owner": "tester",
         "tags": "vip,重点", "acquired_on": "2023-05-01", "credit_rating": "AA",
         "registered_capital": "500000", "headcount": 120},
        {"name": "李四", "grade": "B", "region": "华东", "stage": "lost", "owner": "alice",
         "acquired_on": "2024-02-10", "credit_rating": "AAA", "registered_capital": "80000"},
        {"name": "王五", "grade": "A", "region": "华北", "stage": "lead", "owner": "tester",
         "tags": "golf", "acquired_on": "2024-07-15", "headcount": 8},
        {"name": "Alice Smith", "grade": "C", "stage": None, "acquired_on": None,
         "registered_capital": "1200000.50", "owner": "bob"},
    ]
    for row in rows:
        created = store.create_customer(row)
        empty = {k: None for k, v in row.items() if v is None}
        if empty:  # no value at all, not the schema's default (today, lead)
            store.update_customer(created.id, empty)
    return store


def names(store, text, sort=None):
    rs = ResultSet(store, text, sort=sort or [("name", "asc")])
    rows = rs.page(0, 100)
    assert rs.count() == len(rows)
    return [r["name"] for r in rows]


@pytest.mark.parametrize("text, expected", [
    ("grade:A", ["张三", "王五"]),
    ("客户等级:A", ["张三", "王五"]),
    ("level=a", ["张三", "王五"]),
    ("grade:\"A 重点\"", ["张三", "王五"]),
    ("grade:A,B", ["张三", "李四", "王五"]),
    ("grade!=A", ["Alice Smith", "李四"]),
    ("region:华东", ["张三", "李四"]),
    ("region:East", ["张三", "李四"]),
    ("区域：华北", ["王五"]),
    ("-stage:lost", ["Alice Smith", "张三", "王五"]),
    ("owner:me", ["张三", "王五"]),
    ("tag:vip", ["张三"]),
    ("标签:golf", ["王五"]),
    ("-tag:vip", ["Alice Smith", "李四", "王五"]),
    ("registered_capital>=500000", ["Alice Smith", "张三"]),
    ("注册资本>50万", ["Alice Smith"]),
    ("registered_capital<100000", ["李四"]),
    ("headcount>=100", ["张三"]),
    ("acquired_on>=2024-01-01", ["李四", "王五"]),
    ("acquired_on:2024", ["李四", "王五"]),
    ("开拓日期:2024-02", ["李四"]),
    ("acquired_on<2024", ["张三"]),
    ("acquired_on<=2024-02", ["张三", "李四"]),
    ("created>=2020-01-01", ["Alice Smith", "张三", "李四", "王五"]),
    ("created<2020", []),
    ("name:smith", ["Alice Smith"]),
    ("grade:A zs", ["张三"]),
    ("grade:A -zs", ["王五"]),
])
def test_filters_by_type(book, text, expected):
    assert names(book, text) == expected


@pytest.mark.parametrize("text, position, words", [
    ("gradee:A", 0, "unknown field 'gradee' (did you mean 'Grade'?)"),
    ("foo:1", 0, "unknown field 'foo'"),
    ('zs "open', 3, "quote"),
    ("created>=yesterdayish", 9, "'yesterdayish' is not a date"),
    ("acquired_on:2024-13", 12, "not a date"),
    ("registered_capital>=lots", 20, "'lots' is not a number"),
    ("grade:Z", 6, "'Z' is not one of A key, B major, C normal, D minor"),
    ("grade>A", 5, "'>' cannot be used with Grade"),
    ("name<x", 4, "'<' cannot be used with Name"),
    ("grade:", 6, "a value is missing"),
])
def test_bad_queries_say_what_and_where(book, text, position, words):
    with pytest.raises(QueryError) as err:
        ResultSet(book, text)
    assert err.value.position == position
    assert words in err.value.message
    assert str(err.value).startswith(f"at {position + 1}: ")


def test_bad_query_message_in_chinese(book):
    i18n.set_lang("zh")
    with pytest.raises(QueryError) as err:
        ResultSet(book, "等级:Z")
    assert "不在可选值中" in err.value.message
    with pytest.raises(QueryError) as err:
        ResultSet(book, "xx:1")
    assert "没有名为“xx”的字段" in err.value.message


def test_sort_any_field_both_ways_with_ties_by_id(book):
    asc = names(book, "", [("acquired_on", "asc")])
    assert asc == ["Alice Smith", "张三", "李四", "王五"]  # empty first ascending
    desc = names(book, "", [("acquired_on", "desc")])
    assert desc == ["王五", "李四", "张三", "Alice Smith"]  # empty last descending
    by_grade = names(book, "", [("grade", "asc"), ("name", "desc")])
    assert by_grade == ["王五", "张三", "李四", "Alice Smith"]
    # choice fields sort in their declared order: AAA before AA
    assert names(book, "credit_rating:AAA,AA", [("credit_rating", "asc")]) == ["李四", "张三"]


def test_sort_names_and_index_flags(book):
    assert parse_sort(book.schema, "-采购总额, name") == [("purchase_total", "desc"),
                                                          ("name", "asc")]
    assert parse_sort(book.schema, ["grade desc"]) == [("grade", "desc")]
    rs = ResultSet(book, "", sort=[("acquired_on", "asc")])
    assert not rs.slow_sort
    assert ResultSet(book, "", sort=[("notes", "asc")]).slow_sort
    with pytest.raises(QueryError):
        ResultSet(book, "", sort=[("nope", "asc")])


def test_pages_snapshot_and_offset_agree(book):
    for i in range(30):
        book.create_customer({"name": f"客户{i:02d}", "registered_capital": i * 10})
    rs = ResultSet(book, "", sort=[("registered_capital", "desc")])
    by_offset = [r["id"] for off in range(0, 40, 7) for r in rs.page(off, 7)]
    rs.snapshot()
    by_snapshot = [r["id"] for off in range(0, 40, 7) for r in rs.page(off, 7)]
    assert by_offset == by_snapshot and len(by_offset) == rs.count() == 34
    assert rs.index_of(by_offset[5]) == 5
    row = rs.page(0, 1)[0]
    assert {"id", "version", "name", "registered_capital"} <= set(row)


def test_sums_and_groups(book):
    rs = ResultSet(book, "", sort=[("region", "asc")])
    assert rs.sums(["registered_capital"]) == {"registered_capital": Decimal("1780000.50")}
    groups = rs.groups("region", ["registered_capital"])
    assert [(g.value, g.count) for g in groups] == [(None, 1), ("华北", 1), ("华东", 2)]
    assert groups[2].sums["registered_capital"] == Decimal("580000")
    assert groups[0].sums["registered_capital"] == Decimal("1200000.50")
    narrowed = ResultSet(book, "grade:A", sort=[("region", "desc")]).groups("区域")
    assert [(g.value, g.count) for g in narrowed] == [("华东", 1), ("华北", 1)]


def test_deleted_rows_stay_out(book):
    rs = ResultSet(book, "grade:A")
    first = rs.page(0, 1)[0]
    book.delete_customer(first["id"])
    assert ResultSet(book, "grade:A").count() == 1
    assert ResultSet(book, "grade:A", include_deleted=True).count() == 2


def test_base_filter_and_search_combine(book):
    rs = ResultSet(book, "zs", base_filter="region:华东")
    assert [r["name"] for r in rs.page(0, 10)] == ["张三"]
    assert ResultSet(book, "ww", base_filter="region:华东").count() == 0


def test_today_and_relative_dates(book):
    assert names(book, "created:today") == ["Alice Smith", "张三", "李四", "王五"]
    assert names(book, "created>30d") == []       # an age: entered more than 30 days ago
    assert len(names(book, "created<30d")) == 4   # within the last 30 days


def test_choice_sort_pages_walk_the_values_in_declared_order(store):
    regions = ["华南", None, "华北", "东北", "华东", "华北", "海外", None, "华东", "华北"]
    for i, region in enumerate(regions):
        store.create_customer({"name": f"客户{i}", "region": region})
    order = [None, "华北", "华东", "华南", "东北", "海外"]  # as declared in the schema
    for direction in ("asc", "desc"):
        rs = ResultSet(store, "", sort=[("region", direction), ("name", "desc")])
        paged = [r for off in range(0, 12, 3) for r in rs.page(off, 3)]
        expected = sorted(paged, key=lambda r: (order.index(r["region"]), r["name"]),
                          reverse=True)
        if direction == "asc":
            expected = sorted(sorted(paged, key=lambda r: r["name"], reverse=True),
                              key=lambda r: order.index(r["region"]))
        assert [r["name"] for r in paged] == [r["name"] for r in expected]
        assert rs.count() == 10
        assert [r["id"] for r in paged] == ResultSet(
            store, "", sort=[("region", direction), ("name", "desc")]).snapshot()
        groups = rs.groups("region")
        assert [g.value for g in groups] == (order if direction == "asc" else order[::-1])


def test_an_index_made_for_a_sort_keeps_the_order(book):
    sort = [("region", "asc"), ("acquired_on", "desc")]
    rs = ResultSet(book, "", sort=sort)
    before = [r["id"] for r in rs.page(0, 10)]
    assert not rs.has_sort_index()
    assert rs.create_sort_index() == "customer_sort_region__acquired_on"
    again = ResultSet(book, "", sort=sort)
    assert again.has_sort_index()
    assert [r["id"] for r in again.page(0, 10)] == before


@pytest.mark.parametrize("sort", [None, [("acquired_on", "asc")], [("region", "desc"), ("name", "asc")]])
def test_pages_near_the_end_match_the_snapshot(book, sort):
    for i in range(25):
        book.create_customer({"name": f"客户{i:02d}", "region": ["华东", None, "华南"][i % 3],
                              "acquired_on": None if i % 4 == 0 else f"2024-01-{i + 1:02d}"})
    expected = ResultSet(book, "", sort=sort).snapshot()
    rs = ResultSet(book, "", sort=sort)
    assert rs.count() == 29
    assert [r["id"] for off in range(0, 29, 4) for r in rs.page(off, 4)] == expected
    assert [r["id"] for r in rs.page(27, 10)] == expected[27:]
    assert [r["id"] for r in ResultSet(book, "kh", sort=sort).page(20, 10)] == [
        r["id"] for r in ResultSet(book, "kh", sort=sort).select().offset(20).limit(10).dicts()]


@pytest.mark.parametrize("text, position, words", [
    # these closed the TUI (OverflowError) and tracebacked in `kehu query`
    ("created>=1000000d", 9, "Created: '1000000d' reaches back before the year 1"),
    ("birthday<=99999999d", 10, "Birthday: '99999999d' reaches back before the year 1"),
    ("acquired_on>=999999999y", 13, "Acquired: '999999999y' reaches back before the year 1"),
    ("created>" + "9" * 5000 + "d", 8, "reaches back before the year 1"),
    ("age>=-1e308", 5, "Age: '-1e308' is beyond what the field holds"),
    ("age>9223372036854775808", 4, "at most 9,223,372,036,854,775,807"),
    ("age:" + "9" * 5000, 4, "Age: '999"),
    ("satisfaction:-9.2e106", 13, "Satisfaction: '-9.2e106' is beyond what the field holds"),
    ("purchase_total>1e30", 15, "Purchases: '1e30' is beyond what the field holds"),
    ("purchase_total<9e999999999", 15, "beyond what the field holds"),
    ("zs \x00", 3, "a control character (U+0000) cannot be searched for"),
])
def test_numbers_and_dates_out_of_range_are_one_sentence(book, text, position, words):
    with pytest.raises(QueryError) as err:
        ResultSet(book, text).count()
    assert err.value.position == position
    assert words in err.value.message
    assert len(str(err.value)) < 200  # one sentence, a long value cut short


def test_the_last_day_of_the_calendar_is_a_date_like_any_other(book):
    everyone = ["Alice Smith", "张三", "李四", "王五"]
    assert names(book, "created<=9999-12-31") == everyone
    assert names(book, "created<9999-12-31") == everyone
    assert names(book, "created>9999-12-31") == []
    assert names(book, "created:9999-12-31") == []
    assert names(book, "-acquired_on:9999-12-31") == ["Alice Smith", "张三", "李四", "王五"]
    assert names(book, "acquired_on!=9999-12-31") == ["Alice Smith", "张三", "李四", "王五"]
    assert names(book, "acquired_on>=0001-01-01") == ["张三", "李四", "王五"]
    assert names(book, "acquired_on<=700000d") == ["张三", "李四", "王五"]  # back to about the year 110
