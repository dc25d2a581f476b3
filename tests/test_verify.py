"""Verification (核实): last checks per kind, intervals from YAML/config, what is due."""
import datetime as dt

import pytest

from kehu.models import chain, verify
from kehu.models.config import Config
from kehu.models.store import Store

TODAY = dt.date.today()


def age(store, customer_id, days):
    """Pretend the customer was entered ``days`` ago."""
    C = store.Customer
    C.update(created_at=dt.datetime.now() - dt.timedelta(days=days)).where(
        C.id == customer_id).execute()


def test_intervals_come_from_yaml_and_config_overrides():
    policy = verify.load_policy()
    assert policy.keys == ["base", "credit", "decision_makers"]
    assert policy.interval("credit") == 90
    cfg = Config(extra={"verification": {"credit": 30, "base": 0}})
    changed = verify.load_policy(cfg)
    assert changed.interval("credit") == 30
    assert [k.key for k in changed.active] == ["credit", "decision_makers"]
    with pytest.raises(verify.PolicyError) as err:
        verify.load_policy({"credt": 30})
    assert "credt" in str(err.value) and "credit" in str(err.value)
    with pytest.raises(verify.PolicyError) as err:
        verify.load_policy({"credit": "monthly"})
    assert "verification.credit" in str(err.value)


def test_a_new_customer_is_not_due_an_old_one_is(store):
    fresh = store.create_customer({"name": "Fresh"})
    old = store.create_customer({"name": "Old"})
    age(store, old.id, 100)
    due = verify.due_for_verification(store)
    assert [d.name for d in due] == ["Old"]
    assert due[0].due == ["credit", "decision_makers"]
    assert verify.count_due(store) == 1
    assert fresh.id not in [d.id for d in due]


def test_mark_verified_records_who_and_when_and_leaves_the_due_list(store):
    old = store.create_customer({"name": "Old"})
    age(store, old.id, 400)
    boss = chain.add_contact(store, old.id, name="Boss", key_person=True)
    verify.mark_verified(store, old.id, ["credit"], user="alice")
    status = {s.kind.key: s for s in verify.status(store, old.id)}
    assert status["credit"].verified_by == "alice"
    assert not status["credit"].is_due
    assert status["base"].is_due
    assert [d.due for d in verify.due_for_verification(store)] == [["base", "decision_makers"]]
    verify.mark_verified(store, old.id, user="bob")  # all kinds, by one key
    assert verify.due_for_verification(store) == []
    assert {s.verified_by for s in verify.status(store, old.id)} == {"bob"}
    assert chain.get_contact(store, boss.id).verified_at is not None
    later = TODAY + dt.timedelta(days=95)
    assert [d.due for d in verify.due_for_verification(store, today=later)] == [
        ["credit", "decision_makers"]]


def test_kinds_by_label_and_unknown_kind(store):
    c = store.create_customer({"name": "C"})
    assert verify.mark_verified(store, c.id, ["信用状况"]) == ["credit"]
    with pytest.raises(verify.PolicyError):
        verify.mark_verified(store, c.id, ["weather"])


def test_due_pages_by_id(store):
    for i in range(5):
        row = store.create_customer({"name": f"C{i}"})
        age(store, row.id, 200)
    first = verify.due_for_verification(store, limit=2)
    rest = verify.due_for_verification(store, after_id=first[-1].id, limit=10)
    assert [d.name for d in first + rest] == [f"C{i}" for i in range(5)]


def test_a_database_from_before_verification_gets_the_table(db_url):
    s = Store.open(db_url, user="t")
    c = s.create_customer({"name": "Before"})
    s.db.execute_sql("DROP TABLE verification")
    s.close()
    s = Store.open(db_url, user="t")
    try:
        verify.mark_verified(s, c.id)
        assert all(not st.is_due for st in verify.status(s, c.id))
        assert s.get_customer(c.id).name == "Before"
    finally:
        s.close()
