"""The customer page (issue 17): from 120 columns the detail screen shows the latest
dealings and the decision chain beside the fields, two columns of fields when the
form has room; narrower they are one key away (F7, F6). Resizing switches at once;
masked values stay masked. SQLite and PostgreSQL (the ``store`` fixture)."""
from __future__ import annotations

import datetime as dt

import pytest

from kehu.models import chain, i18n
from kehu.models.security import add_user
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.detail import DetailScreen
from kehu.tui.widgets.customer_page import LATEST_ENTRIES, PageSide, layout_for
from tests.ui_app import keys_at_once


@pytest.fixture
def customer(store):
    row = store.create_customer({"name": "星辰科技", "customer_type": "company",
                                 "mobile": "155 3563 1682", "company": "北京星辰科技有限公司"})
    start = dt.datetime(2026, 1, 1, 9, 0)
    for i in range(LATEST_ENTRIES + 2):
        store.add_interaction(row.id, "call", summary=f"第{i + 1}次电话 call {i + 1}",
                              occurred_at=start + dt.timedelta(days=i))
    boss = chain.add_contact(store, row.id, name="王总", title="总经理", role="decision_maker",
                             key_person=True, phone="139 1111 2222")
    chain.add_contact(store, row.id, boss.id, name="李工", title="采购主管", role="buyer")
    return store, row.id


async def open_page(app, pilot, customer_id: int) -> DetailScreen:
    await pilot.pause()
    app.open_customer(customer_id)
    await pilot.pause()
    await pilot.pause()
    assert isinstance(app.screen, DetailScreen)
    return app.screen


def side_text(screen) -> str:
    return screen.query_one(PageSide).text()


def test_the_layout_rule():
    assert layout_for(80) == (False, False)
    assert layout_for(100) == (False, True)     # no side: the form alone has room for two
    assert layout_for(120) == (True, False)
    assert layout_for(150) == (True, True)


async def test_wide_the_page_shows_dealings_and_people_beside_the_fields(customer):
    store, customer_id = customer
    app = KehuApp(store)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_page(app, pilot, customer_id)
        side = screen.query_one(PageSide)
        assert side.display and side.region.width > 0
        form = screen.query_one("#form")
        assert side.region.x >= form.region.right - 1            # beside, not below
        text = side_text(screen)
        # the latest entries, newest first, the oldest beyond the limit left out
        assert text.index(f"call {LATEST_ENTRIES + 2}") < text.index(f"call {LATEST_ENTRIES + 1}")
        assert "call 1\n" not in text and "call 2\n" not in text
        assert "王总" in text and "总经理" in text and "Decision maker" in text
        assert "李工" in text and "采购主管" in text
        assert text.index("  · 李工") > text.index("王总")          # under the manager
        assert screen.focused.id == "field-name"                  # still a form to edit


async def test_narrow_the_side_is_one_key_away_and_resizing_switches(customer):
    store, customer_id = customer
    app = KehuApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_page(app, pilot, customer_id)
        assert not screen.query_one(PageSide).display
        assert not screen.has_class("-two")
        await pilot.resize_terminal(150, 40)
        await pilot.pause()
        assert screen.query_one(PageSide).display and screen.has_class("-two")
        name, type_ = screen.form.row("name"), screen.form.row("customer_type")
        assert name.region.y == type_.region.y and type_.region.x > name.region.x   # two columns
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert not screen.query_one(PageSide).display and screen.has_class("-two")
        keys_at_once(app, "f7")                                   # one key away, as before
        await pilot.pause()
        await pilot.pause()
        assert type(app.screen).__name__ == "TimelineScreen"


async def test_the_side_follows_a_call_logged_and_a_contact_added(customer):
    store, customer_id = customer
    app = KehuApp(store)
    async with app.run_test(size=(130, 35)) as pilot:
        screen = await open_page(app, pilot, customer_id)
        store.add_interaction(customer_id, "visit", summary="上门拜访 visit")
        chain.add_contact(store, customer_id, name="赵秘书", title="秘书")
        keys_at_once(app, "f6")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        text = side_text(screen)
        assert "上门拜访" in text.splitlines()[1] and "赵秘书" in text


async def test_masked_values_stay_masked_on_the_page(customer, db_url):
    store, customer_id = customer
    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        app = KehuApp(vic)
        async with app.run_test(size=(120, 35)) as pilot:
            screen = await open_page(app, pilot, customer_id)
            text = side_text(screen)
            assert "王总" in text and "11112222" not in text.replace(" ", "")
            assert "*" in screen.query_one("#field-mobile").value
            screen.form.row("mobile").focus_widget()
            await pilot.press("alt+y")
            assert "*" in app.clipboard and "3563" not in app.clipboard
    finally:
        vic.close()


async def test_the_page_in_chinese(customer):
    store, customer_id = customer
    i18n.set_lang("zh")
    try:
        app = KehuApp(store)
        async with app.run_test(size=(120, 35)) as pilot:
            screen = await open_page(app, pilot, customer_id)
            text = side_text(screen)
            assert "最近往来" in text and "决策链" in text and "决策者" in text
    finally:
        i18n.set_lang("en")


# -- pictures: the page at 80x24 and 120x35, in Chinese and English ----------------

def fixed_page_app(tmp_path, lang: str):
    from tests.ui_app import make_app

    app = make_app(tmp_path, lang=lang)
    store = app.store
    row = store.create_customer({"name": "杭州同辉食品有限公司", "customer_type": "company",
                                 "company": "杭州同辉食品有限公司", "mobile": "13800138000",
                                 "region": "华东", "grade": "A", "stage": "growth",
                                 "owner": "王芳", "city": "杭州", "acquired_on": "2021-03-15"})
    for day, kind, summary in ((3, "call", "询价：下季度 200 箱"), (9, "visit", "上门拜访，见了采购"),
                               (15, "email", "发送报价单 v2")):
        store.add_interaction(row.id, kind, summary=summary,
                              occurred_at=dt.datetime(2026, 3, day, 10, 0))
    boss = chain.add_contact(store, row.id, name="王总", title="总经理", role="decision_maker",
                             key_person=True, phone="139 1111 2222")
    chain.add_contact(store, row.id, boss.id, name="李工", title="采购主管", role="buyer")
    app.page_customer = row.id
    return app


async def _open_page_still(pilot) -> None:
    app = pilot.app
    await pilot.pause()
    await app.workers.wait_for_complete()
    app.open_customer(app.page_customer)
    await pilot.pause()
    for widget in app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    app.clear_notifications()   # only the page (a keymap notice of the day is not it)
    await pilot.pause()


@pytest.mark.parametrize("size", [(80, 24), (120, 35)], ids=["80x24", "120x35"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_page_pictures(snap_compare, tmp_path, monkeypatch, lang, size):
    """Side by side at 120 columns (dealings newest first, the chain indented), the
    fields alone at 80 (F7/F6 away)."""
    monkeypatch.setenv("KEHU_CONFIG_DIR", "/nonexistent/kehu-snapshot-config")
    assert snap_compare(fixed_page_app(tmp_path, lang), terminal_size=size,
                        run_before=_open_page_still)
