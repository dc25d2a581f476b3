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


def test_intervals_by_grade_from_yaml_and_config():
    policy = verify.load_policy()
    assert [policy.interval("credit", g) for g in ("A", "B", "C", "D", None, "E")] == [
        90, 180, 365, 730, 90, 90]
    assert policy.interval("base", None) == 180
    cfg = Config(extra={"verification": {"grade": {"A": 60, "D": 0}, "base": 0}})
    changed = verify.load_policy(cfg)
    assert [changed.interval("credit", g) for g in ("A", "B", "D")] == [60, 180, 0]
    assert changed.interval("base", "A") == 0       # a kind switched off is off for every grade
    with pytest.raises(verify.PolicyError) as err:
        verify.load_policy({"grade": {"A": "often"}})
    assert "verification.grade.A" in str(err.value)
    with pytest.raises(verify.PolicyError) as err:
        verify.load_policy({"grade": 30})
    assert "like A: 90" in str(err.value)


def test_due_by_grade(store):
    ids = {}
    for name, grade, entered in [("A200", "A", 100), ("B100", "B", 100), ("B200", "B", 200),
                                 ("C300", "C", 300), ("D700", "D", 700), ("none100", None, 100)]:
        ids[name] = store.create_customer({"name": name, "grade": grade}).id
        age(store, ids[name], entered)
    due = {d.name: d for d in verify.due_for_verification(store)}
    # A every 90 days, B 180, C 365, D 730; no grade: the kind's days (credit 90, base 180)
    assert sorted(due) == ["A200", "B200", "none100"]
    assert due["B200"].every == {"base": 180, "credit": 180, "decision_makers": 180}
    assert due["none100"].due == ["credit", "decision_makers"]
    assert verify.count_due(store) == 3
    status = {s.kind.key: s for s in verify.status(store, ids["C300"])}
    assert not status["credit"].is_due
    assert status["credit"].due_on == (dt.datetime.now() - dt.timedelta(days=300)).date() \
        + dt.timedelta(days=365)
    later = verify.due_for_verification(store, today=TODAY + dt.timedelta(days=70))
    assert sorted(d.name for d in later) == ["A200", "B200", "C300", "D700", "none100"]


def test_chain_warning_follows_the_grade_interval(store):
    """Key people unverified: after 90 days for an A customer, 365 for a C one."""
    for grade in ("A", "C"):
        row = store.create_customer({"name": f"G{grade}", "grade": grade})
        boss = chain.add_contact(store, row.id, name=f"Boss{grade}", key_person=True,
                                 role="decision_maker")
        store.Contact.update(created_at=dt.datetime.now() - dt.timedelta(days=200)).where(
            store.Contact.id == boss.id).execute()
        codes = [w.code for w in chain.chain_warnings(store, row.id)]
        assert ("key_people_unverified" in codes) == (grade == "A")
