"""The customer workbench as a user drives it: keys pressed, rows and messages seen."""
from __future__ import annotations

import yaml
import pytest

from kehu.models.store import Store
from kehu.models.views import builtin_views, user_views_path
from kehu.tui.app import KehuApp
from kehu.tui.screens.workbench import WorkbenchScreen
from kehu.tui.widgets.customer_table import CustomerTable, fit
from tests.ui_app import keys_at_once

FILLERS = 250  # more than two pages, so paging and jumps fetch more than the first page


def _people(store: Store) -> dict[str, int]:
    ids = {}
    for data in (
        {"name": "张三", "company": "北京星辰科技有限公司", "mobile": "13800001380", "grade": "A",
         "region": "华东", "acquired_on": "2020-01-05"},
        {"name": "John Smith", "company": "Acme Trading", "mobile": "13912345678",
         "email": "john@acme.com", "grade": "B", "region": "华北", "acquired_on": "2019-03-01"},
        {"name": "李四", "company": "上海远航物流", "mobile": "13700000001", "grade": "A",
         "region": "华南", "acquired_on": "2021-07-20"},
        {"name": "单雄信", "company": "瓦岗寨", "grade": "C", "region": "华东",
         "acquired_on": "2018-11-11"},
    ):
        ids[data["name"]] = store.create_customer(data).id
    store.add_interaction(ids["张三"], "purchase", amount=120000)
    store.add_interaction(ids["李四"], "purchase", amount=30000)
    store.bulk_insert_customers(
        {"name": f"Filler {i:03d}", "company": "Bulk Co", "grade": "D", "region": "西北"}
        for i in range(FILLERS))
    return ids


@pytest.fixture
def app_store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    store.ids = _people(store)
    yield store
    store.close()


@pytest.fixture
def empty_store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    yield store
    store.close()


TOTAL = 4 + FILLERS


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def lines(app) -> list[str]:
    """The table as the user sees it: header first, one string per screen line."""
    table = app.screen.query_one(CustomerTable)
    return [table.render_line(y).text.rstrip() for y in range(table.size.height)]


def names(app) -> list[str]:
    table = app.screen.query_one(CustomerTable)
    out = []
    for row in range(min(table.display_rows, table.body_height)):
        data = table.row_at(row)
        if data is not None:
            out.append(data["name"])
    return out


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


async def type_search(pilot, text: str) -> None:
    await pilot.press("slash")
    await pilot.press(*text)
    await settle(pilot)


async def pick(pilot, option_id: str) -> None:
    """Highlight an option of the open dialog's list and press Enter."""
    from textual.widgets import OptionList

    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(option_id)
    await pilot.press("enter")
    await settle(pilot)


async def choose_view(pilot, title: str) -> None:
    """Press v and pick the view whose line shows ``title``."""
    from textual.widgets import OptionList

    await pilot.press("v")
    options = pilot.app.screen.query_one(OptionList)
    index = next(i for i in range(options.option_count)
                 if title in str(options.get_option_at_index(i).prompt))
    await pick(pilot, str(index))


async def test_opens_with_every_customer_and_a_status_line(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkbenchScreen)
        header = lines(pilot.app)[0]
        assert "Name" in header and "Company" in header and "Purchases" in header
        assert names(pilot.app)[:2] == ["张三", "John Smith"]
        status = text_of(pilot.app, "#status")
        assert f"Row 1 of {TOTAL:,}" in status
        summary = text_of(pilot.app, "#summary")
        assert f"{TOTAL:,} customers" in summary
        assert "150,000.00" in summary  # the sum of purchases over the view


async def test_typing_narrows_the_rows(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "john")
        assert names(pilot.app) == ["John Smith"]
        assert "Row 1 of 1 " in text_of(pilot.app, "#status") + " "
        await pilot.press("backspace", "backspace", "backspace", "backspace")
        await settle(pilot)
        assert len(names(pilot.app)) > 1


@pytest.mark.parametrize("typed", ["zs", "zhangsan", "张三", "1380"])
async def test_pinyin_phone_and_chinese_find_a_customer(app_store, typed):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, typed)
        assert "张三" in names(pilot.app)
        assert "John Smith" not in names(pilot.app)


async def test_special_surname_reading(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "shanxiongxin")
        assert names(pilot.app) == ["单雄信"]


