"""Saved views by keys: Ctrl+S "save view as…" again and again, every view kept."""
from __future__ import annotations

import pytest
import yaml

from kehu.models.store import Store
from kehu.models.views import load_views, user_views_path
from kehu.tui.app import KehuApp
from tests.test_tui_workbench import _people, choose_view, names, settle, text_of, type_search
from tests.ui_app import notes


@pytest.fixture
def app_store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    store.ids = _people(store)
    yield store
    store.close()


async def save_as(pilot, name: str) -> None:
    await pilot.press("escape")  # leave the search box for the table
    await pilot.press("ctrl+s")
    await pilot.press("end", "ctrl+u", *name, "enter")
    await settle(pilot)


async def test_two_views_saved_by_keys_are_both_listed_and_both_reload(app_store):
    async with KehuApp(app_store).run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "grade:A")
        await save_as(pilot, "Key accounts")
        await choose_view(pilot, "All customers")
        await type_search(pilot, "region:华东")
        await save_as(pilot, "East")  # the second one failed: 'cannot represent an object'
        assert not any("Could not save" in n for n in notes(pilot.app)), notes(pilot.app)
        assert "View: East" in text_of(pilot.app, "#status")
        saved = yaml.safe_load(user_views_path().read_text(encoding="utf-8"))
        assert [(v["name"]["en"], v["query"]) for v in saved["views"]] == [
            ("Key accounts", "grade:A"), ("East", "region:华东")]
        await pilot.press("v")
        options = pilot.app.screen.query_one("OptionList")
        listed = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert [line for line in listed if "[saved]" in line] == [
            "  Key accounts  [saved]", "● East  [saved]"]
        await pilot.press("escape")
        await choose_view(pilot, "Key accounts")
        assert sorted(names(pilot.app)) == ["张三", "李四"]
        await choose_view(pilot, "East")
        assert sorted(names(pilot.app)) == ["单雄信", "张三"]
    assert [v.name() for v in load_views(app_store.schema) if not v.builtin] == [
        "Key accounts", "East"]
