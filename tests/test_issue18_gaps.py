"""Issue 18 checked point by point (notes/issue18_checklist.md): what the agenda,
churn and query tests did not cover yet. A small world with a frozen day
(tests/test_agenda.make_world), on SQLite and PostgreSQL."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from kehu.models import agenda, query, timeline
from kehu.models.results import ResultSet
from kehu.models.store import Store
from test_agenda import TODAY, at, make_world, names


@pytest.fixture
def frozen_query_day(monkeypatch):
    monkeypatch.setattr(query, "_today", lambda: TODAY)


def test_every_list_handled_stays_away_after_a_restart(store, db_url):
    """Done, snooze (+3d, +1w) and a logged call on each of the five lists; the
    database closed and opened again (a new day of kehu): nothing comes back
    until a snooze ends."""
    ids = make_world(store)
    s = agenda.build(store, TODAY).sections
    assert all(s[kind] for kind in agenda.KINDS), {k: len(v) for k, v in s.items()}
    agenda.log_call(store, s["followup"][0], occurred_at=at(0))     # Alpha's follow-up
    agenda.done(store, s["followup"][1])                            # Beta's
    agenda.snooze(store, s["cadence"][0], 3, TODAY)                 # Gamma +3d
    agenda.done(store, s["birthday"][0])                            # Beta's birthday
    agenda.done(store, s["churn"][0])                               # Epsilon
    assert agenda.snooze(store, s["churn"][1], 7, TODAY) == TODAY + dt.timedelta(days=7)
    agenda.snooze(store, s["verify"][1], 7, TODAY)                  # Beta's check +1w
    agenda.done(store, s["verify"][0])                              # Alpha's check
    store.close()
    again = Store.open(db_url, user="tester")
    try:
        got = agenda.build(again, TODAY).sections
        assert names(got["followup"]) == []
        # Alpha was called today (the follow-up's call): its cadence item left too
        assert names(got["cadence"]) == []
        assert names(got["birthday"]) == ["Alpha"]
        assert names(got["churn"]) == []
        assert names(got["verify"]) == []
        assert agenda.build(again, TODAY).counts == {
            "followup": 0, "cadence": 0, "birthday": 1, "churn": 0, "verify": 0}
        later = agenda.build(again, TODAY + dt.timedelta(days=7)).sections
        assert names(later["cadence"]) == ["Gamma"]
        assert names(later["churn"]) == ["Zeta"]     # the week is over; Epsilon stays done
        assert names(later["verify"]) == ["Beta"]
        # the logged call is on Alpha's timeline, and the follow-up is marked done
        alpha = timeline.entries(again, ids["Alpha"])
        assert alpha[0].kind == "call" and alpha[0].occurred_at == at(0)
        assert timeline.get_entry(again, s["followup"][0].entry_id).follow_up_done is True
    finally:
        again.close()


def test_a_manager_chooses_whose_agenda_and_cli_owner(store, sqlite_url, capsys, monkeypatch):
    make_world(store)
    assert agenda.build(store, TODAY, owner="bob").owner == "bob"
    assert names(agenda.build(store, TODAY, owner="bob").sections["birthday"]) == ["Bobs"]
    assert agenda.build(store, TODAY, owner="all").owner is None
    if store.is_postgres:
        return
    store.close()
    monkeypatch.setenv("KEHU_DB", sqlite_url)
    from kehu.tui.cli import main

    assert main(["--user", "tester", "agenda", "--today", TODAY.isoformat(), "--owner", "bob",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["owner"] == "bob"
    assert [i["name"] for i in data["cadence"]] == ["Bobs"]
    assert main(["--user", "tester", "agenda", "--today", TODAY.isoformat(), "--owner", "*"]) == 0
    out = capsys.readouterr().out
    assert "Bobs" in out and "Gamma" in out


@pytest.mark.parametrize("words, expected", [
    ("birthday:this-week", ["Alpha", "Beta", "Bobs"]),
    ("birthday.month:1", ["Alpha", "Gamma"]),
    ("email:empty grade:A", ["Bobs"]),
    ("-email:*", None),                 # the same as email:empty
    ("cadence:overdue", ["Alpha", "Bobs", "Gamma"]),
])
def test_each_agenda_word_works_as_a_saved_view(store, frozen_query_day, words, expected,
                                                sqlite_url, capsys, monkeypatch):
    from kehu.models.views import View, load_views, save_view

    ids = make_world(store)
    store.update_customer(ids["Alpha"], {"email": "a@example.com"})
    save_view(View("mine", {"en": "Mine", "zh": "我的"}, query=words), store.schema)
    view = load_views(store.schema).find("Mine")
    assert view is not None and view.query == words
    got = sorted(r["name"] for r in view.result_set(store).page(0, 100))
    if expected is None:
        expected = sorted(r["name"] for r in ResultSet(store, "email:empty").page(0, 100))
        assert "Alpha" not in expected and len(expected) == 7
    assert got == expected
    # narrowed by the search box like any view
    assert sorted(r["name"] for r in view.result_set(store, "grade:A").page(0, 100)) == \
        [n for n in expected if n in ("Alpha", "Bobs")]


def test_churn_follows_every_purchase_path_without_a_recompute(store):
    """A purchase logged by the call screen's path (Store.add_interaction), one
    deleted and one restored each move the churn score at once."""
    ids = make_world(store)
    before = agenda.churn_for(store, ids["Zeta"], TODAY)
    assert (before.interval, before.days, before.score) == (10.0, 80, 8.0)
    row = store.add_interaction(ids["Zeta"], "purchase", amount=Decimal("100"),
                                occurred_at=at(5))
    after = agenda.churn_for(store, ids["Zeta"], TODAY)
    assert (after.interval, after.days, after.warned) == (95 / 3, 5, False)
    assert after.why() == "usually buys every 32 days; 5 days since the last order"
    assert "Zeta" not in names(agenda.build(store, TODAY).sections["churn"])
    timeline.delete_entry(store, row.id)
    assert agenda.churn_for(store, ids["Zeta"], TODAY).score == pytest.approx(8.0)
    assert "Zeta" in names(agenda.build(store, TODAY).sections["churn"])
    timeline.restore_entry(store, row.id)
    assert agenda.churn_for(store, ids["Zeta"], TODAY).days == 5


def test_birthday_window_counts_today_and_n_minus_1_days_on(store):
    """'The next N days' is N days, today included: 14 by default (today … +13)."""
    make_world(store)
    for ahead, name in ((13, "Last"), (14, "Beyond")):
        day = TODAY + dt.timedelta(days=ahead)
        store.create_customer({"name": name, "owner": "tester",
                               "birthday": day.replace(year=1990)})
    got = names(agenda.build(store, TODAY).sections["birthday"])
    assert "Last" in got and "Beyond" not in got and got[0] == "Beta"   # Beta: today
    assert names(agenda.build(store, TODAY, days=1).sections["birthday"]) == ["Beta"]


def test_due_windows_today_week_and_overdue(store):
    """The follow-up lists: today is today's, 'week' is the next 7 days after
    today (+1 … +7), overdue is before today."""
    acme = store.create_customer({"name": "Acme"}).id
    for ahead in (-1, 0, 1, 7, 8):
        timeline.add_entry(store, acme, "call", summary=f"{ahead:+d}",
                           next_follow_up=TODAY + dt.timedelta(days=ahead))
    summaries = {w: [r.summary for r in timeline.follow_ups(store, w, TODAY)]
                 for w in ("overdue", "today", "week")}
    assert summaries == {"overdue": ["-1"], "today": ["+0"], "week": ["+1", "+7"]}


# --- the screens: whose agenda, and what the rules did after a save -----------------

async def test_agenda_o_chooses_whose_agenda(sqlite_url):
    from kehu.models import i18n
    from kehu.models.config import Config
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.agenda import AgendaScreen

    i18n.set_lang("en")
    s = Store.open(sqlite_url, user="tester")
    old = dt.datetime.now() - dt.timedelta(days=80)
    for name, owner in (("Mine", "tester"), ("Bobs", "bob"), ("Cats", "cat")):
        row = s.create_customer({"name": name, "owner": owner, "grade": "A"})
        s.Customer.update(created_at=old).where(s.Customer.id == row.id).execute()
    try:
        async with KehuApp(s, Config()).run_test(size=(80, 24)) as pilot:
            await pilot.press("f10")
            await pilot.pause()
            screen = pilot.app.screen
            assert isinstance(screen, AgendaScreen)
            assert [i.name for i in screen.result.sections["cadence"]] == ["Mine"]
            await pilot.press("o")
            await pilot.pause()
            picker = pilot.app.screen
            shown = [str(picker.query_one("OptionList").get_option_at_index(i).prompt)
                     for i in range(picker.query_one("OptionList").option_count)]
            assert shown == ["tester (mine)", "bob", "cat", "Everybody"]
            await pilot.press("down", "enter")          # bob
            await pilot.pause()
            assert pilot.app.screen is screen and screen.result.owner == "bob"
            assert [i.name for i in screen.result.sections["cadence"]] == ["Bobs"]
            assert "Agenda of bob" in str(screen.query_one("#agenda-title").render())
            await pilot.press("o", "end", "enter")       # everybody
            await pilot.pause()
            assert screen.result.owner is None
            assert sorted(i.name for i in screen.result.sections["cadence"]) == \
                ["Bobs", "Cats", "Mine"]
            await pilot.press("down")
            handled = screen.current.name
            await pilot.press("x")                       # done by the manager
            await pilot.pause()
            await pilot.press("ctrl+r")
            await pilot.pause()
            left = [i.name for i in screen.result.sections["cadence"]]
            assert handled not in left and len(left) == 2
    finally:
        s.close()


GRADE_RULE = """
rules:
  - name: grade-a-call
    when: grade_changed
    if: "grade:A"
    then:
      - follow_up: {in: 7d, note: "welcome to grade A", kind: call}
      - add_tag: key
