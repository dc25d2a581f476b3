"""The per-customer history screen: changes newest first, ``r`` reverts one."""
from __future__ import annotations

from kehu.models.security import add_user
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.history import HistoryScreen
from kehu.tui.widgets.keyed import DataTable

SIZE = (100, 30)


def cells(table, row: int) -> list[str]:
    return [str(c) for c in table.get_row_at(row)]


async def test_history_lists_changes_and_r_reverts_one(store):
    c = store.create_customer({"name": "张三", "city": "北京"})
    store.update_customer(c.id, {"city": "上海"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(HistoryScreen(c.id))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        assert "City: 北京 → 上海" in cells(table, 0)[4]
        assert cells(table, 0)[2] == "tester"
        await pilot.press("r")
        await pilot.pause()
        assert store.get_customer(c.id).city == "北京"
        assert table.row_count == 3
        assert cells(table, 0)[3] == "reverted"
        assert "City: 上海 → 北京" in cells(table, 0)[4]
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HistoryScreen)


async def test_history_masks_for_sales_and_is_refused_to_a_viewer(store, db_url):
    c = store.create_customer({"name": "张三", "wechat": "zhang_san88", "owner": "sam"})
    store.update_customer(c.id, {"wechat": "zhang_san99"})
    add_user(store, "sam", "sales")
    add_user(store, "vic", "viewer")
    sam = Store.open(db_url, user="sam")
    vic = Store.open(db_url, user="vic")
    try:
        app = KehuApp(sam)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(HistoryScreen(c.id))
            await pilot.pause()
            row = cells(app.screen.query_one(DataTable), 0)[4]
            assert "z**** → z****" in row and "zhang_san" not in row   # personal: masked to sales
        app = KehuApp(vic)
        async with app.run_test(size=SIZE) as pilot:
            app.push_screen(HistoryScreen(c.id))
            await pilot.pause()
            title = str(app.screen.query_one("#history-title").render())
            assert title == "vic (Viewer) may not read the change history of customers"
            assert app.screen.query_one(DataTable).row_count == 0
            await pilot.press("r")                 # nothing to revert, nothing happens
            await pilot.pause()
        assert store.get_customer(c.id).wechat == "zhang_san99"
    finally:
        sam.close()
        vic.close()


async def test_f2_opens_the_history_and_a_viewer_cannot_start_a_new_customer(store, db_url):
    c = store.create_customer({"name": "张三"})
    add_user(store, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        app = KehuApp(vic)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.open_customer(c.id)
            await pilot.pause()
            await pilot.press("f2")
            await pilot.pause()
            assert isinstance(app.screen, HistoryScreen)   # its role has no history right
            assert "may not read the change history" in str(
                app.screen.query_one("#history-title").render())
            await pilot.press("escape")
            await pilot.pause()
            screen = app.screen
            await pilot.press("ctrl+n")
            await pilot.pause()
            assert app.screen is screen          # no new-customer form for a viewer
        assert vic.count_customers() == 1
    finally:
        vic.close()
