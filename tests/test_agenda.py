"""The agenda (models/agenda.py, `kehu agenda`) on a small world with a frozen
day, and the query words it brought (birthday:this-week, birthday.month:N,
field:empty / field:*, last_contact, cadence:overdue). SQLite and PostgreSQL."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from kehu.models import agenda, query, timeline
from kehu.models.results import ResultSet
from kehu.models.store import Store

TODAY = dt.date(2026, 12, 28)      # birthdays in the next 14 days cross the year end


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), dt.time(10))


def make_world(store):
    C = store.Customer
    ids = {}

    def customer(name, owner="tester", created=400, **data):
        row = store.create_customer({"name": name, "owner": owner, **data})
        C.update(created_at=at(created)).where(C.id == row.id).execute()
        ids[name] = row.id
        return row.id

    customer("Alpha", grade="A", birthday=dt.date(1980, 1, 3))
    customer("Beta", grade="B", birthday=dt.date(1990, 12, 28))
    customer("Gamma", grade="C", created=100, birthday=dt.date(1985, 1, 20))
    customer("Delta", grade="D", created=500)
    customer("Bobs", owner="bob", grade="A", created=100, birthday=dt.date(1970, 12, 30))
    for name, (days, amount) in {"Epsilon": ((200, 160, 120), "1000"),
                                 "Zeta": ((100, 90, 80), "100"),
                                 "Eta": ((30, 20, 10), "5000")}.items():
        cid = customer(name, grade="D")
        for ago in days:
            timeline.add_entry(store, cid, "purchase", amount=Decimal(amount),
                               occurred_at=at(ago))
    timeline.add_entry(store, ids["Alpha"], "call", summary="send the offer",
                       occurred_at=at(40), next_follow_up=TODAY - dt.timedelta(days=1))
    timeline.add_entry(store, ids["Beta"], "call", summary="ring back",
                       occurred_at=at(40), next_follow_up=TODAY)
    timeline.add_entry(store, ids["Gamma"], "visit", occurred_at=at(120),
                       next_follow_up=TODAY + dt.timedelta(days=1))
    # Gamma's visit was before it was entered: it was never *contacted* since
    C.update(last_contact_at=None).where(C.id == ids["Gamma"]).execute()
    return ids


def names(items):
    return [i.name for i in items]


def test_each_list_for_the_owner(store):
    make_world(store)
    got = agenda.build(store, TODAY)
    assert got.owner == "tester"
    s = got.sections
    assert names(s["followup"]) == ["Alpha", "Beta"]
    assert s["followup"][0].why == "follow-up 1 day overdue: send the offer"
    assert s["followup"][1].why == "follow-up due today: ring back"
    # A every 30 days (40 days silent), C every 90 (never, entered 100 days ago);
    # B 60 (40 days): not yet; D: none. Longest silent first. Bob's customer is not mine.
    assert names(s["cadence"]) == ["Gamma", "Alpha"]
    assert s["cadence"][1].why == "call every 30 days; 40 days since the last contact"
    assert s["cadence"][0].why == "call every 90 days; never contacted, entered 100 days ago"
    # today and 6 days on (in the new year, with the age then); Gamma's 20 Jan is too far
    assert names(s["birthday"]) == ["Beta", "Alpha"]
    assert [(i.when, i.age) for i in s["birthday"]] == [(TODAY, 36), (dt.date(2027, 1, 3), 47)]
    assert s["birthday"][1].why == "birthday in 6 days (01-03), turns 47"
    # bigger yearly value first; Eta buys every 10 days and bought 10 days ago: fine
    assert names(s["churn"]) == ["Epsilon", "Zeta"]
    assert s["churn"][0].why == "usually buys every 40 days; 120 days since the last order"
    assert s["churn"][0].score == pytest.approx(3.0)
    assert s["churn"][0].value == pytest.approx(1000 * 365 / 40)
    assert s["churn"][1].score == pytest.approx(8.0)
    # verification by grade (verification.yaml): A every 90 days, B 180 (both entered
    # 400 days ago: due), C 365 (Gamma, 100 days: not yet), D 730 (Delta, 500: not yet)
    assert names(s["verify"]) == ["Alpha", "Beta"]
    assert got.counts["cadence"] == 2 and got.counts["churn"] == 2


def test_manager_chooses_whose(store):
    make_world(store)
    assert names(agenda.build(store, TODAY, owner="bob").sections["cadence"]) == ["Bobs"]
    everybody = agenda.build(store, TODAY, owner="*")
    assert everybody.owner is None
    assert names(everybody.sections["cadence"]) == ["Gamma", "Bobs", "Alpha"]
    assert "Bobs" in names(everybody.sections["birthday"])


def test_counts_stop_at_the_cap_and_say_so(store, monkeypatch):
    """Each list is a page; its count stops past COUNT_CAP (1,000) so the agenda never
    counts 150,000 matches at 1M, and says "1,000+"."""
    make_world(store)
    monkeypatch.setattr(agenda, "COUNT_CAP", 2)
    everybody = agenda.build(store, TODAY, owner="*")
    assert names(everybody.sections["cadence"]) == ["Gamma", "Bobs", "Alpha"]   # the page
    assert everybody.counts["cadence"] == 3 and everybody.count_text("cadence") == "2+"
    assert everybody.counts["churn"] == 2 and everybody.count_text("churn") == "2"
    assert "cadence" in everybody.capped and "churn" not in everybody.capped
    assert everybody.as_dict()["counts_capped"] == everybody.capped
    total = sum(min(n, 2) for n in everybody.counts.values())   # the title: a lower bound
    assert everybody.total_text() == f"{total}+"


def test_churn_score_and_its_explanation(store):
    ids = make_world(store)
    churn = agenda.churn_for(store, ids["Epsilon"], TODAY)
    assert (churn.interval, churn.days, churn.score, churn.warned) == (40.0, 120, 3.0, True)
    assert churn.why() == "usually buys every 40 days; 120 days since the last order"
    assert agenda.churn_for(store, ids["Eta"], TODAY).warned is False
    assert agenda.churn_for(store, ids["Alpha"], TODAY) is None   # no purchases
    # a new purchase moves the rhythm at once: Epsilon bought again today
    timeline.add_entry(store, ids["Epsilon"], "purchase", amount=Decimal("1000"),
                       occurred_at=at(0))
    churn = agenda.churn_for(store, ids["Epsilon"], TODAY)
    assert (churn.interval, churn.days, churn.warned) == (200 / 3, 0, False)
    assert "Epsilon" not in names(agenda.build(store, TODAY).sections["churn"])


def test_birthdays_across_the_year_end_and_29_february(store):
    ids = make_world(store)
    leap = store.create_customer({"name": "Leap", "owner": "tester",
                                  "birthday": dt.date(2000, 2, 29)}).id
    got = agenda.build(store, TODAY, days=40)
    assert names(got.sections["birthday"]) == ["Beta", "Alpha", "Gamma"]
    # 2027 has no 29 February: the birthday is kept on the 28th
    feb = agenda.build(store, dt.date(2027, 2, 27), days=2).sections["birthday"]
    assert [(i.customer_id, i.when, i.age) for i in feb] == [(leap, dt.date(2027, 2, 28), 27)]
    assert ids


def test_cadence_by_grade_segment_and_yaml(store, tmp_path):
    make_world(store)
    cfg = agenda.load_config(tmp_path / "none.yaml")
    assert (cfg.grade, cfg.days_for({"grade": "D"})) == ({"A": 30, "B": 60, "C": 90, "D": 0}, None)
    user = tmp_path / "cadence.yaml"
    user.write_text("cadence:\n  grade: {A: 30, B: 30}\n", encoding="utf-8")
    cfg = agenda.load_config(user)
    assert names(agenda.build(store, TODAY, config=cfg).sections["cadence"]) == ["Alpha", "Beta"]
    user.write_text("cadence:\n  grade: {A: -1}\n", encoding="utf-8")
    with pytest.raises(agenda.CadenceError, match="cadence.grade.A must be a whole number"):
        agenda.load_config(user)
    assert agenda.CadenceConfig(grade={"A": 60}, segment={"lost": 10}).days_for(
        {"grade": "A", "segment": "lost"}) == 10


def test_handled_items_do_not_come_back(store):
    ids = make_world(store)
    first = agenda.build(store, TODAY)
    alpha = next(i for i in first.sections["cadence"] if i.name == "Alpha")
    gamma = next(i for i in first.sections["cadence"] if i.name == "Gamma")
    beta_bday = first.sections["birthday"][0]
    follow = first.sections["followup"][0]
    agenda.done(store, alpha)
    assert agenda.snooze(store, gamma, 3, TODAY) == TODAY + dt.timedelta(days=3)
    agenda.log_call(store, beta_bday, occurred_at=at(0))
    agenda.done(store, follow)
    again = agenda.build(store, TODAY)
    assert names(again.sections["cadence"]) == []
    assert names(again.sections["birthday"]) == ["Alpha"]
    assert names(again.sections["followup"]) == ["Beta"]
    assert timeline.get_entry(store, follow.entry_id).follow_up_done is True
    # the snooze ends; the call logged for Beta is on its timeline and is its last contact
    later = agenda.build(store, TODAY + dt.timedelta(days=3))
    assert "Gamma" in names(later.sections["cadence"])
    assert store.get_customer(ids["Beta"]).last_contact_at == at(0)
    # a call clears the cadence item for good: Gamma contacted today
    agenda.log_call(store, gamma, occurred_at=at(0))
    assert "Gamma" not in names(agenda.build(store, TODAY + dt.timedelta(days=3))
                                .sections["cadence"])


@pytest.fixture
def frozen_query_day(monkeypatch):
    monkeypatch.setattr(query, "_today", lambda: TODAY)


def found(store, text):
    return sorted(r["name"] for r in ResultSet(store, text).page(0, 100))


def test_query_words_of_the_agenda(store, frozen_query_day):
    ids = make_world(store)
    store.update_customer(ids["Alpha"], {"email": "a@example.com"})
    # TODAY is a Monday: this week runs to Sunday 3 January
    assert found(store, "birthday:this-week") == ["Alpha", "Beta", "Bobs"]
    assert found(store, "birthday:next-week") == []
    assert found(store, "birthday.month:1") == ["Alpha", "Gamma"]
    assert found(store, "birthday.month:12 owner:me") == ["Beta"]
    assert found(store, "-birthday.month:1 grade:A,B") == ["Beta", "Bobs"]
    assert found(store, "email:*") == ["Alpha"]
    assert len(found(store, "email:empty")) == 7 and found(store, "-email:*") == \
        found(store, "email:empty")
    assert found(store, "cadence:overdue") == ["Alpha", "Bobs", "Gamma"]
    assert found(store, "cadence:overdue owner:me") == ["Alpha", "Gamma"]
    # last contact less than 35 days ago: the purchases of Eta (see the test below)
    assert found(store, "last_contact<35d") == ["Eta"]
    with pytest.raises(query.QueryError, match="Birthday.month takes a number 1–12"):
        query.parse(store.schema, "birthday.month:13")
    with pytest.raises(query.QueryError, match="cadence:overdue"):
        query.parse(store.schema, "cadence:soon")


def agenda_json_after(store, sqlite_url, capsys, monkeypatch) -> dict:
    """`kehu agenda --json` on the SQLite database ``store`` was using (closed here)."""
    from kehu.tui.cli import main

    store.close()
    monkeypatch.setenv("KEHU_DB", sqlite_url)
    assert main(["--user", "tester", "agenda", "--today", TODAY.isoformat(), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_verification_due_by_grade_in_the_agenda_and_its_json(store, sqlite_url, capsys,
                                                               monkeypatch):
    from kehu.models import verify

    ids = make_world(store)
    # entered 400 days ago: A's 90-day checks fell due 310 days ago, B's 180-day ones 220
    s = agenda.build(store, TODAY).sections
    alpha, beta = s["verify"]
    assert (alpha.grade, alpha.every, alpha.when) == (
        "A", {"base": 90, "credit": 90, "decision_makers": 90}, (at(400) + dt.timedelta(90)).date())
    assert alpha.why == ("grade A: verify every 90 days; due since 2026-02-21: Base data, "
                         "Credit status, Key decision makers")
    assert beta.every == {"base": 180, "credit": 180, "decision_makers": 180}
    # checked 100 days ago: still good for B (180), due again for A (90)
    for name in ("Alpha", "Beta"):
        verify.mark_verified(store, ids[name], when=at(100))
    s = agenda.build(store, TODAY).sections
    assert names(s["verify"]) == ["Alpha"]
    assert s["verify"][0].when == (at(100) + dt.timedelta(90)).date()
    # a customer without a grade uses each kind's own days (credit 90, base 180)
    store.update_customer(ids["Gamma"], {"grade": None})
    gamma = [i for i in agenda.build(store, TODAY).sections["verify"] if i.name == "Gamma"][0]
    assert gamma.every == {"credit": 90, "decision_makers": 90}
    assert gamma.why.startswith("verify every 90 days; due since")
    if store.is_postgres:
        return
    data = agenda_json_after(store, sqlite_url, capsys, monkeypatch)
    assert [(i["name"], i["grade"], i["every_days"], i["kinds"]) for i in data["verify"]] == [
        ("Alpha", "A", {"base": 90, "credit": 90, "decision_makers": 90},
         ["base", "credit", "decision_makers"]),
        ("Gamma", None, {"credit": 90, "decision_makers": 90}, ["credit", "decision_makers"])]


def test_key_contacts_birthdays_across_the_year_end(store, sqlite_url, capsys, monkeypatch):
    """Key people and decision makers of the chain, with the age where the year is
    known, in day order with the customers' own birthdays (Dec 30 → Jan 2)."""
    from kehu.models import chain

    ids = make_world(store)
    boss = chain.add_contact(store, ids["Alpha"], name="Boss", key_person=True,
                             birthday="1970-12-30")
    chain.add_contact(store, ids["Gamma"], name="Chief", role="decision_maker",
                      birthday=dt.date(1900, 1, 2))           # year unknown: no age
    chain.add_contact(store, ids["Alpha"], name="Clerk", role="user", birthday="1990-12-29")
    gone = chain.add_contact(store, ids["Beta"], name="Gone", key_person=True,
                             birthday="1980-12-31")
    chain.delete_contact(store, gone.id)
    chain.add_contact(store, ids["Bobs"], name="BobsBoss", key_person=True, birthday="1960-12-29")
    got = agenda.build(store, TODAY).sections["birthday"]
    assert [(i.when, i.name, i.contact, i.age) for i in got] == [
        (TODAY, "Beta", None, 36),
        (dt.date(2026, 12, 30), "Alpha", "Boss", 56),
        (dt.date(2027, 1, 2), "Gamma", "Chief", None),
        (dt.date(2027, 1, 3), "Alpha", None, 47)]
    assert got[1].why == "Boss (key person): birthday in 2 days (12-30), turns 56"
    assert got[2].why == "Chief (Decision maker): birthday in 5 days (01-02)"
    assert agenda.build(store, TODAY).counts["birthday"] == 4
    # the contact's item is its own: done for Boss leaves Alpha's own birthday listed
    agenda.done(store, got[1])
    assert [(i.name, i.contact) for i in agenda.build(store, TODAY).sections["birthday"]] == [
        ("Beta", None), ("Gamma", "Chief"), ("Alpha", None)]
    assert [i.contact for i in agenda.build(store, TODAY, owner="bob").sections["birthday"]
            ] == ["BobsBoss", None]
    assert chain.get_contact(store, boss.id).birthday == dt.date(1970, 12, 30)
    with pytest.raises(Exception, match="not a date"):
        chain.add_contact(store, ids["Alpha"], name="Bad", birthday="30th of Dec")
    if store.is_postgres:
        return
    data = agenda_json_after(store, sqlite_url, capsys, monkeypatch)
    assert [(i["name"], i["contact"], i["age"]) for i in data["birthday"]] == [
        ("Beta", None, 36), ("Gamma", "Chief", None), ("Alpha", None, 47)]
    from kehu.tui.cli import main

    assert main(["--user", "tester", "contact", "add", str(ids["Beta"]), "Wife",
                 "--birthday", "1991-01-01"]) == 0
    capsys.readouterr()
    assert main(["--user", "tester", "contact", "list", str(ids["Beta"]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["birthday"] == "1991-01-01"


def test_last_contact_more_than_90_days_ago_counts_the_never_contacted_from_entry(
        store, frozen_query_day):
    """`last_contact>90d` reads as an age: the last contact was more than 90 days ago.
    A customer never contacted is silent since it was entered (as the cadence calls):
    Gamma and Bobs (entered 100 days ago) and Delta (500) are in; `last_contact:empty`
    lists exactly the never contacted."""
    make_world(store)
    # contacts: Alpha and Beta 40 days ago, Epsilon 120, Zeta 80, Eta 10
    assert found(store, "last_contact>90d") == ["Bobs", "Delta", "Epsilon", "Gamma"]
    assert found(store, "-last_contact>90d") == ["Alpha", "Beta", "Eta", "Zeta"]
    assert found(store, "last_contact:empty") == ["Bobs", "Delta", "Gamma"]
    assert found(store, "last_contact>90d -last_contact:empty") == ["Epsilon"]
    assert found(store, "last_contact>=40d last_contact<=80d") == ["Alpha", "Beta", "Zeta"]
    assert found(store, "last_contact>40d last_contact<90d") == ["Zeta"]
    assert found(store, "last_contact<35d") == ["Eta"]
    assert found(store, "created<101d") == ["Bobs", "Gamma"]     # entered within 100 days
    assert found(store, "last_contact:40d") == ["Alpha", "Beta"]   # that one day


def test_cli_agenda_json_and_text(sqlite_url, capsys, monkeypatch):
    from kehu.tui.cli import main

    monkeypatch.setenv("KEHU_DB", sqlite_url)
    store = Store.open(sqlite_url, user="tester")
    make_world(store)
    store.close()
    assert main(["--user", "tester", "agenda", "--today", TODAY.isoformat(), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in data["cadence"]] == ["Gamma", "Alpha"]
    assert data["churn"][0]["why"] == "usually buys every 40 days; 120 days since the last order"
    assert main(["--user", "tester", "agenda", "--today", TODAY.isoformat()]) == 0
    out = capsys.readouterr().out
    assert "Cadence calls (2)" in out and "#" in out and "turns 47" in out
    assert main(["agenda", "--today", "tomorrow"]) == 2
    assert "'tomorrow' is not a date" in capsys.readouterr().err


def test_next_7_days_shows_7_days(store):
    """Issue 18: "Next 7 days" listed 6 days (today+1 .. today+6)."""
    acme = store.create_customer({"name": "Acme"}).id
    for ahead in (1, 7, 8):
        timeline.add_entry(store, acme, "call", summary=f"+{ahead}",
                           next_follow_up=TODAY + dt.timedelta(days=ahead))
    assert [r.summary for r in timeline.follow_ups(store, "week", TODAY)] == ["+1", "+7"]


def test_follow_up_field_takes_7d_like_the_search_box(store):
    """Issue 18: the follow-up field refused `7d` which the search box accepts."""
    from kehu.tui.screens.log_call import parse_follow_up

    week = TODAY + dt.timedelta(days=7)
    assert [parse_follow_up(t, TODAY) for t in ("7d", "+7d", "+7", "1w", "7天")] == [week] * 5
    assert parse_follow_up("2m", TODAY) == TODAY + dt.timedelta(days=60)
    assert parse_follow_up("2027-01-05", TODAY) == dt.date(2027, 1, 5)
    with pytest.raises(ValueError):
        parse_follow_up("7x", TODAY)
    acme = store.create_customer({"name": "Acme"}).id
    entry = timeline.add_entry(store, acme, "call", next_follow_up="3d")
    assert entry.next_follow_up == dt.date.today() + dt.timedelta(days=3)


async def test_follow_up_field_lets_7d_be_typed(sqlite_url):
    from kehu.models import i18n
    from kehu.models.config import Config
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.log_call import LogCallScreen

    i18n.set_lang("en")
    store = Store.open(sqlite_url, user="tester")
    acme = store.create_customer({"name": "Acme"}).id
    app = KehuApp(store, Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await app.push_screen(LogCallScreen(acme))
        await pilot.pause()
        app.screen.query_one("#call-follow-up").focus()
        await pilot.press(*"7d", "ctrl+s")
        await pilot.pause()
    entry = timeline.entries(store, acme)[0]
    assert entry.next_follow_up == dt.date.today() + dt.timedelta(days=7)
    store.close()


def test_a_role_that_sees_birthdays_masked_gets_no_birthday_list(store, db_url):
    from kehu.models.security import add_user

    make_world(store)
    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        got = agenda.build(vic, TODAY, owner="*", days=40)
        assert got.sections["birthday"] == []
        assert names(agenda.build(store, TODAY, days=40).sections["birthday"]) == \
            ["Beta", "Alpha", "Gamma"]
    finally:
        vic.close()