"""


async def test_the_customer_form_and_the_call_screen_say_what_rules_did(sqlite_url):
    from kehu.models import i18n
    from kehu.models.config import Config, config_dir
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.log_call import LogCallScreen

    i18n.set_lang("en")
    (config_dir() / "automations.yaml").write_text(GRADE_RULE, encoding="utf-8")
    s = Store.open(sqlite_url, user="tester")
    dora = s.create_customer({"name": "Dora", "grade": "C"}).id
    try:
        app = KehuApp(s, Config())
        async with app.run_test(size=(100, 30)) as pilot:
            app.open_customer(dora)
            await pilot.pause()
            screen = app.screen
            screen.query_one("#field-grade").value = "A"
            await pilot.pause()
            await pilot.press("ctrl+s")
            await pilot.pause()
            said = [n.message for n in app._notifications]
            assert any(m.startswith("Saved") and "rule grade-a-call" in m and "tag +key" in m
                       for m in said), said
            assert s.get_customer(dora).tags == "key"
            # a broken rule file: the call is saved, and the call's message says so
            (config_dir() / "automations.yaml").write_text("rules: [oops\n", encoding="utf-8")
            await app.push_screen(LogCallScreen(dora))
            await pilot.pause()
            await pilot.press(*"hello", "ctrl+s")
            await pilot.pause()
            said = [n.message for n in app._notifications]
            assert any("Call with Dora" in m and "automations.yaml" in m for m in said), said
        assert [e.summary for e in timeline.entries(s, dora) if e.kind == "call"][0] == "hello"
    finally:
        s.close()


# --- export --all / import --all carry what the rules did -----------------------------

def test_rule_firings_travel_with_export_all_so_a_run_fires_nothing_twice(store, tmp_path,
                                                                          monkeypatch):
    from kehu.models import automations
    from kehu.models.whole_db import export_all, import_all
    from test_automations import QUIET, quiet_world, write_rules

    monkeypatch.setattr(automations, "_today", lambda: TODAY)
    monkeypatch.setattr(query, "_today", lambda: TODAY)
    write_rules(QUIET + """
      - name: any-order
        when: purchase_logged
        then:
          - add_tag: buyer
