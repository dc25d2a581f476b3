"""Meeting mode as the review meeting sees it: the window full of rows, paged by
keys, names cut with "…", the purchase total instead of a masked column, and
empty values after the filled ones."""
from __future__ import annotations

import pytest

from kehu.tui.screens.meeting import MeetingScreen, MeetingTable
from tests.ui_app import make_app


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def open_meeting(pilot, view_key: str = "roster") -> MeetingScreen:
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, MeetingScreen)
    while screen.view.key != view_key:
        await pilot.press("space")
        await settle(pilot)
    return screen


def visible_rows(screen) -> list[list[str]]:
    """The rows the table shows right now (what fits under its header)."""
    table = screen.query_one(MeetingTable)
    first = int(table.scroll_y)
    shown = table.size.height - 1
    return [[str(c).strip() for c in table.get_row_at(i)]
            for i in range(first, min(table.row_count, first + shown))]


def rows_line(screen) -> str:
    return str(screen.query_one("#meeting-rows").render())


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_the_table_fills_the_window_and_pages(tmp_path, size):
    app = make_app(tmp_path, customers=300)
    async with app.run_test(size=size) as pilot:
        screen = await open_meeting(pilot)
        table = screen.query_one(MeetingTable)
        shown = table.size.height - 1
        assert shown > 12 or size == (80, 24)           # no longer 12 rows at any size
        assert len(visible_rows(screen)) == shown and table.row_count >= shown
        assert rows_line(screen).startswith(f"rows 1–{shown} of 300")
        top = visible_rows(screen)[0]
        await pilot.press("pagedown")
        await settle(pilot)
        assert visible_rows(screen)[0] != top
        assert rows_line(screen).startswith(f"rows {int(table.scroll_y) + 1}–")
        assert int(table.scroll_y) >= shown - 1
        await pilot.press("down")
        await settle(pilot)
        before = int(table.scroll_y)
        await pilot.press("up")
        await settle(pilot)
        assert int(table.scroll_y) == before - 1
        await pilot.press("pageup", "pageup")
        await settle(pilot)
        assert visible_rows(screen)[0] == top
        # → is still the next view, not a sideways scroll
        await pilot.press("right")
        await settle(pilot)
        assert screen.view.key == "ranking"


async def test_paging_reads_past_the_first_rows_to_the_last(tmp_path):
    app = make_app(tmp_path, customers=450)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_meeting(pilot)
        table = screen.query_one(MeetingTable)
        for _ in range(60):
            await pilot.press("pagedown")
            await pilot.pause()
        await settle(pilot)
        await pilot.press("end")
        await settle(pilot)
        assert table.row_count == 450
        assert rows_line(screen).startswith("rows ") and "–450 of 450" in rows_line(screen)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_no_masked_column_the_purchase_total_instead(tmp_path, lang):
    app = make_app(tmp_path, customers=50, lang=lang)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_meeting(pilot, "roster")
        assert "mobile" not in screen.shown_keys and "purchase_total" in screen.shown_keys
        flat = " ".join(" ".join(r) for r in visible_rows(screen))
        assert "•••" not in flat


async def test_long_names_end_in_an_ellipsis(tmp_path):
    app = make_app(tmp_path)
    app.store.create_customer({"name": "Bartholomew Montgomery-Fitzwilliam the Third of Yorkshire",
                               "company": "杭州同辉食品有限公司杭州同辉食品有限公司杭州分公司",
                               "purchase_total": "1000"})
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_meeting(pilot)
        name, company = visible_rows(screen)[0][:2]
        assert name.endswith("…") and name.startswith("Bartholomew")
        assert company.endswith("…") and company.startswith("杭州同辉")


async def test_empty_values_come_after_the_filled_ones_in_the_grade_table(tmp_path):
    app = make_app(tmp_path)
    for i, rating in enumerate([None, "AAA", None, "A", "BBB"]):
        app.store.create_customer({"name": f"客户{i}", "credit_rating": rating})
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_meeting(pilot, "grades")
        names = [row[0] for row in visible_rows(screen)]
        assert names[:3] == ["客户1", "客户3", "客户4"]
        assert sorted(names[3:]) == ["客户0", "客户2"]
        assert rows_line(screen).startswith("rows 1–5 of 5")
