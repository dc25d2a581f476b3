"""The headless store on SQLite and PostgreSQL: create, read, update, delete."""
import pytest

from kehu.models.store import ConflictError
from kehu.models.validate import RecordInvalid


def test_create_and_read_back(store):
    row = store.create_customer({"name": "张三", "mobile": "138 0013 8000",
                                 "company": "北京星辰科技", "grade": "A 重点"})
    again = store.get_customer(row.id)
    assert again.name == "张三"
    assert again.mobile == "+8613800138000"
    assert again.grade == "A"
    assert again.version == 1


def test_invalid_record_names_every_bad_field(store):
    with pytest.raises(RecordInvalid) as err:
        store.create_customer({"name": "", "mobile": "12345", "email": "not-an-email"})
    assert set(err.value.errors) == {"name", "mobile", "email"}
    assert store.count_customers() == 0


def test_update_bumps_version_and_stale_version_conflicts(store):
    row = store.create_customer({"name": "Alice"})
    store.update_customer(row.id, {"company": "Acme"}, expected_version=1)
    with pytest.raises(ConflictError) as err:
        store.update_customer(row.id, {"company": "Other"}, expected_version=1)
    assert err.value.theirs["company"] == "Acme"
    assert store.get_customer(row.id).company == "Acme"
    assert store.get_customer(row.id).version == 2


def test_soft_delete_hides_and_restore_brings_back(store):
    row = store.create_customer({"name": "Bob"})
    store.delete_customer(row.id)
    assert store.count_customers() == 0
    assert store.get_customer(row.id, include_deleted=True).name == "Bob"
    store.restore_customer(row.id)
    assert store.count_customers() == 1


def test_purchases_feed_the_purchase_total(store):
    row = store.create_customer({"name": "Carol"})
    store.add_interaction(row.id, "purchase", amount="1200.50")
    store.add_interaction(row.id, "purchase", amount=300)
    store.add_interaction(row.id, "call", summary="follow-up")
    again = store.get_customer(row.id)
    assert float(again.purchase_total) == pytest.approx(1500.50)
    assert again.purchase_count == 2
