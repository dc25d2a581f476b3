"""RFM scores, segments and lifecycle stages, checked against a hand-computed data set.

The data set (as of 2024-07-01), purchases per customer:

    A  华东  5 days ago 50 000, 2024-05-01 30 000, 2024-03-01 20 000  → f 3, m 100 000
    B  华东  2024-06-21 10 000, 2024-06-01 10 000                      → f 2, m  20 000
    C  华北  2023-12-01 80 000 (213 days ago)                          → f 1, m  80 000
    D  华南  2023-03-01 … 2023-06-01, four times 5 000 (396 days ago)  → f 4, m  20 000
    E  华南  2022-12-01 1 000 (578 days ago)                           → f 1, m   1 000
    F  华北  no purchase;  G 华东 no purchase;  H deleted (a purchase, left out)

Five buyers; score = 1 + 5 * (2 * below + ties) // 10 (mid-rank quintiles):
    R (by last purchase): E 1, D 2, C 3, B 4, A 5
    F (1, 1, 2, 3, 4):    E 1, C 1 (one purchase: the lowest); B 2, A 4, D 5
                          (the repeat buyers by 2 + 4 * (2 * below + ties) // 6)
    M (1k, 20k, 20k, 80k, 100k): E 1, B 3, D 3, C 4, A 5
    score: A 14, B 9, C 8, D 10, E 3
Segments by the default rules: A high_value, B potential, C normal, D lost and E lost
(more than 365 days: the one definition of lost, the stage's too).
Stages: A growth, B growth, C retention (>180 days), D lost, E lost (>365 days).
"""
from __future__ import annotations


import pytest

from kehu.models import segments
from kehu.models.results import ResultSet
from kehu.models.store import Store
from report_data import TODAY, build

EXPECTED = {  # name: (r, f, m, score, segment, stage)
    "A": (5, 4, 5, 14, "high_value", "growth"),
    "B": (4, 2, 3, 9, "potential", "growth"),
    "C": (3, 1, 4, 8, "normal", "retention"),
    "D": (2, 5, 3, 10, "lost", "lost"),
    "E": (1, 1, 1, 3, "lost", "lost"),
    "F": (None, None, None, None, None, "lead"),
    "G": (None, None, None, None, None, "lead"),
}


def scores(store: Store, ids: dict[str, int]) -> dict[str, tuple]:
    out = {}
    for name, cid in ids.items():
        if name == "H":
            continue
        row = store.get_customer(cid)
        out[name] = (row.rfm_r, row.rfm_f, row.rfm_m, row.rfm_score, row.segment, row.stage)
    return out


def test_full_recompute_gives_the_hand_computed_scores(store):
    ids = build(store)
    result = segments.recompute(store, TODAY)
    assert scores(store, ids) == EXPECTED
    assert (result.customers, result.buyers) == (7, 5)
    assert result.segments == {"high_value": 1, "potential": 1, "normal": 1,
                               "lost": 2, None: 2}


def test_recompute_again_changes_nothing(store):
    build(store)
    segments.recompute(store, TODAY)
    assert segments.recompute(store, TODAY).changed == 0


def test_scores_filter_and_sort_like_any_field(store):
    ids = build(store)
    segments.recompute(store, TODAY)
    names = {v: k for k, v in ids.items()}
    rs = ResultSet(store, "segment:high_value,potential", sort=[("rfm_score", "desc")])
    assert [names[r["id"]] for r in rs.page(0, 10)] == ["A", "B"]
    rs = ResultSet(store, "rfm_score>=10", sort="-rfm_score, name")
    assert [names[r["id"]] for r in rs.page(0, 10)] == ["A", "D"]
    # by label and alias, as a user types it
    rs = ResultSet(store, "分群:已流失", sort="name")
    assert [names[r["id"]] for r in rs.page(0, 10)] == ["D", "E"]
    rs = ResultSet(store, "R>=4 stage:growth", sort="name")
    assert [names[r["id"]] for r in rs.page(0, 10)] == ["A", "B"]


