"""Switching the language from the palette redraws everything at once: the
table's titles, the summary and status lines, the footer, the screens open
under the palette; the palette then finds commands by their new names and says
'no matches' in the language shown."""
from __future__ import annotations

import pytest

from kehu.models import i18n
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.widgets.customer_table import CustomerTable
from tests.test_tui_bursts import settle
from tests.ui_app import run_palette


@pytest.fixture
def store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    store.create_customer({"name": "张三", "company": "北京星辰科技", "grade": "A",
                           "stage": "growth"})
    yield store
    store.close()


@pytest.fixture(autouse=True)
def chinese_first():
    i18n.set_lang("zh")
    yield
    i18n.set_lang("en")


def header(app) -> str:
    return app.screen.query_one(CustomerTable).render_line(0).text


def line(app, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def footer_text(app) -> str:
    from textual.widgets._footer import FooterKey

    return " ".join(k.description for k in app.screen.query(FooterKey))


async def test_switching_to_english_redraws_the_workbench_at_once(store):
    async with KehuApp(store).run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        assert "客户名称" in header(pilot.app) and "搜索" in footer_text(pilot.app)
        await run_palette(pilot.app, pilot, "English")
        await settle(pilot)
        assert i18n.get_lang() == "en"
        assert header(pilot.app).startswith("Name") and "Grade" in header(pilot.app)
        row = pilot.app.screen.query_one(CustomerTable).render_line(1).text
        assert "A key" in row and "Growth" in row   # the choices' labels too
        assert "1 customers" in line(pilot.app, "#summary") or \
            "1 customer" in line(pilot.app, "#summary")
        assert "Row 1 of 1" in line(pilot.app, "#status")
        assert "View: All customers" in line(pilot.app, "#status")
        assert "Search" in footer_text(pilot.app) and "搜索" not in footer_text(pilot.app)
        assert pilot.app.screen.query_one("#search").placeholder.startswith("Search")
        # and back
        await run_palette(pilot.app, pilot, "中文")
        await settle(pilot)
        assert "客户名称" in header(pilot.app) and "第 1 行" in line(pilot.app, "#status")


async def palette_options(pilot, typed: str) -> list[str]:
    """Ctrl+P, ``typed``: the lines the palette offers."""
    from textual.command import CommandPalette

    await pilot.press("ctrl+p")
    await pilot.pause()
    await pilot.press(*typed)
    await pilot.pause(0.8)
    palette = pilot.app.screen
    assert isinstance(palette, CommandPalette)
    return [str(o.prompt) for o in palette.query_one("CommandList")._options]


async def test_the_palette_finds_commands_by_their_new_names(store):
    async with KehuApp(store).run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await run_palette(pilot.app, pilot, "English")
        options = await palette_options(pilot, "Save view")
        assert any("Save view" in o for o in options), options


@pytest.mark.parametrize("lang,said", [("zh", "没有匹配的命令"), ("en", "No matching command")])
async def test_no_matches_is_said_in_the_language_shown(store, lang, said):
    i18n.set_lang(lang)
    async with KehuApp(store).run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        options = await palette_options(pilot, "qqxqzz")
        assert any(said in o for o in options), options
        assert not any("No matches found" in o for o in options)


async def test_screens_open_under_the_palette_are_redrawn(store):
    """Help and reports showed the old language until reopened."""
    async with KehuApp(store).run_test(size=(120, 35)) as pilot:
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert pilot.app.screen.title == "报表" or "报表" in pilot.app.screen.title
        await run_palette(pilot.app, pilot, "English")
        await settle(pilot)
        assert "Report" in pilot.app.screen.title
        assert "grade" in line(pilot.app, "#report-keys")
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert line(pilot.app, "#help-title").startswith("Keys")
        await run_palette(pilot.app, pilot, "中文")
        await settle(pilot)
        assert line(pilot.app, "#help-title").startswith("按键")
        assert "客户名称" not in line(pilot.app, "#help-title")