async def test_filter_query(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        assert sorted(names(pilot.app)) == sorted(["张三", "李四"])
        assert "Filter: grade:A" in text_of(pilot.app, "#status")
        assert "150,000.00" in text_of(pilot.app, "#summary")


async def test_bad_query_shows_a_message_and_keeps_the_rows(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        pilot.app.screen.query_one("#search").insert_text_at_cursor(" colour:red")  # pasted
        await settle(pilot)
        error = pilot.app.screen.query_one("#query-error")
        assert error.display
        assert "colour" in str(error.render())
        assert sorted(names(pilot.app)) == sorted(["张三", "李四"])  # not a silent empty table
        await pilot.press(*["backspace"] * len(" colour:red"))
        await settle(pilot)
        assert sorted(names(pilot.app)) == sorted(["张三", "李四"])
        assert not pilot.app.screen.query_one("#query-error").display


async def test_unbalanced_quote_is_explained(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, '"john')
        error = pilot.app.screen.query_one("#query-error")
        assert error.display and "quote" in str(error.render()).lower()


async def test_no_match_says_so(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "qqqqxyz")
        assert names(pilot.app) == []
        assert any("No customer matches" in line for line in lines(pilot.app))


async def test_sort_toggling(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        await pilot.press("escape")  # back to the table
        await pilot.press("s")
        await pick(pilot, "acquired_on")
        assert names(pilot.app) == ["张三", "李四"]
        assert "Acquired ▲" in lines(pilot.app)[0]
        await pilot.press("s")
        await pick(pilot, "acquired_on")
        assert names(pilot.app) == ["李四", "张三"]
        assert "Acquired ▼" in text_of(pilot.app, "#status")
        await pilot.press("r")
        await settle(pilot)
        assert names(pilot.app) == ["张三", "李四"]


async def test_second_sort_key(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "region:华东")
        await pilot.press("escape")
        await pilot.press("s")
        await pick(pilot, "name")
        await pilot.press("s")
        await pick(pilot, "grade")
        status = text_of(pilot.app, "#status")
        assert "Sort: Grade ▲, Name ▲" in status
        assert names(pilot.app) == ["张三", "单雄信"]


async def test_sort_without_index_warns(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("s")
        await pick(pilot, "notes")
        assert any("no index" in n.message for n in pilot.app._notifications)


async def test_save_view_and_reopen_it(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        await pilot.press("escape")
        await pilot.press("ctrl+s")
        await pilot.press(*"Key accounts")
        await pilot.press("enter")
        await settle(pilot)
        saved = yaml.safe_load(user_views_path().read_text(encoding="utf-8"))
        view = next(v for v in saved["views"] if v["name"]["en"] == "Key accounts")
        assert view["query"] == "grade:A"
        # Switch to another view, then back to the saved one.
        await choose_view(pilot, "All customers")
        assert len(names(pilot.app)) > 2
        await choose_view(pilot, "Key accounts")
        assert sorted(names(pilot.app)) == sorted(["张三", "李四"])
        assert "View: Key accounts" in text_of(pilot.app, "#status")


async def test_each_builtin_roster(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        rosters = builtin_views(app_store.schema)
        assert len(rosters) == 4
        for view in rosters:
            await choose_view(pilot, view.name())
            assert f"View: {view.name()}" in text_of(pilot.app, "#status")
            table = pilot.app.screen.query_one(CustomerTable)
            assert table.row_count == TOTAL
            if view.group_by:
                header = lines(pilot.app)[1]
                assert "▸" in header and "customer" in header  # a group row with its count
            if view.key == "ranking":
                assert names(pilot.app)[:2] == ["张三", "李四"]  # highest purchases first
            if view.key == "roster":
                assert names(pilot.app)[:4] == ["单雄信", "John Smith", "张三", "李四"] or \
                    table.row_at(0)["acquired_on"] is None  # undated customers sort first


async def test_region_roster_groups_with_count_and_sum(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await choose_view(pilot, "Customers by region")
        shown = "\n".join(lines(pilot.app))
        assert "▸ North · 1 customer" in shown
        assert "▸ East · 2 customers · Purchases Σ 120,000.00" in shown


async def test_enter_opens_the_customer(app_store, monkeypatch):
    opened = []
    monkeypatch.setattr(KehuApp, "open_customer", lambda self, cid: opened.append(cid))
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "john")
        await pilot.press("enter")  # leaves the search box for the table
        await pilot.press("enter")
        assert opened == [app_store.ids["John Smith"]]


async def test_keys_move_through_pages(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = pilot.app.screen.query_one(CustomerTable)
        await pilot.press("down", "down")
        assert "Row 3 of" in text_of(pilot.app, "#status")
        await pilot.press("end")
        await settle(pilot)
        assert table.cursor_row == TOTAL - 1
        assert table.row_at(TOTAL - 1)["name"] == f"Filler {FILLERS - 1:03d}"
        assert f"Filler {FILLERS - 1:03d}" in "\n".join(lines(pilot.app))
        await pilot.press("home")
        await settle(pilot)
        assert table.cursor_row == 0 and names(pilot.app)[0] == "张三"
        await pilot.press("pagedown")
        await settle(pilot)
        assert table.cursor_row == table.body_height


async def test_jump_to_row(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"150", "enter")
        await settle(pilot)
        table = pilot.app.screen.query_one(CustomerTable)
        assert table.cursor_row == 149
        assert table.row_at(149)["name"] == f"Filler {149 - 4:03d}"
        assert "Row 150 of" in text_of(pilot.app, "#status")
        await pilot.press("colon", *"abc", "enter")
        await pilot.pause()
        assert any("not a row number" in n.message for n in pilot.app._notifications)


async def test_column_chooser_hides_and_persists(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        from textual.widgets import OptionList

        options = pilot.app.screen.query_one(OptionList)
        options.highlighted = options.get_option_index("mobile")
        await pilot.press("space")           # hide Mobile
        options.highlighted = options.get_option_index("company")
        await pilot.press("plus", "plus")    # Company two cells wider
        await pilot.press("enter")
        await settle(pilot)
        header = lines(pilot.app)[0]
        assert "Mobile" not in header
        table = pilot.app.screen.query_one(CustomerTable)
        company = next(c for c in table.columns if c.key == "company")
        assert company.width == app_store.schema["company"].display_width + 2
        saved = yaml.safe_load(user_views_path().read_text(encoding="utf-8"))
        view = saved["views"][0]
        assert "mobile" not in view["columns"]
        assert view["widths"]["company"] == company.width


async def test_empty_database_says_how_to_add(empty_store):
    async with KehuApp(empty_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = "\n".join(lines(pilot.app))
        assert "No customers yet" in shown and "kehu demo" in shown


async def test_chinese_interface(app_store):
    from kehu.models import i18n

    i18n.set_lang("zh")
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert "客户名称" in lines(pilot.app)[0]
        assert "华东" in "\n".join(lines(pilot.app))
        assert f"共 {TOTAL:,}" in text_of(pilot.app, "#status")


def test_cells_are_cut_by_display_width():
    assert fit("张三丰", 5) == "张三…"
    assert fit("张三", 6) == "张三  "
    assert fit("Alexander", 5) == "Alex…"
    assert fit("1,234.00", 10, right=True) == "  1,234.00"
    assert fit("北京星辰科技有限公司", 7) == "北京星…"


async def test_search_sort_and_paging_on_both_databases(db_url):
    """The two database lanes (own connections, cancellation) on SQLite and PostgreSQL."""
    store = Store.open(db_url, user="tester")
    try:
        _people(store)
        async with KehuApp(store).run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            table = pilot.app.screen.query_one(CustomerTable)
            assert table.row_count == TOTAL
            await type_search(pilot, "zs")
            assert names(pilot.app) == ["张三"]
            await pilot.press(*["backspace"] * 2, "escape")
            await settle(pilot)
            await pilot.press("s")
            await pick(pilot, "name")
            await pilot.press("end")
            await settle(pilot)
            assert table.row_at(0)["name"] == "Filler 000"
            assert table.row_at(TOTAL - 1)["name"] in {"张三", "李四", "单雄信"}  # hanzi after Latin
    finally:
        store.close()


async def test_click_on_a_column_title_sorts(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        table = pilot.app.screen.query_one(CustomerTable)
        x = sum(c.width + 1 for c in table.columns[:4]) + 1  # inside the 5th title: Acquired
        assert table.columns[4].key == "acquired_on"
        await pilot.click(CustomerTable, offset=(x, 0))
        await settle(pilot)
        assert names(pilot.app) == ["张三", "李四"]
        await pilot.click(CustomerTable, offset=(x, 0))
        await settle(pilot)
        assert names(pilot.app) == ["李四", "张三"]
        assert "Acquired ▼" in lines(pilot.app)[0]


async def test_a_stale_count_is_stopped_not_waited_for(db_url):
    """Typing on interrupts the statement still running for the previous keystroke."""
    import asyncio

    from kehu.tui.widgets.db_runner import DbRunner

    store = Store.open(db_url, user="tester")
    runner = DbRunner(store.db)
    slow = ("SELECT pg_sleep(30)" if store.is_postgres else
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000000) "
            "SELECT count(*) FROM n")
    try:
        task = asyncio.ensure_future(runner.background(lambda: store.db.execute_sql(slow).fetchall()))
        for _ in range(50):  # until the statement has reached the server and is stopped
            await asyncio.sleep(0.2)
            runner.cancel_all()
            if task.done():
                break
        assert task.done(), "the statement was not interrupted"
        assert task.exception() is not None
        # The lane is usable again at once.
        assert await runner.background(lambda: store.db.execute_sql("SELECT 1").fetchone()[0]) == 1
    finally:
        runner.close()
        store.close()


async def test_log_a_call_from_the_table_picks_the_row_under_the_cursor(tmp_path):
    """Ctrl+L on the table logs a call for the customer under the cursor, no search needed."""
    from kehu.models.store import Store
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.log_call import LogCallScreen

    store = Store.open(f"sqlite:///{tmp_path / 'k.db'}", user="tester")
    first = store.create_customer({"name": "张三", "mobile": "13800138000"})
    second = store.create_customer({"name": "李四"})
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        await pilot.press("down")
        await pilot.pause()
        assert app.screen.current_customer_id == second.id
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LogCallScreen)
        assert app.screen.customer_id == second.id
    assert first.id != second.id
    store.close()


async def test_keys_typed_right_after_slash_go_to_the_search(app_store):
    """Over SSH '/zs' arrives at once: the focus must move before 'z' and 's' are
    handled (Textual's focus() is deferred; 's' would open the sort dialog)."""
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, *"/zs")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkbenchScreen)  # no sort dialog
        assert pilot.app.screen.query_one("#search").value == "zs"
        assert names(pilot.app) == ["张三"]
        keys_at_once(pilot.app, "escape", *":2")
        await settle(pilot)
        assert pilot.app.screen.query_one("#jump").value == "2"


# -- issue 17: a visible cursor, the place kept, counts kept fresh ------------------

@pytest.mark.parametrize("theme", ["kehu-dark", "kehu-light", "kehu-contrast", "no-color"])
async def test_cursor_row_has_a_background_or_reverse_video(app_store, theme, monkeypatch):
    """The cursor row was bold only: its background was lost under the cells' own."""
    from kehu.models.config import Config

    if theme == "no-color":
        monkeypatch.setenv("NO_COLOR", "1")
    app = KehuApp(app_store, Config(), theme=None if theme == "no-color" else theme)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        table = app.screen.query_one(CustomerTable)
        cursor_line = list(table.render_line(2))    # header, row 1, row 2 (the cursor)
        other_line = list(table.render_line(1))
        cursor_bg = table._style("cursor").bgcolor
        assert cursor_bg is not None and cursor_bg != other_line[0].style.bgcolor
        assert all(seg.style.bgcolor == cursor_bg for seg in cursor_line)
        if theme == "no-color":
            assert app.no_color and all(seg.style.reverse for seg in cursor_line)
            assert not any(seg.style.reverse for seg in other_line)


@pytest.fixture
def many_store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    store.bulk_insert_customers({"name": f"Row {i:05d}", "region": "华东"} for i in range(3000))
    yield store
    store.close()


async def test_esc_from_a_customer_returns_to_the_same_row(many_store):
    """Open the customer at row 2,500, Esc: the cursor was back at row 50."""
    async with KehuApp(many_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *"2500", "enter")
        await settle(pilot)
        table = pilot.app.screen.query_one(CustomerTable)
        assert table.row_at(table.cursor_row)["name"] == "Row 02499"
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(pilot.app.screen, WorkbenchScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkbenchScreen)
        table = pilot.app.screen.query_one(CustomerTable)
        assert table.cursor_row == 2499
        assert table.row_at(2499)["name"] == "Row 02499"
        assert "Row 2,500 of 3,000" in text_of(pilot.app, "#status")
        assert "Row 02499" in "\n".join(lines(pilot.app))


async def test_counts_follow_a_customer_added_with_ctrl_n(app_store):
    """The status said '254 customers in all' after Ctrl+N added one (stale)."""
    from tests.ui_app import keys_at_once

    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        assert f"{TOTAL:,} customers in all" in text_of(pilot.app, "#status")
        await pilot.press("escape")  # to the table
        await pilot.press("ctrl+n")
        await pilot.pause()
        keys_at_once(pilot.app, *"Grade A Newcomer", "ctrl+s")
        for _ in range(3):
            await settle(pilot)
        assert isinstance(pilot.app.screen, WorkbenchScreen)
        assert app_store.count_customers() == TOTAL + 1
        assert f"{TOTAL + 1:,} customers in all" in text_of(pilot.app, "#status")