""")
    # a purchase first (on a small database it recomputes every last contact from the
    # timeline, which quiet_world then sets by hand)
    buyer = store.create_customer({"name": "Buyer", "mobile": "13812345671"}).id
    entry = timeline.add_entry(store, buyer, "purchase", amount=Decimal("10"), occurred_at=at(1))
    quiet_world(store)
    first = automations.run(store, TODAY)
    assert sorted((f.rule, f.name) for f in first.firings) == [("no-phone", "NoPhone"), ("quiet", "Old")]
    assert automations.run(store, TODAY).firings == []
    written = export_all(store, tmp_path / "all")
    assert written.counts["automation_fired"] == 3
    target = Store.open(f"sqlite:///{tmp_path / 'target.db'}", user="tester")
    try:
        here = target.create_customer({"name": "Already here", "mobile": "13812345672"})
        timeline.add_entry(target, here.id, "call", summary="ids move on")
        result = import_all(target, tmp_path / "all")
        assert result.counts["automation_fired"] == 3 and result.left_out == []
        assert automations.run(target, TODAY).firings == []           # nothing fires again
        F = automations.fired_model(target)
        buyer = target.Customer.get(name="Buyer")
        new_entry = [e for e in timeline.entries(target, buyer.id) if e.kind == "purchase"][0]
        assert new_entry.id != entry.id
        assert [r.occasion for r in F.select().where(F.rule == "any-order")] == [
            f"purchase:{new_entry.id}"]
        assert {r.customer_id for r in F.select()} == {
            target.Customer.get(name=n).id for n in ("Old", "NoPhone", "Buyer")}
    finally:
        target.close()


async def test_each_agenda_item_is_one_line_at_80_columns(sqlite_url):
    """Seen in tmux at 80x24: a long why ('never contacted, entered 3523 days ago',
    a long follow-up note) wrapped onto a second line; now it is cut with …"""
    from rich.cells import cell_len

    from kehu.models import i18n
    from kehu.models.config import Config
    from kehu.tui.app import KehuApp

    i18n.set_lang("en")
    s = Store.open(sqlite_url, user="tester")
    try:
        acme = s.create_customer({"name": "石家庄启明咨询有限公司", "owner": "tester"}).id
        timeline.add_entry(s, acme, "call", summary="Quarterly business review with the purchasing team",
                           next_follow_up=dt.date.today() - dt.timedelta(days=6))
        for size in ((80, 24), (120, 35)):
            async with KehuApp(s, Config()).run_test(size=size) as pilot:
                await pilot.press("f10")
                await pilot.pause()
                listing = pilot.app.screen.query_one("#agenda-list")
                shown = [str(listing.get_option_at_index(i).prompt)
                         for i in range(listing.option_count)]
                line = next(x for x in shown if "Quarterly" in x)
                assert cell_len(line) <= size[0] - 4, (size, line)
                assert line.endswith("…") is (size[0] == 80), line
                assert listing.virtual_size.height == len(shown)     # nothing wrapped
    finally:
        s.close()


@pytest.mark.parametrize("how", ["kehu demo", "kehu --demo"])
def test_on_the_demo_segments_stages_and_rfm_agree(db_url, how, monkeypatch):
    """Issue 18 saw 333 customers in 成熟期 without purchases and 已流失 (128) ≠ 流失
    (515) on the demo. On a demo made by `kehu demo` or by `kehu --demo` (the TUI
    filling an empty database; it left every segment empty and no purchase rhythm
    while the stages said lost): stage lost and segment lost are the same customers,
    no stage that needs purchases is held without one, every one-time buyer has
    F = 1, only buyers have scores, and the churn rhythm is there."""
    from kehu.models import demo
    from kehu.tui import app as tui_app
    from kehu.tui.cli import main

    if how == "kehu demo":
        assert main(["demo", "--db", db_url, "--user", "tester", "--customers", "300",
                     "--seed", "11"]) == 0
    else:
        # kehu's first import of its demo sub-command must bind the real generate, not
        # this stand-in (kehu imports a sub-command's module only when it is needed)
        import kehu.tui.cmd.demo  # noqa: F401
        real = demo.generate
        monkeypatch.setattr(demo, "generate", lambda s, customers: real(s, 300, seed=11))
        monkeypatch.setattr(tui_app.KehuApp, "run", lambda self: None)
        assert main(["--db", db_url, "--user", "tester", "--demo"]) == 0
    store = Store.open(db_url, user="tester")

    def count(text):
        return ResultSet(store, text).count()

    assert store.count_customers() == 300

    def count(text):
        return ResultSet(store, text).count()

    assert count("stage:lost") == count("segment:lost") > 0
    assert count("stage:lost -segment:lost") == count("segment:lost -stage:lost") == 0
    assert count("-purchase_count:* stage:growth,maturity,retention,lost") == 0
    assert count("stage:maturity purchase_count<5") == 0
    assert count("purchase_count:1") == count("rfm_f:1") > 0
    assert count("purchase_count:1 -rfm_f:1") == 0
    assert count("rfm_f:*") == count("segment:*") == count("purchase_count>0")
    R = agenda.agenda_models(store)["Rhythm"]
    assert R.select().count() == count("purchase_count>=3") > 0
    store.close()


async def test_the_agenda_key_works_from_the_customer_page(sqlite_url):
    from kehu.models import i18n
    from kehu.models.config import Config
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.agenda import AgendaScreen

    i18n.set_lang("en")
    s = Store.open(sqlite_url, user="tester")
    try:
        acme = s.create_customer({"name": "Acme", "owner": "tester"}).id
        app = KehuApp(s, Config())
        async with app.run_test(size=(80, 24)) as pilot:
            app.open_customer(acme)
            await pilot.pause()
            await pilot.press("ctrl+y")
            await pilot.pause()
            assert isinstance(app.screen, AgendaScreen)
            await pilot.press("escape")
            await pilot.pause()
            assert app.screen.__class__.__name__ == "DetailScreen"
    finally:
        s.close()


def test_done_on_a_verification_due_records_it_as_verified(store, db_url):
    """'x done' on a 核实 line means it was verified: the check is recorded (the
    kinds due, by whom, when), so verify:due and the quality report agree with the
    agenda; a viewer's done only hides the line."""
    from kehu.models import verify
    from kehu.models.security import add_user

    ids = make_world(store)
    alpha = next(i for i in agenda.build(store, TODAY).sections["verify"] if i.name == "Alpha")
    agenda.done(store, alpha)
    V = store.Verification
    rows = {(r.kind, r.verified_by) for r in V.select().where(V.customer == ids["Alpha"])}
    assert rows == {(k, "tester") for k in alpha.kinds}
    assert "Alpha" not in names(agenda.build(store, TODAY + dt.timedelta(days=1))
                                .sections["verify"])
    assert verify.due_on(V.get(V.customer == ids["Alpha"]).verified_at, 90) > TODAY
    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        beta = next(i for i in agenda.build(vic, TODAY, owner="*").sections["verify"]
                    if i.name == "Beta")
        agenda.done(vic, beta)
        assert V.select().where(V.customer == ids["Beta"]).count() == 0
        assert "Beta" not in names(agenda.build(vic, TODAY, owner="*").sections["verify"])
    finally:
        vic.close()


