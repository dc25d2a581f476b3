"""A phone number as the table shows it (or as people write it) finds the customer,
on SQLite and PostgreSQL; two numbers that are not a phone still find what each finds."""
import pytest

from kehu.models.query import parse
from kehu.models.results import ResultSet
from kehu.models.search import phone_query
from kehu.models.validate import display


@pytest.fixture
def phones(store):
    store.create_customer({"name": "王五", "mobile": "155 3563 1682"})
    store.create_customer({"name": "北京办", "phone": "010-88886666"})
    store.create_customer({"name": "Joe", "mobile": "+1 415 555 0100"})
    store.create_customer({"name": "年报", "notes": "2024 年 100 台"})
    store.create_customer({"name": "赵六", "mobile": "139 1111 2222"})
    return store


def names(store, text):
    rs = ResultSet(store, text, sort=[("name", "asc")])
    rows = rs.page(0, 100)
    assert rs.count() == len(rows)
    return sorted(r["name"] for r in rows)


def test_the_mobile_as_the_table_shows_it(phones):
    customer = ResultSet(phones, "王五").page(0, 1)[0]
    shown = display(phones.schema["mobile"], customer["mobile"])
    assert shown == "155 3563 1682"
    assert names(phones, shown) == ["王五"]


@pytest.mark.parametrize("typed", ["155 3563 1682", "155-3563-1682", "+86 155 3563 1682",
                                   "+86-155-3563-1682", "0086 155 3563 1682", "(155) 3563 1682",
                                   "155.3563.1682", "155 3563", "15535631682", "1682",
                                   "+8615535631682", "155 3563 1682 王"])
def test_mobile_written_any_way(phones, typed):
    assert names(phones, typed) == ["王五"]


@pytest.mark.parametrize("typed", ["(010) 8888-6666", "+86-10-8888-6666", "010-8888-6666",
                                   "010 8888 6666", "+86 10 8888 6666", "01088886666"])
def test_landline_written_any_way(phones, typed):
    assert names(phones, typed) == ["北京办"]


def test_landline_as_the_table_shows_it(phones):
    row = ResultSet(phones, "北京办").page(0, 1)[0]
    shown = display(phones.schema["phone"], row["phone"])
    assert names(phones, shown) == ["北京办"]


def test_a_number_abroad(phones):
    assert names(phones, "+1 415 555 0100") == ["Joe"]
    assert names(phones, "+1-415-555-0100") == ["Joe"]


def test_two_numbers_that_are_not_a_phone_still_find_each(phones):
    # "2024 100" is no phone of anybody: the two words still match as two words
    assert names(phones, "2024 100") == ["年报"]
    assert names(phones, "100 2024") == ["年报"]
    # a word between two numbers keeps them apart
    assert names(phones, "155 王 3563") == []


def test_phone_words_with_other_words_and_filters(phones):
    assert names(phones, "王五 155 3563 1682") == ["王五"]
    assert names(phones, "155 3563 1682 -王五") == []
    assert names(phones, "139 1111 2222 name:赵六") == ["赵六"]
    assert names(phones, "155 3563 1682 name:赵六") == []
    assert names(phones, "-155-3563-1682") == ["Joe", "北京办", "年报", "赵六"]


def test_the_rule():
    assert phone_query("155 3563 1682") == "15535631682"
    assert phone_query("+86 (10) 8888 6666") == "1088886666"
    assert phone_query("(010) 8888-6666") == "1088886666"
    assert phone_query("0086 155 3563 1682") == "15535631682"
    assert phone_query("+1 415 555 0100") == "14155550100"
    assert phone_query("12 34") is None            # too short to be a phone
    assert phone_query("1380") is None             # one group: already one word
    assert phone_query("01088886666") == "1088886666"


def test_the_query_keeps_the_words_as_typed():
    from kehu.models.schema import load_schema

    query = parse(load_schema(), "张 155 3563 1682 grade:A")
    joined = [t for t in query.terms if t.either]
    assert [t.text for t in joined] == ["15535631682"]
    assert [t.text for t in joined[0].either] == ["155", "3563", "1682"]
    assert "15535631682" in query.fts_match() and '"3563"*' in query.fts_match()


def test_a_role_that_sees_the_mobile_masked_finds_nobody_by_it_written_any_way(phones, db_url):
    from kehu.models.security import add_user
    from kehu.models.store import Store

    add_user(phones, "vic", "viewer")
    add_user(phones, "sam", "sales")
    vic, sam = Store.open(db_url, user="vic"), Store.open(db_url, user="sam")
    try:
        for typed in ("155 3563 1682", "+86 155-3563-1682", "155 3563"):
            assert ResultSet(vic, typed).count() == 0
        assert ResultSet(vic, "王五 -155-3563-1682").count() == 1   # never decided by it
        assert ResultSet(sam, "155 3563 1682").count() == 0         # not sam's customer
        phones.update_customer(ResultSet(phones, "王五").page(0, 1)[0]["id"], {"owner": "sam"})
        assert [r["name"] for r in ResultSet(sam, "+86 155 3563 1682").page(0, 5)] == ["王五"]
    finally:
        vic.close()
        sam.close()
