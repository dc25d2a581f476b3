"""`kehu query` takes the query as typed — a leading '-' too — and answers a bad
one with a sentence naming the field, never a traceback."""
from __future__ import annotations

import json

import pytest

from kehu.models.store import Store
from kehu.tui.cli import main


@pytest.fixture
def url(db_url):
    store = Store.open(db_url, user="tester")
    for row in ({"name": "有邮箱", "email": "a@example.com", "grade": "A", "stage": "lost"},
                {"name": "没邮箱", "grade": "A"},
                {"name": "Zed", "grade": "B"}):
        store.create_customer(row)
    store.close()
    return db_url


def count(capsys, *argv) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return out.strip()


def test_a_query_starting_with_a_dash_is_the_query(url, capsys):
    assert count(capsys, "query", "-email:@", "--count", "--db", url) == "2"
    assert count(capsys, "--db", url, "query", "--count", "-email:@") == "2"
    assert count(capsys, "--db", url, "query", "--count", "--", "-email:@") == "2"
    assert count(capsys, "--db", url, "query", "--count", "-email:@", "-grade:B") == "1"
    assert count(capsys, "--db", url, "query", "grade:A", "-stage:lost", "--count") == "1"


def test_an_option_value_starting_with_a_dash_stays_with_its_option(url, capsys):
    out = count(capsys, "--db", url, "query", "--sort", "-name", "-email:@", "--json")
    assert [r["name"] for r in json.loads(out)] == sorted(["没邮箱", "Zed"], reverse=True)


def test_an_unknown_long_option_is_still_refused(url, capsys):
    with pytest.raises(SystemExit):
        main(["--db", url, "query", "--cuont", "x"])
    assert "--cuont" in capsys.readouterr().err


@pytest.mark.parametrize("query, words", [
    ("created>=1000000d", "Created: '1000000d' reaches back before the year 1"),
    ("birthday<=99999999d", "Birthday: '99999999d' reaches back"),
    ("acquired_on>=999999999y", "Acquired: '999999999y' reaches back"),
    ("age>=-1e308", "Age: '-1e308' is beyond what the field holds"),
    ("satisfaction:-9.2e106", "Satisfaction: '-9.2e106' is beyond what the field holds"),
])
def test_out_of_range_queries_are_one_sentence(url, capsys, query, words):
    assert main(["--db", url, "query", query]) == 2
    out, err = capsys.readouterr()
    assert words in err and "Traceback" not in err and "internal error" not in err
