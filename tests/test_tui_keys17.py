"""Issue 17's keys as a user presses them: y/Y copy what is shown (OSC 52), q leaves a
screen, n/N go to the cells that show the search, marked in the cells."""
from __future__ import annotations

import pytest

from kehu.models.security import add_user
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.detail import DetailScreen
from kehu.tui.screens.views_screen import SortPicker, ViewListScreen
from kehu.tui.screens.workbench import WorkbenchScreen
from kehu.tui.widgets.customer_table import CustomerTable
from kehu.tui.widgets.filter_list import FilterList
from tests.ui_app import keys_at_once, notes

SIZE = (120, 35)


@pytest.fixture
def people(store):
    for data in ({"name": "张三", "company": "北京星辰科技", "mobile": "155 3563 1682", "owner": "sam"},
                 {"name": "李四", "company": "上海远航物流", "mobile": "139 1111 2222"},
                 {"name": "John Doe", "company": "Doe & Sons", "mobile": "138 0013 8000"},
                 {"name": "张三丰", "company": "武当", "mobile": "137 0000 1234"}):
        store.create_customer(data)
    return store


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def table(app) -> CustomerTable:
    return app.screen.query_one(CustomerTable)


def column_index(app, key: str) -> int:
    return [c.key for c in table(app).columns].index(key)


