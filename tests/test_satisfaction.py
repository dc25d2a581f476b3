"""Satisfaction history (models/satisfaction.py): scores are timeline entries, the
customer's satisfaction field shows the latest, the reports show the trend by month
and by segment. A small world on a frozen day, SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from kehu.models import reports, satisfaction, timeline
from kehu.models.store import Store
from kehu.models.validate import FieldError, RecordInvalid
from kehu.tui.cli import main

TODAY = dt.date(2026, 3, 15)


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10))


def field(store, cid):
    value = store.get_customer(cid).satisfaction
    return None if value is None else Decimal(str(value)).normalize()


def test_the_field_shows_the_latest_score_through_add_edit_delete_restore(store):
    cid = store.create_customer({"name": "张三"}).id
    assert field(store, cid) is None
    first = timeline.add_entry(store, cid, "call", summary="回访", score="7", occurred_at=at(10))
    assert field(store, cid) == 7
    survey = timeline.add_entry(store, cid, "survey", score=9, occurred_at=at(5))
    assert field(store, cid) == 9
    old = timeline.add_entry(store, cid, "call", score="3", occurred_at=at(20))
    assert field(store, cid) == 9                       # backdated: not the latest
    timeline.add_entry(store, cid, "call", summary="no score", occurred_at=at(1))
    assert field(store, cid) == 9                       # an entry without a score changes nothing
    timeline.update_entry(store, survey.id, score="8.5")
    assert field(store, cid) == Decimal("8.5")
    timeline.update_entry(store, old.id, occurred_at=at(2))
    assert field(store, cid) == 3                       # moved to the newest
    timeline.delete_entry(store, old.id)
    assert field(store, cid) == Decimal("8.5")
    timeline.restore_entry(store, old.id)
    assert field(store, cid) == 3
    timeline.update_entry(store, old.id, score="")      # the score taken off the entry
    assert field(store, cid) == Decimal("8.5")
    timeline.delete_entry(store, survey.id)
    timeline.delete_entry(store, first.id)
    assert field(store, cid) is None                    # no score left
    assert timeline.get_entry(store, first.id, include_deleted=True).score == 7


def test_a_score_off_the_fields_scale_is_refused_naming_the_score(store):
    cid = store.create_customer({"name": "李四"}).id
    with pytest.raises(RecordInvalid) as caught:
        timeline.add_entry(store, cid, "call", score="11")
    assert "score" in caught.value.errors
    assert "at most 10" in str(caught.value.errors["score"])
    with pytest.raises(FieldError) as caught:
        store.add_interaction(cid, "call", score="-1")
    assert "Satisfaction score" in str(caught.value)
    with pytest.raises(RecordInvalid):
        timeline.add_entry(store, cid, "survey", score="很好")
    assert store.Interaction.select().count() == 0
    assert field(store, cid) is None


def test_a_value_typed_before_the_history_becomes_its_opening_entry(store):
    cid = store.create_customer({"name": "王五", "satisfaction": "6"}).id
    C = store.Customer
    C.update(updated_at=at(100)).where(C.id == cid).execute()
    call = store.add_interaction(cid, "call", summary="回访", score=Decimal(9), occurred_at=at(3))
    assert field(store, cid) == 9
    kinds = [(e.kind, e.score, e.occurred_at) for e in timeline.entries(store, cid)]
    assert kinds[1][0] == "survey" and kinds[1][1] == 6
    assert kinds[1][2].date() == TODAY - dt.timedelta(days=100)   # dated at its last change
    timeline.delete_entry(store, call.id)
    assert field(store, cid) == 6                       # the old value comes back, not empty


def test_recompute_sets_every_field_from_the_timeline(store):
    a = store.create_customer({"name": "甲"}).id
    b = store.create_customer({"name": "乙", "satisfaction": "4"}).id
    timeline.add_entry(store, a, "survey", score=8, occurred_at=at(3))
    C = store.Customer
    C.update(satisfaction=Decimal(1)).where(C.id == a).execute()   # out of step
    opened, changed = satisfaction.recompute(store)
    assert (opened, changed) == (1, 1)                  # 乙's typed 4 opened; 甲's fixed
    assert field(store, a) == 8 and field(store, b) == 4
    assert satisfaction.recompute(store) == (0, 0)      # twice changes nothing more


def test_an_older_database_gets_the_score_column_and_opening_entries(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store.open(url, user="tester")
    cid = store.create_customer({"name": "老客户", "satisfaction": "7.5"}).id
    store.create_customer({"name": "没有评分"})
    store.db.execute_sql(f"DROP INDEX {satisfaction.SCORED_INDEX}")   # as before this version
    store.db.execute_sql("ALTER TABLE interaction DROP COLUMN score")
    store.set_meta(satisfaction.OPENED_META, None)
    store.close()
    store = Store.open(url, user="tester")
    entries = timeline.entries(store, cid)
    assert [(e.kind, e.score) for e in entries] == [("survey", Decimal("7.5"))]
    assert satisfaction.SCORED_INDEX in [i.name for i in store.db.get_indexes("interaction")]
    assert store.Interaction.select().count() == 1
    store.close()
    store = Store.open(url, user="tester")               # once only
    assert store.Interaction.select().count() == 1
    store.close()


def make_world(store):
    """Scores in three months; customers in two segments and one without."""
    C = store.Customer
    ids = {}
    for name, segment in (("A", "high_value"), ("B", "high_value"), ("C", "at_risk"), ("D", None)):
        ids[name] = store.create_customer({"name": f"客户{name}"}).id
        C.update(segment=segment).where(C.id == ids[name]).execute()
    scores = {"A": [(dt.datetime(2026, 1, 10, 9), 10), (dt.datetime(2026, 3, 2, 9), 9)],
              "B": [(dt.datetime(2026, 1, 20, 9), 6)],
              "C": [(dt.datetime(2026, 3, 5, 9), 3), (dt.datetime(2025, 2, 1, 9), 10)],
              "D": [(dt.datetime(2026, 3, 14, 9), 8)]}
    for name, items in scores.items():
        for when, score in items:
            timeline.add_entry(store, ids[name], "survey", score=score, occurred_at=when)
    return ids


def test_trend_by_month(store):
    make_world(store)
    report = reports.run(store, "satisfaction", today=TODAY)
    rows = {r["month"]: r for r in report.rows}
    assert list(rows)[0] == "2025-04" and list(rows)[-1] == "2026-03"   # twelve months
    assert "2025-02" not in rows                         # older than a year
    jan, feb, mar = rows["2026-01"], rows["2026-02"], rows["2026-03"]
    assert (jan["responses"], jan["average"], jan["nps"]) == (2, Decimal("8.0"), 0)
    assert (feb["responses"], feb["average"]) == (0, None)
    # March: 9 (promoter), 3 (detractor), 8 (passive)
    assert (mar["responses"], mar["customers"], mar["average"]) == (3, 3, Decimal("6.7"))
    assert (mar["promoters"], mar["detractors"], mar["nps"]) == (Decimal("33.3"),
                                                                 Decimal("33.3"), 0)
    assert report.totals["responses"] == 5 and report.totals["average"] == Decimal("7.2")
    assert report.totals["nps"] == 0                    # 2 promoters, 2 detractors of 5


def test_trend_by_segment_and_its_drill_down_query(store):
    from kehu.tui.screens.reports import drill_query

    ids = make_world(store)
    timeline.add_entry(store, ids["B"], "survey", score=2, occurred_at=dt.datetime(2025, 10, 1))
    report = reports.run(store, "satisfaction_segment", today=TODAY)
    rows = {r["key"]: r for r in report.rows}
    high = rows["high_value"]     # the year: 10 9 6 2; the last three months: 10 9 6
    assert (high["responses"], high["average"], high["recent"]) == (4, Decimal("6.8"),
                                                                    Decimal("8.3"))
    assert (rows["at_risk"]["responses"], rows["at_risk"]["average"]) == (1, Decimal("3.0"))
    assert rows["potential"]["responses"] == 0
    assert rows[None]["responses"] == 1 and rows[None]["nps"] == 0
    assert drill_query(store, report, rows["at_risk"]) == "segment:at_risk"
    scoped = reports.run(store, "satisfaction_segment", reports.scope(store, query="客户A"),
                         today=TODAY)
    assert scoped.totals["responses"] == 2
    assert [c.key for c in report.columns] == ["segment", "responses", "customers", "average",
                                               "recent", "nps"]


def test_kehu_log_with_a_satisfaction_score_and_the_report_as_json(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    store = Store.open(url, user="tester")
    cid = store.create_customer({"name": "赵六"}).id
    store.close()

    def cli(*argv):
        code = main(["--db", url, "--user", "tester", "--lang", "en", *argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    code, out, _ = cli("log", "赵六", "call", "回访：满意", "--satisfaction", "9")
    assert code == 0 and "satisfaction 9.0" in out
    code, _, err = cli("log", "赵六", "call", "x", "--satisfaction", "12")
    assert code == 2 and "Satisfaction score" in err and "at most 10" in err
    store = Store.open(url, user="tester")
    assert field(store, cid) == 9
    store.close()
    code, out, _ = cli("report", "satisfaction", "--json")
    data = json.loads(out)
    assert data["totals"]["responses"] == 1 and data["totals"]["average"] == "9.0"
    assert data["totals"]["nps"] == 100
    code, out, _ = cli("satisfaction", "recompute")
    assert code == 0 and "changed: 0" in out


async def test_the_call_screen_saves_the_score_and_the_field_follows(tmp_path):
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.log_call import LogCallScreen

    store = Store.open(f"sqlite:///{tmp_path / 'k.db'}", user="tester")
    cid = store.create_customer({"name": "张三", "mobile": "13800138000"}).id
    app = KehuApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screen = LogCallScreen(cid)
        await app.push_screen(screen)
        await pilot.pause()
        await pilot.press(*"ok")
        screen.query_one("#call-score").focus()
        await pilot.press("1", "1", "ctrl+s")
        await pilot.pause()
        assert app.screen is screen                       # refused, the score named
        assert "at most 10" in str(screen.query_one("#call-error").render())
        assert store.Interaction.select().count() == 0
        await pilot.press("backspace", "backspace", "8", ".", "5", "ctrl+s")
        await pilot.pause()
        assert app.screen is not screen
    entry = store.Interaction.get()
    assert (entry.kind, entry.summary, entry.score) == ("call", "ok", Decimal("8.5"))
    assert field(store, cid) == Decimal("8.5")
    store.close()


def test_a_merge_shows_the_latest_score_of_both_timelines_and_undo_gives_each_its_own(store):
    from kehu.models import dedupe

    a = store.create_customer({"name": "张三", "mobile": "13800138000"}).id
    b = store.create_customer({"name": "张三", "mobile": "13800138000"}).id
    timeline.add_entry(store, a, "survey", score=5, occurred_at=at(30))
    timeline.add_entry(store, b, "survey", score=9, occurred_at=at(2))
    record = dedupe.merge(store, a, b)
    assert field(store, a) == 9
    dedupe.undo_merge(store, record.id)
    assert field(store, a) == 5 and field(store, b) == 9


async def test_a_survey_typed_in_the_timeline_shows_its_score_and_sets_the_field(tmp_path):
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.timeline import TimelineScreen

    store = Store.open(f"sqlite:///{tmp_path / 'k.db'}", user="tester")
    cid = store.create_customer({"name": "钱七"}).id
    app = KehuApp(store)
    async with app.run_test(size=(120, 30)) as pilot:
        await app.push_screen(TimelineScreen(cid))
        await pilot.pause()
        await pilot.press("a")
        await pilot.pause()
        await pilot.press("enter", *"sur", "enter", "tab", "ctrl+u", *"2026-03-01 10:00", "tab",
                          "tab", *"问卷", "tab", "tab", *"9.5", "enter")
        await pilot.pause()
        screen = app.screen
        shown = min(screen.list.row_count, screen.list.scrollable_content_region.height)
        lines = [screen.list.render_line(y).text for y in range(shown)]
        assert len(lines) == 1 and "问卷" in lines[0] and "☺9.5" in lines[0]
    assert field(store, cid) == Decimal("9.5")
    store.close()