def test_the_churn_and_follow_up_lists_are_query_words_and_views(store, frozen_query_day):
    """Every agenda list is also a saved view: churn:warned and follow_up:due find the
    customers of the agenda's churn warnings and follow-ups due (with -, the others)."""
    from kehu.models.views import View, load_views, save_view

    ids = make_world(store)
    assert found(store, "churn:warned") == ["Epsilon", "Zeta"]
    assert found(store, "流失预警:预警") == ["Epsilon", "Zeta"]
    assert found(store, "follow_up:due") == ["Alpha", "Beta"]      # Gamma's is tomorrow
    assert found(store, "跟进:到期 grade:A") == ["Alpha"]
    assert "Epsilon" not in found(store, "-churn:warned") and "Eta" in found(store, "-churn:warned")
    agenda.done(store, agenda.build(store, TODAY).sections["followup"][0])   # Alpha's, done
    assert found(store, "follow_up:due") == ["Beta"]
    timeline.add_entry(store, ids["Zeta"], "purchase", amount=Decimal("100"), occurred_at=at(0))
    assert found(store, "churn:warned") == ["Epsilon"]
    save_view(View("risk", {"en": "At risk"}, query="churn:warned"), store.schema)
    view = load_views(store.schema).find("At risk")
    assert [r["name"] for r in view.result_set(store).page(0, 10)] == ["Epsilon"]
    with pytest.raises(query.QueryError, match="churn:warned"):
        query.parse(store.schema, "churn:soon")
    with pytest.raises(query.QueryError, match="follow_up:due"):
        query.parse(store.schema, "follow_up>3")


