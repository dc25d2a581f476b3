"""Pilot tests of the agenda screen: open it by its key, call three people from
it by keys and see them leave the list; snooze and done; start in the agenda."""
import datetime as dt

import pytest

from kehu.models import agenda, i18n, timeline
from kehu.models.config import Config
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.agenda import AgendaScreen
from kehu.tui.screens.log_call import LogCallScreen


@pytest.fixture
def store(sqlite_url):
    i18n.set_lang("en")
    s = Store.open(sqlite_url, user="tester")
    today = dt.date.today()
    C = s.Customer
    for n, name in enumerate(["Ann", "Ben", "Cat", "Dan"]):
        row = s.create_customer({"name": name, "owner": "tester", "grade": "A"})
        C.update(created_at=dt.datetime.combine(today - dt.timedelta(days=80 - n),
                                                dt.time())).where(C.id == row.id).execute()
    s.create_customer({"name": "Eve", "owner": "tester",
                       "birthday": (today + dt.timedelta(days=2)).replace(year=1990)
                       if not (today.month == 2 and today.day >= 27) else dt.date(1990, 3, 1)})
    yield s
    s.close()


def lines(screen):
    listing = screen.query_one("#agenda-list")
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


def names_in(screen, kind):
    return [i.name for i in screen.result.sections[kind]]


async def test_call_three_people_from_the_agenda_by_keys(store):
    app = KehuApp(store, Config())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f10")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, AgendaScreen)
        assert names_in(screen, "cadence") == ["Ann", "Ben", "Cat", "Dan"]
        shown = lines(screen)
        assert any("Cadence calls (4)" in line for line in shown)
        assert any("Ann" in line and "never contacted, entered 80 days ago" in line
                   for line in shown)
        for name in ("Ann", "Ben", "Cat"):
            assert screen.current.name == name
            await pilot.press("c")
            await pilot.pause()
            assert isinstance(app.screen, LogCallScreen)
            await pilot.press(*"rang back", "ctrl+s")
            await pilot.pause()
            assert app.screen is screen
            assert name not in names_in(screen, "cadence")
        assert names_in(screen, "cadence") == ["Dan"]
        assert "Call with Cat logged" in str(screen.query_one("#agenda-status").render())
        calls = [e for c in ("Ann", "Ben", "Cat")
                 for e in timeline.entries(store, store.Customer.get(name=c).id)]
        assert [e.summary for e in calls] == ["rang back"] * 3
        # snooze Dan, mark Eve's birthday done: the list is empty and stays so
        assert screen.current.name == "Dan"
        await pilot.press("s")
        await pilot.pause()
        assert screen.current.name == "Eve"
        await pilot.press("x")
        await pilot.pause()
        assert screen.current is None
        assert any("Cadence calls (0)" in line for line in lines(screen))
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert screen.current is None
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, AgendaScreen)
    later = agenda.build(store, dt.date.today() + dt.timedelta(days=3))
    assert [i.name for i in later.sections["cadence"]] == ["Dan"]


async def test_enter_opens_the_customer_and_start_in_the_agenda(store):
    app = KehuApp(store, Config(extra={"start": "agenda"}))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, AgendaScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen.__class__.__name__ == "DetailScreen"
        assert "Ann" in str(app.screen.record.get("name"))


async def test_the_detail_screen_says_why_a_customer_is_at_risk(store):
    from decimal import Decimal

    today = dt.date.today()
    cid = store.create_customer({"name": "Fay", "owner": "tester"}).id
    for ago in (163 + 82, 163 + 41, 163):
        timeline.add_entry(store, cid, "purchase", amount=Decimal(100),
                           occurred_at=dt.datetime.combine(today - dt.timedelta(days=ago),
                                                           dt.time(9)))
    app = KehuApp(store, Config())
    async with app.run_test(size=(80, 24)) as pilot:
        app.open_customer(cid)
        await pilot.pause()
        line = app.screen.query_one("#detail-churn")
        assert str(line.render()) == \
            "Churn score 4.0: usually buys every 41 days; 163 days since the last order"
        assert line.has_class("warned")


async def test_long_names_use_the_width_and_are_cut_with_an_ellipsis(sqlite_url):
    i18n.set_lang("zh")
    s = Store.open(sqlite_url, user="tester")
    try:
        for name in ("南宁佳美贸易有限公司",
                     "Very Long International Trading Company Holdings Limited"):
            row = s.create_customer({"name": name, "owner": "tester", "grade": "A"})
            s.Customer.update(created_at=dt.datetime.now() - dt.timedelta(days=80)).where(
                s.Customer.id == row.id).execute()   # never called in 80 days: a cadence call
        for size, whole in (((120, 35), True), ((60, 24), False)):
            app = KehuApp(s, Config())
            async with app.run_test(size=size) as pilot:
                await pilot.press("f10")
                await pilot.pause()
                shown = lines(app.screen)
                assert any("南宁佳美贸易有限公司" in line for line in shown) is whole, (size, shown)
                assert any("Very Long" in line and "…" in line for line in shown), shown
    finally:
        i18n.set_lang("en")
        s.close()
