"""Bulk changes by keys in the workbench (Pilot), on SQLite and PostgreSQL:
select rows, set the owner, confirm, see the change, undo it."""
from __future__ import annotations

import pytest

from kehu.models.results import ResultSet
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.bulk import BulkChangeScreen
from kehu.tui.screens.confirm import ConfirmScreen
from kehu.tui.screens.workbench import WorkbenchScreen
from kehu.tui.widgets.customer_table import CustomerTable
from tests.ui_app import notes


@pytest.fixture
def bulk_store(db_url):
    store = Store.open(db_url, user="tester")
    store.bulk_insert_customers(
        {"name": f"East {i:03d}", "region": "华东", "owner": "amy"} for i in range(120))
    store.bulk_insert_customers(
        {"name": f"North {i:03d}", "region": "华北", "owner": "amy"} for i in range(30))
    yield store
    store.close()


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def owners(store, query: str) -> set:
    return {r["owner"] for r in ResultSet(store, query).page(0, 1000)}


async def set_owner(pilot, owner: str) -> str:
    """b, Set a field, Owner, the value, Enter; returns the confirmation's question."""
    app = pilot.app
    await pilot.press("b")
    await settle(pilot)
    assert isinstance(app.screen, BulkChangeScreen)
    await pilot.press("enter")          # the first operation: set a field
    await settle(pilot)
    await pilot.press(*"own")           # typed: jumps to Owner among 40 fields
    await pilot.press("enter")
    await pilot.press(*owner, "enter")
    await settle(pilot)
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen.question


async def test_select_rows_by_space_set_owner_confirm_and_undo(bulk_store):
    app = KehuApp(bulk_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("space", "space", "space")   # rows 1-3 selected, cursor on row 4
        await settle(pilot)
        table = app.screen.query_one(CustomerTable)
        assert table.cursor_row == 3
        assert "3 selected" in text_of(app, "#summary")
        line = table.render_line(1).text
        assert line.startswith("*")                      # marked visibly
        assert not table.render_line(4).text.startswith("*")
        # the mark takes a cell of the name column: the other columns do not move
        from rich.cells import cell_len
        selection, table.bulk_selection = table.bulk_selection, None
        plain = table.render_line(1).text
        table.bulk_selection = selection
        first = table.columns[0].width

        def after(text, cells):   # the text after its first ``cells`` cells
            used = i = 0
            while used < cells:
                used += cell_len(text[i])
                i += 1
            return text[i:]

        assert after(line, first) == after(plain, first)
        question = await set_owner(pilot, "bob")
        assert "3" in question and "bob" in question
        await pilot.press("y")
        await settle(pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        assert any("changed 3 of 3" in n for n in notes(app)), notes(app)
        assert not any("kehu update" in n for n in notes(app))   # the key, not a command
        assert sorted(r["name"] for r in ResultSet(bulk_store, "owner:bob").page(0, 10)) == \
            ["East 000", "East 001", "East 002"]
        assert "selected" not in text_of(app, "#summary")
        assert "bob" in table.render_line(1).text or table.row_at(0)["owner"] == "bob"
        await pilot.press("u")        # undo the bulk change (asks first)
        await settle(pilot)
        await pilot.press("y")
        await settle(pilot)
        assert owners(bulk_store, "") == {"amy"}
        assert table.row_at(0)["owner"] == "amy"


async def test_select_everything_a_search_matches_without_loading_it(bulk_store):
    app = KehuApp(bulk_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"region:华东", "enter")
        await settle(pilot)
        await pilot.press("a")         # everything matching: 120 rows, 50 loaded
        await pilot.press("down", "space")   # … but one
        await settle(pilot)
        assert "119 selected" in text_of(app, "#summary")
        question = await set_owner(pilot, "carl")
        assert "119" in question
        await pilot.press("y")
        await settle(pilot)
        assert len(ResultSet(bulk_store, "owner:carl").page(0, 1000)) == 119
        assert owners(bulk_store, "region:华北") == {"amy"}
        assert [r["name"] for r in ResultSet(bulk_store, "owner:amy region:华东").page(0, 9)] == \
            ["East 001"]


async def test_space_held_down_marks_rows_past_the_loaded_page(bulk_store):
    """300 Spaces in one burst (tmux send-keys -N) stopped at row 101: the next
    page was not loaded when Space reached it."""
    from tests.ui_app import keys_at_once

    app = KehuApp(bulk_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        keys_at_once(app, *["space"] * 130)
        await settle(pilot)
        assert "130 selected" in text_of(app, "#summary")
