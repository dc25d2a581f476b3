"""Timeline (来往大事记): entries newest first, amounts, purchase totals, follow-ups."""
import datetime as dt
from decimal import Decimal

import pytest

from kehu.models import chain, timeline
from kehu.models.validate import RecordInvalid

TODAY = dt.date(2024, 6, 12)


@pytest.fixture
def acme(store):
    return store.create_customer({"name": "Acme"})


def test_entries_come_newest_first_and_filter_by_kind(store, acme):
    timeline.add_entry(store, acme.id, "call", occurred_at="2024-01-01 09:00", summary="first")
    timeline.add_entry(store, acme.id, "visit", occurred_at="2024-03-01", summary="visit")
    timeline.add_entry(store, acme.id, "邮件", occurred_at="2024/02/01 10:30", summary="mail")
    rows = timeline.entries(store, acme.id)
    assert [r.summary for r in rows] == ["visit", "mail", "first"]
    assert [r.kind for r in rows] == ["visit", "email", "call"]
    assert rows[0].user == "tester"
    assert [r.summary for r in timeline.entries(store, acme.id, kinds=["call", "email"])] == [
        "mail", "first"]
    assert timeline.count_entries(store, acme.id, kinds=["visit"]) == 1


def test_pages_of_a_long_timeline(store, acme):
    base = dt.datetime(2020, 1, 1)
    store.Interaction.insert_many([
        {"customer": acme.id, "kind": "note", "summary": f"n{i}",
         "occurred_at": base + dt.timedelta(hours=i)} for i in range(250)]).execute()
    assert timeline.count_entries(store, acme.id) == 250
    page = timeline.entries(store, acme.id, offset=100, limit=50)
    assert [r.summary for r in page][:2] == ["n149", "n148"]
    assert len(page) == 50


def test_purchases_feed_totals_on_add_edit_and_delete(store, acme):
    p1 = timeline.add_entry(store, acme.id, "purchase", amount="1.5万")
    timeline.add_entry(store, acme.id, "purchase", amount="¥500")
    assert store.get_customer(acme.id).purchase_total == Decimal("15500")
    timeline.update_entry(store, p1.id, amount="1000")
    assert store.get_customer(acme.id).purchase_total == Decimal("1500")
    timeline.update_entry(store, p1.id, kind="opportunity")
    assert store.get_customer(acme.id).purchase_total == Decimal("500")
    assert store.get_customer(acme.id).purchase_count == 1
    timeline.update_entry(store, p1.id, kind="purchase")
    timeline.delete_entry(store, p1.id)
    assert store.get_customer(acme.id).purchase_total == Decimal("500")
    timeline.restore_entry(store, p1.id)
    assert store.get_customer(acme.id).purchase_total == Decimal("1500")


def test_bad_entries_name_the_field_and_save_nothing(store, acme):
    with pytest.raises(RecordInvalid) as err:
        timeline.add_entry(store, acme.id, "call", amount="100", occurred_at="yesterday-ish",
                           next_follow_up="soon")
    assert set(err.value.errors) == {"amount", "occurred_at", "next_follow_up"}
    assert "Call has no amount" in str(err.value.errors["amount"])
    with pytest.raises(RecordInvalid) as err:
        timeline.add_entry(store, acme.id, "dinner")
    assert "dinner" in str(err.value.errors["kind"])
    with pytest.raises(RecordInvalid):
        timeline.add_entry(store, acme.id, "purchase", amount="lots")
    assert timeline.count_entries(store, acme.id) == 0


def test_entries_about_one_contact(store, acme):
    a = chain.add_contact(store, acme.id, name="Ann")
    timeline.add_entry(store, acme.id, "call", contact=a.id, summary="with Ann")
    timeline.add_entry(store, acme.id, "call", summary="general")
    rows = timeline.entries(store, acme.id, contact_id=a.id)
    assert [(r.summary, r.contact_name) for r in rows] == [("with Ann", "Ann")]
    other = store.create_customer({"name": "Other"})
    with pytest.raises(RecordInvalid):
        timeline.add_entry(store, other.id, "call", contact=a.id)


def test_follow_ups_in_buckets_and_done(store, acme):
    other = store.create_customer({"name": "Beta"})
    late = timeline.add_entry(store, acme.id, "call", next_follow_up=TODAY - dt.timedelta(days=3))
    timeline.add_entry(store, other.id, "visit", next_follow_up=TODAY)
    timeline.add_entry(store, acme.id, "email", next_follow_up=TODAY + dt.timedelta(days=5))
    timeline.add_entry(store, acme.id, "email", next_follow_up=TODAY + dt.timedelta(days=30))
    assert timeline.follow_up_counts(store, TODAY) == {"overdue": 1, "today": 1, "week": 1}
    assert [r.customer_name for r in timeline.follow_ups(store, "today", TODAY)] == ["Beta"]
    timeline.mark_follow_up_done(store, late.id)
    assert timeline.follow_ups(store, "overdue", TODAY) == []
    store.delete_customer(other.id)
    assert timeline.follow_up_counts(store, TODAY)["today"] == 0