async def test_y_copies_the_cursor_cell_and_Y_the_row(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("y")
        first = table(app).row_at(0)["name"]
        assert app.clipboard == first
        assert any(first in n and "Name" in n for n in notes(app))
        mobile = column_index(app, "mobile")
        await pilot.press(*["right"] * mobile, "y")
        assert table(app).cursor_column == mobile
        shown = table(app).cell_text(table(app).row_at(0), table(app).columns[mobile])
        assert app.clipboard == shown and " " in shown   # as the table shows it: 155 3563 1682
        await pilot.press("Y")
        cells = app.clipboard.split("\t")
        assert cells[0] == first and shown in cells and len(cells) == len(table(app).columns)


async def test_y_copies_a_masked_value_masked(people, db_url):
    add_user(people, "vic", "viewer")
    vic = Store.open(db_url, user="vic")
    try:
        app = KehuApp(vic)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press(*["right"] * column_index(app, "mobile"), "y")
            assert "*" in app.clipboard and app.clipboard.replace(" ", "") not in (
                "15535631682", "13911112222", "13800138000", "13700001234")
            await pilot.press("Y")
            assert "1682" not in app.clipboard.replace(" ", "")[:-4] or "*" in app.clipboard
    finally:
        vic.close()


async def test_alt_y_copies_the_focused_field_of_the_detail_screen(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("/", *"zsf", "enter")
        await settle(pilot)
        keys_at_once(app, "enter", "alt+y")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.clipboard == "张三丰"
        assert app.screen.query_one("#field-name").value == "张三丰"   # nothing typed


async def test_q_leaves_every_pushed_screen_but_is_typed_in_fields(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for key in ("f7", "f6", "f2", "ctrl+t", "f9", "f1"):   # timeline, chain, history …
            keys_at_once(app, key, "q")
            await settle(pilot)
            assert isinstance(app.screen, WorkbenchScreen), key
        # a picker filters as you type: q is filter text there, Esc leaves
        for key, screen in (("s", SortPicker), ("v", ViewListScreen)):
            await pilot.press(key, "q")
            await settle(pilot)
            assert isinstance(app.screen, screen) and app.screen.query_one(FilterList).typed == "q"
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, WorkbenchScreen)
        # the reports keep their own q (sales by quarter); Esc leaves them
        await pilot.press("f4", "q")
        await settle(pilot)
        assert type(app.screen).__name__ == "ReportsScreen"
        assert app.screen.report.key == "sales_quarter"
        await pilot.press("escape")
        await settle(pilot)
        # in the search box q is a letter
        await pilot.press("/", "q")
        await settle(pilot)
        assert app.screen.query_one("#search").value == "q"
        # the detail screen: q goes into the field; Esc leaves
        await pilot.press("escape", "escape", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("end", "q")
        assert app.screen.query_one("#field-name").value.endswith("q")


async def test_q_on_the_workbench_does_not_quit(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, WorkbenchScreen)
        assert any("Ctrl+Q" in n for n in notes(app))


async def test_n_and_N_go_to_the_cells_showing_the_search_marked(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("/", *"zs", "enter")   # pinyin initials: 张三, 张三丰
        await settle(pilot)
        t = table(app)
        assert t.row_count == 2 and t.find_words == ["zs"]
        # the matched characters are marked in the cells (pinyin: the characters read zs)
        strip = t._row_strip(0)
        found = [seg.text for seg in strip if seg.style and seg.style.underline]
        assert found == ["张三"]
        await pilot.press("n")
        assert (t.cursor_row, t.cursor_column) == (1, column_index(app, "name"))
        await pilot.press("n")
        assert t.cursor_row == 1 and any("No cell below" in n for n in notes(app))
        await pilot.press("N")
        assert (t.cursor_row, t.cursor_column) == (0, column_index(app, "name"))


async def test_n_finds_a_phone_written_as_shown(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("/", *"155 3563", "enter")
        await settle(pilot)
        t = table(app)
        assert t.row_count == 1
        await pilot.press("N", "n")
        assert t.cursor_column == column_index(app, "mobile")
        marked = [seg.text for seg in t._row_strip(0) if seg.style and seg.style.underline]
        assert marked == ["155 3563"]
        await pilot.press("y")
        assert app.clipboard == "155 3563 1682"


async def test_n_without_a_search_says_how(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        assert any("search with /" in n for n in notes(app))


# -- pickers filter as you type; saved views renamed and deleted -------------------

def shown_options(app) -> list[str]:
    options = app.screen.query_one(FilterList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_the_sort_picker_filters_as_you_type_pinyin_initials_too(people):
    from kehu.models import i18n

    i18n.set_lang("zh")
    try:
        app = KehuApp(people)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("s", "d", "h")
            await settle(pilot)
            assert shown_options(app)[0].startswith("电话")
            await pilot.press("backspace", "backspace", *"mobile")
            assert shown_options(app)[0].startswith("手机")
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, WorkbenchScreen)
            assert app.screen.view.sort[0] == ("mobile", "asc")
    finally:
        i18n.set_lang("en")


async def test_the_column_chooser_filters_and_space_still_toggles(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c", *"wechat")
        await settle(pilot)
        assert shown_options(app)[0].startswith("[ ] WeChat")
        await pilot.press("space", "enter")
        await settle(pilot)
        assert "wechat" in [c.key for c in table(app).columns]


async def test_saved_views_are_renamed_and_deleted_by_keys(people):
    from kehu.models.views import View, load_views, save_view

    save_view(View("east", {"zh": "华东", "en": "East"}, query="region:华东"), people.schema)
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v", *"east")
        await settle(pilot)
        assert shown_options(app)[0].strip().startswith("East")
        await pilot.press("f2", "ctrl+u", *"East coast", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ViewListScreen)
        assert any("East coast" in line for line in shown_options(app))
        assert load_views(people.schema).get("east").name() == "East coast"
        # a built-in roster is neither renamed nor deleted
        await pilot.press("escape", "v", *"ranking", "delete")
        await settle(pilot)
        assert "built-in" in str(app.screen.query_one("#views-error").render())
        await pilot.press("escape", "v", *"coast", "delete")
        await settle(pilot)
        await pilot.press("enter")   # the question: yes
        await settle(pilot)
        assert load_views(people.schema).get("east") is None
        assert not any("coast" in line for line in shown_options(app))


def test_views_rename_and_delete_headless_and_by_the_cli(people, capsys):
    from kehu.models.views import View, ViewsError, load_views, rename_view, save_view
    from kehu.tui.cli import main

    schema = people.schema
    save_view(View("east", {"zh": "华东", "en": "East"}, query="region:华东"), schema)
    save_view(View("west", {"zh": "西部", "en": "West"}), schema)
    with pytest.raises(ViewsError, match="already called"):
        rename_view("east", "west", schema)
    with pytest.raises(ViewsError, match="built-in"):
        rename_view("ranking", "Mine", schema)
    assert main(["views", "rename", "East", "东区"]) == 0
    assert load_views(schema).get("east").names == {"zh": "东区", "en": "东区"}
    assert load_views(schema).get("east").query == "region:华东"
    assert main(["views", "delete", "west"]) == 0
    assert main(["views", "delete", "roster"]) == 2
    out = capsys.readouterr()
    assert "built-in" in out.err
    assert [v.key for v in load_views(schema) if not v.builtin] == ["east"]


async def test_the_bulk_field_list_filters_as_you_type(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("space", "b", "enter")   # one row selected; set a field
        await settle(pilot)
        await pilot.press("d", "h")                 # 电话: its Chinese label's initials
        assert shown_options(app)[0] == "Phone"
        await pilot.press("backspace", "backspace", *"own")
        assert shown_options(app)[0] == "Owner"


async def test_renaming_or_deleting_the_view_shown_updates_the_workbench(people):
    from kehu.models.views import View, save_view

    save_view(View("east", {"zh": "华东", "en": "East"}, query="name:张"), people.schema)
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("v", *"east", "enter")
        await settle(pilot)
        assert app.screen.view.key == "east" and table(app).row_count == 2
        await pilot.press("v", *"east", "f2", "ctrl+u", *"Zhang", "enter", "escape")
        await settle(pilot)
        assert "View: Zhang" in str(app.screen.query_one("#status").render())
        await pilot.press("v", *"zhang", "delete", "enter", "escape")
        await settle(pilot)
        assert app.screen.view.key == "all" and table(app).row_count == 4


async def test_the_timeline_kind_picker_filters_as_you_type(people):
    app = KehuApp(people)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        keys_at_once(app, "f7")
        await settle(pilot)
        await pilot.press("f", *"vis")
        await settle(pilot)
        assert "Visit" in shown_options(app)[0]
        await pilot.press("enter")
        await settle(pilot)
        assert type(app.screen).__name__ == "TimelineScreen"
