"""Keys typed fast after a key that opens or closes a screen are not lost.

Over SSH a burst arrives at once: ``/name Enter Enter`` or ``F6 Down``. Every key
that changes the screen or the focus is followed here by more keys queued in the
same go (``keys_at_once``, as a terminal delivers them, with no pause between),
and the test checks that those keys acted in the new screen.
"""
from __future__ import annotations

import pytest

from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.workbench import WorkbenchScreen
from kehu.tui.widgets.customer_table import CustomerTable
from tests.ui_app import keys_at_once


@pytest.fixture
def store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    for name, company in (("张三", "北京星辰科技"), ("李四", "上海远航物流"),
                          ("Nadia Rossi", "Rossi Srl"), ("王五", "杭州同辉食品")):
        store.create_customer({"name": name, "company": company, "grade": "A"})
    store.bulk_insert_customers({"name": f"Filler {i:03d}", "company": "Bulk Co"}
                                for i in range(120))
    yield store
    store.close()


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def pushed_screens(app) -> list[str]:
    """Record the class of every screen pushed from now on."""
    pushed: list[str] = []
    push = app.push_screen

    def recording(screen, *args, **kwargs):
        pushed.append(type(screen).__name__)
        return push(screen, *args, **kwargs)

    app.push_screen = recording
    return pushed


def search_value(app) -> str:
    return app.screen.query_one("#search").value


async def test_search_enter_enter_opens_the_customer_found(store):
    """'/nadia Enter Enter' in one burst: the second Enter opened nothing (it
    reached the search box before the focus moved), or the old first row."""
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "/", *"nadia", "enter", "enter")
        await settle(pilot)
        screen = pilot.app.screen
        assert not isinstance(screen, WorkbenchScreen)
        assert screen.record["name"] == "Nadia Rossi"


async def test_enter_on_a_row_then_typing_goes_into_the_customer(store):
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "down", "enter", "end", *"X")
        await settle(pilot)
        screen = pilot.app.screen
        assert screen.record["name"] == "李四"   # the row the Down moved to
        assert screen.focused.value == "李四X"


async def test_esc_back_then_typing_goes_into_the_search(store):
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "enter", "escape", "/", *"zs")
        await settle(pilot)
        assert isinstance(pilot.app.screen, WorkbenchScreen)
        assert search_value(pilot.app) == "zs"
        table = pilot.app.screen.query_one(CustomerTable)
        assert [table.row_at(0)["name"]] == ["张三"] and table.row_count == 1


SCREEN_KEYS = [("ctrl+t", "DueScreen"), ("f1", "HelpScreen"), ("f2", "HistoryScreen"),
               ("f3", "ExportScreen"), ("f4", "ReportsScreen"), ("f5", "MeetingScreen"),
               ("f6", "ChainScreen"), ("f7", "TimelineScreen"), ("f9", "DeletedScreen"),
               ("f10", "AgendaScreen"), ("f12", "DedupeScreen")]


@pytest.mark.parametrize("key,screen_name", SCREEN_KEYS, ids=[k for k, _ in SCREEN_KEYS])
async def test_screen_key_then_esc_then_search_in_one_burst(store, key, screen_name):
    """The key opens its screen, Esc closes it, '/zs' searches: no key is lost or
    reaches the wrong screen (Esc before the screen was up cleared the search
    box of the workbench, and the screen stayed open)."""
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        pushed = pushed_screens(pilot.app)
        keys_at_once(pilot.app, key, "escape", "/", *"zs")
        await settle(pilot)
        assert pushed == [screen_name]
        assert isinstance(pilot.app.screen, WorkbenchScreen), pilot.app.screen
        assert search_value(pilot.app) == "zs"


async def test_f6_then_down_moves_in_the_chain(store):
    from kehu.tui.screens.chain import ChainScreen

    first = store.find_customers("张三")[0] if hasattr(store, "find_customers") else None
    customer_id = first.id if first else 1
    for name in ("Boss", "Buyer", "Clerk"):
        store.add_contact(customer_id, name=name)
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "f6", "down", "down")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ChainScreen)
        tree = pilot.app.screen.tree
        assert tree.cursor_line == 2


async def test_ctrl_u_and_a_path_typed_fast_in_the_import_field(store, tmp_path):
    """Ctrl+O, Ctrl+U, a path, Enter in one burst: the path was read as '.'."""
    from kehu.tui.screens.import_screen import ImportScreen

    path = tmp_path / "people.csv"
    path.write_text("name,mobile\n赵六,13900001111\n", encoding="utf-8")
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "ctrl+o", "ctrl+u", *str(path), "enter")
        await settle(pilot)
        assert isinstance(pilot.app.screen, ImportScreen)
        assert pilot.app.screen.query_one("#import-path").value == str(path)
        assert not [n for n in pilot.app._notifications if "no such file" in str(n.message)]


async def test_palette_then_typing_finds_the_command(store):
    async with KehuApp(store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(pilot.app, "ctrl+p", *"English")
        await settle(pilot)
        from textual.command import CommandPalette

        assert isinstance(pilot.app.screen, CommandPalette)
        assert pilot.app.screen.query_one("Input").value == "English"