def test_a_new_purchase_rescores_that_customer_at_once(store, monkeypatch):
    ids = build(store)
    segments.recompute(store, TODAY)
    # a large database: one purchase is scored against the stored boundaries
    monkeypatch.setattr(segments, "SMALL_DATABASE", 0)
    store.add_interaction(ids["F"], "purchase", amount=60000)   # today, whatever today is
    row = store.get_customer(ids["F"])
    # newest purchase → R 5; one purchase → F 1 (like C and E); 60 000 → M 3 (20k ≤ m < 80k)
    assert (row.rfm_r, row.rfm_f, row.rfm_m, row.rfm_score) == (5, 1, 3, 9)
    assert row.segment == "potential"
    assert row.stage == "acquisition"
    # everybody else kept the scores of the full recompute
    assert {k: v for k, v in scores(store, ids).items() if k != "F"} == \
        {k: v for k, v in EXPECTED.items() if k != "F"}


def test_deleting_the_only_purchase_clears_the_scores(store, monkeypatch):
    from kehu.models import timeline

    ids = build(store)
    segments.recompute(store, TODAY)
    monkeypatch.setattr(segments, "SMALL_DATABASE", 0)
    entry = store.interactions(ids["E"]).first()
    timeline.delete_entry(store, entry.id)
    row = store.get_customer(ids["E"])
    assert (row.rfm_r, row.rfm_score, row.segment) == (None, None, None)
    # without a purchase a customer cannot be lost (no purchase for a year): back to lead
    assert row.stage == "lead"


def test_one_time_buyers_have_the_lowest_frequency(store):
    """Issue 18: with most buyers buying once, every one-time buyer got F 3 and nobody
    F 1 or 2. Now one purchase is F 1 and the repeat buyers share 2..5."""
    from decimal import Decimal

    from kehu.models import timeline

    C = store.Customer
    once = [store.create_customer({"name": f"once{i}"}).id for i in range(9)]
    twice = store.create_customer({"name": "twice"}).id
    for cid in once:
        timeline.add_entry(store, cid, "purchase", amount=Decimal(100), occurred_at="2024-06-01")
    for day in ("2024-05-01", "2024-06-01"):
        timeline.add_entry(store, twice, "purchase", amount=Decimal(100), occurred_at=day)
    segments.recompute(store, TODAY)
    got = {r.name: r.rfm_f for r in C.select(C.name, C.rfm_f)}
    assert {got[f"once{i}"] for i in range(9)} == {1} and got["twice"] == 4


def test_stages_without_a_purchase_follow_the_one_definition(store):
    """Issue 18: the demo had customers in 成熟期 with no purchase (the rule needs 5)."""
    ids = build(store)
    store.update_customer(ids["F"], {"stage": "maturity"})
    store.update_customer(ids["G"], {"stage": "acquisition"})
    segments.recompute(store, TODAY)
    got = scores(store, ids)
    assert (got["F"][5], got["G"][5]) == ("lead", "acquisition")
    # a segment lost is a stage lost and back: the same rule
    assert {n for n, v in got.items() if v[4] == "lost"} == \
        {n for n, v in got.items() if v[5] == "lost"} == {"D", "E"}
    assert segments.recompute(store, TODAY).changed == 0


def test_small_database_recomputes_everyone_on_a_purchase(store):
    ids = build(store)
    # no explicit recompute: each purchase above re-scored everyone (as of today)
    got = scores(store, ids)
    assert all(got[n][0] is not None for n in "ABCDE")
    assert got["F"][0] is None and got["G"][0] is None