def found(store, text):
    return sorted(r["name"] for r in ResultSet(store, text).page(0, 100))


async def test_quick_entry_says_what_the_customer_created_rule_did(sqlite_url):
    """Ctrl+N, a name, Ctrl+S: the welcome rule's follow-up is said with the save."""
    from kehu.models import i18n
    from kehu.models.config import Config, config_dir
    from kehu.tui.app import KehuApp

    i18n.set_lang("en")
    (config_dir() / "automations.yaml").write_text(
        "rules:\n  - name: welcome-new-customer\n    enabled: true\n", encoding="utf-8")
    s = Store.open(sqlite_url, user="tester")
    try:
        app = KehuApp(s, Config())
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.press("ctrl+n")
            await pilot.pause()
            await pilot.press(*"Newco", "ctrl+s")
            await pilot.pause()
            said = [n.message for n in app._notifications]
            assert any("Newco" in m and "rule welcome-new-customer" in m for m in said), said
        [row] = list(s.customers())
        assert [e.summary for e in timeline.entries(s, row.id)] == [
            "Welcome call / 新客户首次回访"]
    finally:
        s.close()


def test_kehu_agenda_done_snooze_and_call_by_key(sqlite_url, capsys, monkeypatch):
    """The screen's x / s / w / c as a sub-command for scripts: keys from --json."""
    from kehu.tui.cli import main

    monkeypatch.setenv("KEHU_DB", sqlite_url)
    store = Store.open(sqlite_url, user="tester")
    ids = make_world(store)
    store.close()
    day = ["--user", "tester", "agenda", "--today", TODAY.isoformat()]
    assert main([*day, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    gamma, alpha = (i["key"] for i in data["cadence"])
    churn = data["churn"][0]["key"]
    assert main([*day, "--done", churn, "--snooze", gamma, "--snooze-days", "7",
                 "--call", alpha, "--note", "rang from cron"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"#{ids['Epsilon']} Epsilon: done (usually buys every 40 days")
    assert out[1] == f"#{ids['Gamma']} Gamma: comes back on 2027-01-04"
    assert out[2].startswith(f"#{ids['Alpha']} Alpha: call logged (entry #")
    assert main([*day, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["cadence"] == [] and [i["name"] for i in data["churn"]] == ["Zeta"]
    code = main([*day, "--done", gamma])     # snoozed: not on the agenda now
    assert code != 0, code
    err = capsys.readouterr().err
    assert f"{gamma} is not on the agenda" in err
    store = Store.open(sqlite_url, user="tester")
    try:
        assert timeline.entries(store, ids["Alpha"])[0].summary == "rang from cron"
    finally:
        store.close()
