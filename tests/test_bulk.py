"""Bulk changes (models/bulk.py and `kehu update`) on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from kehu.models import bulk
from kehu.models.results import ResultSet
from kehu.models.security import add_user
from kehu.models.store import Store


def names(store, query):
    return sorted(r["name"] for r in ResultSet(store, query).page(0, 1000))


@pytest.fixture
def filled(store):
    ids = {}
    for i in range(6):
        region = "华东" if i < 4 else "华北"
        ids[i] = store.create_customer({"name": f"客户{i}号", "region": region, "owner": "amy",
                                        "tags": "vip" if i % 2 else None}).id
    return store, ids


def test_set_field_on_a_query_one_audit_entry_each_search_kept_and_undo(filled):
    store, ids = filled
    result = bulk.apply(store, bulk.Selection.of_query("region:华东"),
                        bulk.Change(set={"region": "华南", "city": "杭州", "owner": "bob"}))
    assert (result.selected, result.changed, result.skipped_rows) == (4, 4, 0)
    assert "4" in result.sentence() and str(result.batch_id) in result.sentence()
    # the search index finds the new value, not the old one
    assert len(names(store, "region:华南")) == 4
    assert names(store, "杭州") == names(store, "region:华南")
    assert names(store, "hangzhou") == names(store, "region:华南")
    assert names(store, "region:华东") == []
    assert len(names(store, "owner:bob")) == 4
    entries = [e for e in store.audit.entries() if e.batch == result.batch_id]
    assert sorted(e.record_id for e in entries) == sorted(ids[i] for i in range(4))
    assert all(e.fields["owner"] == ["amy", "bob"] for e in entries)
    # the whole change undone
    undone = bulk.undo(store, result.batch_id)
    assert undone.restored == 4 and not undone.skipped
    assert len(names(store, "region:华东")) == 4 and names(store, "owner:bob") == []
    assert names(store, "杭州") == []
    with pytest.raises(bulk.BulkError):
        bulk.undo(store, result.batch_id)


def test_dry_run_changes_nothing(filled):
    store, _ = filled
    result = bulk.apply(store, bulk.Selection.of_query("region:华东"),
                        bulk.Change(set={"owner": "bob"}), dry_run=True)
    assert result.changed == 4 and result.batch_id is None
    assert names(store, "owner:bob") == []


def test_tags_added_and_removed_explicit_and_excluded_rows(filled):
    store, ids = filled
    sel = bulk.Selection.of_query("").toggle(ids[5])      # everything but customer 5
    result = bulk.apply(store, sel, bulk.Change(add_tags=["展会"], remove_tags=["vip"]))
    assert result.changed == 5
    assert len(names(store, "tag:展会")) == 5 and names(store, "tag:vip") == ["客户5号"]
    sel = bulk.Selection().toggle(ids[0]).toggle(ids[1])
    assert sel.count(999) == 2
    result = bulk.apply(store, sel, bulk.Change(remove_tags=["展会"]))
    assert result.changed == 2 and len(names(store, "tag:展会")) == 3


def test_log_and_delete_undone(filled):
    store, ids = filled
    result = bulk.apply(store, bulk.Selection.of_query("region:华北"),
                        bulk.Change(log={"kind": "visit", "summary": "展会"}))
    assert result.changed == 2
    assert [i.summary for i in store.interactions(ids[4])] == ["展会"]
    bulk.undo(store, result.batch_id)
    assert list(store.interactions(ids[4])) == []
    result = bulk.apply(store, bulk.Selection.of_query("region:华北"), bulk.Change(delete=True))
    assert result.changed == 2 and len(names(store, "")) == 4
    assert bulk.last_batch(store) == result.batch_id
    bulk.undo(store, result.batch_id)
    assert len(names(store, "")) == 6


def test_undo_leaves_a_customer_changed_since_alone(filled):
    store, ids = filled
    result = bulk.apply(store, bulk.Selection.of_query("region:华北"),
                        bulk.Change(set={"owner": "bob"}))
    store.update_customer(ids[4], {"name": "改过"})
    undone = bulk.undo(store, result.batch_id)
    assert undone.restored == 1 and undone.skipped == [ids[4]]


def test_role_scope_and_owner_rights_skipped_and_said(store, db_url):
    add_user(store, "sam", "sales")
    mine = store.create_customer({"name": "我的", "owner": "sam"}).id
    other = store.create_customer({"name": "别人的", "owner": "lee"}).id
    sam = Store.open(db_url, user="sam")
    try:
        result = bulk.apply(sam, bulk.Selection().toggle(mine).toggle(other),
                            bulk.Change(set={"region": "西南"}))
        assert (result.changed, result.skipped_rows) == (1, 1)
        assert "1" in result.sentence()
        result = bulk.apply(sam, bulk.Selection.of_query(""), bulk.Change(set={"owner": "lee"}))
        assert result.changed == 0 and result.skipped_rows == 1
        assert store.get_customer(other).region is None
        assert store.get_customer(mine).owner == "sam"
    finally:
        sam.close()


def test_cli_update_and_undo(filled, db_url, capsys):
    from kehu.tui.cli import main

    store, _ = filled
    assert main(["--db", db_url, "--lang", "en", "update", "region:华东", "--set", "owner=bob",
                 "--dry-run"]) == 0
    assert "would change 4 of 4" in capsys.readouterr().out
    assert main(["--db", db_url, "--lang", "en", "update", "region:华东", "--set", "owner=bob",
                 "--add-tag", "fair"]) == 0
    assert "changed 4 of 4" in capsys.readouterr().out
    assert len(names(store, "owner:bob tag:fair")) == 4
    assert main(["--db", db_url, "--lang", "en", "update", "--undo"]) == 0
    assert "4 customers put back" in capsys.readouterr().out
    assert names(store, "owner:bob") == []
    assert main(["--db", db_url, "--lang", "en", "update", "x", "--set", "nofield=1"]) == 2
    assert "nofield" in capsys.readouterr().err


def _index_intact(store):
    """SQLite: the FTS5 index is sound and holds what a search of each live row's
    own words finds (soft-deleted rows are in the content table but not the index,
    so FTS5's own check against the content cannot be used)."""
    if not store.is_postgres:
        store.db.execute_sql("INSERT INTO customer_fts(customer_fts, rank) "
                             "VALUES ('integrity-check', 0)")
        C = store.Customer
        for row in C.select(C.id, C.name).where(C.deleted_at.is_null()):
            assert row.id in [r["id"] for r in ResultSet(store, row.name).page(0, 100)]
        triggers = {r[0] for r in store.db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert "customer_fts_au" in triggers


def test_search_finds_exactly_the_changed_rows_after_a_bulk_change_and_its_undo(store):
    """The index is rewritten set-wise (two statements, the update trigger off inside
    the transaction): a search for the new tag or value finds exactly the changed
    customers, the old words still find the others, undo puts it all back."""
    ids = {i: store.create_customer({"name": f"Kunde{i}", "company": "星辰科技" if i % 3 else
                                     "远大集团", "tags": "vip" if i % 2 else None}).id
           for i in range(12)}
    chosen = sorted(ids[i] for i in range(12) if i % 3)          # 8 of the 12
    sel = bulk.Selection(ids=frozenset(chosen))
    tagged = bulk.apply(store, sel, bulk.Change(add_tags=["messe2026"], set={"grade": "A"}))
    assert tagged.changed == 8
    found = sorted(r["id"] for r in ResultSet(store, "messe2026").page(0, 100))
    assert found == chosen
    assert sorted(r["id"] for r in ResultSet(store, "tag:messe2026").page(0, 100)) == chosen
    assert len(names(store, "星辰")) == 8 and len(names(store, "远大")) == 4
    assert len(names(store, "vip")) == 6 and len(names(store, "kunde")) == 12
    _index_intact(store)
    # a tag added indexes just the new words; words and prefixes of the rest still match,
    # and taking words away again rewrites the rows whole
    assert len(names(store, "kun")) == 12 and len(names(store, "mess")) == 8
    undone = bulk.undo(store, tagged.batch_id)
    assert undone.restored == 8 and not undone.skipped
    assert names(store, "messe2026") == [] and names(store, "grade:A") == []
    assert len(names(store, "vip")) == 6 and len(names(store, "星辰")) == 8
    _index_intact(store)
    # a grade / owner change leaves the search text (and the index) as it was
    texts = {r["id"]: r["search_text"] for r in store.Customer.select(
        store.Customer.id, store.Customer.search_text).dicts()}
    owner = bulk.apply(store, sel, bulk.Change(set={"owner": "zoe", "grade": "B"}))
    assert owner.changed == 8 and {r["id"]: r["search_text"] for r in store.Customer.select(
        store.Customer.id, store.Customer.search_text).dicts()} == texts
    assert sorted(r["id"] for r in ResultSet(store, "owner:zoe").page(0, 100)) == chosen
    # deleted in bulk: gone from the search; undone: back
    gone = bulk.apply(store, bulk.Selection(ids=frozenset(chosen[:3])), bulk.Change(delete=True))
    assert gone.changed == 3 and sorted(r["id"] for r in ResultSet(
        store, "星辰").page(0, 100)) == chosen[3:]
    _index_intact(store)
    bulk.undo(store, gone.batch_id)
    assert sorted(r["id"] for r in ResultSet(store, "星辰").page(0, 100)) == chosen
    _index_intact(store)
    # a tag added then another taken away: the second change rewrites the rows whole
    expo = bulk.apply(store, sel, bulk.Change(add_tags=["expo"]))
    bulk.apply(store, sel, bulk.Change(remove_tags=["vip"]))
    assert sorted(r["id"] for r in ResultSet(store, "vip").page(0, 100)) == sorted(
        ids[i] for i in range(12) if i % 2 and not i % 3)
    assert sorted(r["id"] for r in ResultSet(store, "expo").page(0, 100)) == chosen
    _index_intact(store)
    vips = sorted(ids[i] for i in range(12) if i % 3 and i % 2)
    assert bulk.undo(store, expo.batch_id).skipped == vips   # changed since: left alone
    assert sorted(r["id"] for r in ResultSet(store, "expo").page(0, 100)) == vips
    _index_intact(store)
    # the per-row trigger is back: an ordinary edit is found at once
    store.update_customer(ids[0], {"tags": "later"})
    assert names(store, "later") == ["Kunde0"]
    # one audit entry per customer and change, and the chain still holds
    entries = [e for e in store.audit.entries() if e.batch == tagged.batch_id]
    assert sorted(e.record_id for e in entries if e.action == "update") == chosen
    assert sorted(e.record_id for e in entries if e.action == "revert") == chosen
    assert store.audit.verify().problem is None


def test_bulk_set_of_money_and_date_fields_reads_them_as_values(store):
    """A bulk change compares the values a row has with the new ones: money and dates
    read back as their Python values (a row already at the value is unchanged)."""
    a = store.create_customer({"name": "A", "purchase_total": "12.50", "acquired_on": "2024-03-01"})
    b = store.create_customer({"name": "B"})
    sel = bulk.Selection(ids=frozenset({a.id, b.id}))
    result = bulk.apply(store, sel, bulk.Change(set={"registered_capital": "100.25",
                                                     "acquired_on": "2024-03-01"}))
    assert (result.changed, result.unchanged) == (2, 0)
    again = bulk.apply(store, sel, bulk.Change(set={"acquired_on": "2024-03-01"}))
    assert (again.changed, again.unchanged) == (0, 2)
    money = bulk.apply(store, sel, bulk.Change(set={"registered_capital": "100.25"}))
    assert (money.changed, money.unchanged) == (0, 2)
    assert str(store.get_customer(b.id).registered_capital) == "100.25"