def test_thresholds_from_the_user_file(store, tmp_path):
    ids = build(store)
    path = segments.user_segments_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("rfm:\n"
                    "  recency: {method: thresholds, bounds: [365, 180, 90, 30]}\n"
                    "  frequency: {method: thresholds, bounds: [2, 3, 5, 10]}\n"
                    "  monetary: {method: quantile}\n", encoding="utf-8")
    segments.recompute(store, TODAY)
    got = scores(store, ids)
    # recency days A 5, B 10, C 213, D 396, E 578; frequency A 3, B 2, C 1, D 4, E 1
    assert {n: got[n][:2] for n in "ABCDE"} == {
        "A": (5, 3), "B": (5, 2), "C": (2, 1), "D": (1, 3), "E": (1, 1)}
    # the segments section was not in the user file: the built-in rules still apply
    assert got["E"][4] == "lost"


def test_user_rules_and_lifecycle_off(store):
    ids = build(store)
    store.update_customer(ids["A"], {"stage": "maturity"})
    segments.user_segments_path().write_text(
        "segments:\n"
        "  - segment: high_value\n"
        "    when: {monetary: '>=50000'}\n"
        "  - segment: normal\n"
        "lifecycle: off\n", encoding="utf-8")
    segments.recompute(store, TODAY)
    got = scores(store, ids)
    assert {n: got[n][4] for n in "ABCDEFG"} == {
        "A": "high_value", "B": "normal", "C": "high_value", "D": "normal", "E": "normal",
        "F": "normal", "G": "normal"}
    assert got["A"][5] == "maturity"     # lifecycle off: the stage typed by hand stays


@pytest.mark.parametrize("text, line, words", [
    ("segments:\n  - segment: high_value\n    when: {x: '>=4'}\n", 3, "unknown measure 'x'"),
    ("segments:\n  - segment: vip\n", 2, "'vip' is not a value of the field segment"),
    ("rfm:\n  scores: 5\n  recency: {method: thresholds, bounds: [1, 2]}\n", 3,
     "needs bounds, a list of 4 numbers"),
    ("rfm:\n  frequency: {method: thresholds, bounds: [5, 4, 3, 2]}\n", 2, "must get larger"),
    ("segments:\n  - segment: lost\n    when: {r: 'big'}\n", 3, "'big' is not a condition"),
    ("rfm:\n  scores: 1\n", 2, "from 2 to 9"),
    ("colours: {}\n", 1, "unknown section 'colours'"),
    ("segments:\n  - segment: lost\n  when: [\n", 3, "not valid YAML"),
])
def test_bad_user_file_names_the_line(tmp_path, text, line, words):
    from kehu.models.schema import load_schema

    path = segments.user_segments_path()
    path.write_text(text, encoding="utf-8")
    with pytest.raises(segments.SegmentsError) as err:
        segments.load_config(load_schema(None))
    message = str(err.value)
    assert f"segments.yaml:{line}:" in message
    assert words in message


def test_a_broken_user_file_never_stops_a_purchase(store):
    ids = build(store)
    segments.user_segments_path().write_text("segments: [\n", encoding="utf-8")
    store.add_interaction(ids["G"], "purchase", amount=5)
    assert store.get_customer(ids["G"]).purchase_total == 5
    with pytest.raises(segments.SegmentsError):
        segments.recompute(store, TODAY)


def test_chinese_messages(tmp_path):
    from kehu.models import i18n
    from kehu.models.schema import load_schema

    i18n.set_lang("zh")
    segments.user_segments_path().write_text("segments:\n  - segment: vip\n", encoding="utf-8")
    with pytest.raises(segments.SegmentsError) as err:
        segments.load_config(load_schema(None))
    assert "不是字段 segment 的可选值" in str(err.value)


def test_recompute_of_many_rows_rebuilds_the_indexes(store, monkeypatch):
    ids = build(store)
    monkeypatch.setattr(segments, "REINDEX_ABOVE", 0)
    segments.recompute(store, TODAY)
    assert scores(store, ids) == EXPECTED
    names = {"customer_rfm_score", "customer_segment", "customer_stage"}
    if store.is_postgres:
        found = {r[0] for r in store.db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'customer'").fetchall()}
    else:
        found = {r[0] for r in store.db.execute_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()}
    assert names <= found
