"""Changing the schema migrates the database at start-up; nothing is ever lost."""
import textwrap

import pytest

from kehu.models.schema import load_schema
from kehu.models.store import SchemaMigrationError, Store, plan_migration

BASE = """
groups: [{key: main, label: Main}]
fields:
  - {key: name, label: Name, type: text, group: main, required: true, in_table: true}
  - {key: age, label: Age, type: integer, group: main}
"""


def schema_file(tmp_path, extra="", name="schema.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(BASE) + extra, encoding="utf-8")
    return path


def test_adding_a_field_keeps_every_row_and_adds_the_column(db_url, tmp_path):
    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    for i in range(3):
        store.create_customer({"name": f"客户{i}", "age": 30 + i})
    store.close()

    extended = schema_file(
        tmp_path, "  - {key: vip, label: VIP, type: boolean, group: main, in_table: true, index: true}\n",
        "v2.yaml")
    store = Store.open(db_url, load_schema(extended))
    assert store.migration.added == ["vip"]
    assert [(r.name, r.age, r.vip) for r in store.customers().order_by(store.Customer.id)] == [
        ("客户0", 30, None), ("客户1", 31, None), ("客户2", 32, None)]
    store.update_customer(1, {"vip": "yes"})
    assert store.get_customer(1).vip is True
    store.close()


def test_removing_a_field_keeps_its_column_and_data(db_url, tmp_path):
    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    store.create_customer({"name": "张三", "age": 41})
    store.close()

    only_name = tmp_path / "v2.yaml"
    only_name.write_text("groups: [{key: main, label: Main}]\nfields:\n"
                         "  - {key: name, label: Name, type: text, group: main}\n", encoding="utf-8")
    store = Store.open(db_url, load_schema(only_name))
    assert store.migration.retired == ["age"]
    store.create_customer({"name": "李四"})
    store.close()

    store = Store.open(db_url, load_schema(schema_file(tmp_path)))  # the field comes back
    assert {r.name: r.age for r in store.customers()} == {"张三": 41, "李四": None}
    store.close()


def test_a_type_change_that_would_lose_data_is_refused(db_url, tmp_path):
    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    store.create_customer({"name": "王五", "age": 50})
    store.close()

    retyped = tmp_path / "v2.yaml"
    retyped.write_text(textwrap.dedent(BASE).replace("type: integer", "type: date"), encoding="utf-8")
    with pytest.raises(SchemaMigrationError) as err:
        Store.open(db_url, load_schema(retyped))
    assert "field 'age'" in str(err.value)
    assert "integer to date" in str(err.value)
    assert "1 customer has a value" in str(err.value)

    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    assert store.get_customer(1).age == 50
    store.close()


def test_a_widening_type_change_is_applied(db_url, tmp_path):
    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    store.create_customer({"name": "赵六", "age": 7})
    store.close()
    as_money = tmp_path / "v2.yaml"
    as_money.write_text(textwrap.dedent(BASE).replace("type: integer", "type: money"),
                        encoding="utf-8")
    store = Store.open(db_url, load_schema(as_money))
    assert store.migration.retyped == ["age"]
    store.update_customer(1, {"age": "7.25"})
    assert str(store.get_customer(1).age) == "7.25"
    store.close()


def test_plan_reports_without_changing_anything(db_url, tmp_path):
    store = Store.open(db_url, load_schema(schema_file(tmp_path)))
    store.close()
    extended = schema_file(tmp_path, "  - {key: city, label: City, type: text, group: main}\n",
                           "v2.yaml")
    store = Store.open(db_url, load_schema(extended), migrate=False)
    report, refusals = plan_migration(store)
    assert report.added == ["city"] and not refusals
    assert "city" not in {c.name for c in store.db.get_columns("customer")}
    store.close()
