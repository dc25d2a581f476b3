"""Snapshots of the main screens at 80x24, in Chinese and in English.

The data is fixed (no demo randomness, no dates relative to today) so a
snapshot changes only when the screen does. Update after an intended change:
``pytest tests/test_snapshots.py --snapshot-update``.
"""
from __future__ import annotations

import pytest

from tests.ui_app import make_app

CUSTOMERS = [
    {"name": "张三", "company": "杭州同辉食品有限公司", "mobile": "13800138000",
     "region": "华东", "acquired_on": "2021-03-15", "purchase_total": "128000",
     "grade": "A", "stage": "growth", "owner": "王芳"},
    {"name": "Elizabeth Anderson", "company": "Morris-Henry Ltd", "mobile": "15094756409",
     "region": "海外", "acquired_on": "2019-11-22", "purchase_total": "56000.5",
     "grade": "B", "stage": "maturity", "owner": "Li Lei"},
    {"name": "欧阳明月", "company": "长沙远航软件有限公司", "mobile": "13252891506",
     "region": "华中", "acquired_on": "2024-07-01", "grade": "C", "stage": "lead"},
]
SIZE = (80, 24)


@pytest.fixture(autouse=True)
def fixed_config_dir(monkeypatch):
    """Help names the keymap file; its path must not depend on pytest's tmp folder."""
    monkeypatch.setenv("KEHU_CONFIG_DIR", "/nonexistent/kehu-snapshot-config")


def fixed_app(tmp_path, lang: str):
    app = make_app(tmp_path, lang=lang)
    for data in CUSTOMERS:
        app.store.create_customer(dict(data))
    return app


async def _settle(pilot) -> None:
    """Wait for the data, and stop blinking cursors (a snapshot must not flicker)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    for widget in pilot.app.screen.query("Input, TextArea"):
        widget.cursor_blink = False
    await pilot.pause()


SIZES = [(80, 24), (120, 35)]


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x35"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbench(snap_compare, tmp_path, lang, size):
    """The columns that matter on screen at 80 columns (the rest one → away), names and
    companies whole at 120; F1 help and ^q quit in the footer; lines that fit."""
    assert snap_compare(fixed_app(tmp_path, lang), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_help(snap_compare, tmp_path, lang):
    async def open_help(pilot):
        await _settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(fixed_app(tmp_path, lang), terminal_size=SIZE, run_before=open_help)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_detail(snap_compare, tmp_path, lang):
    async def open_first(pilot):
        await _settle(pilot)
        await pilot.press("enter")
        await _settle(pilot)

    assert snap_compare(fixed_app(tmp_path, lang), terminal_size=SIZE, run_before=open_first)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_palette(snap_compare, tmp_path, lang):
    async def open_palette(pilot):
        await _settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"kehu-")
        await pilot.pause(0.5)
        await _settle(pilot)

    assert snap_compare(fixed_app(tmp_path, lang), terminal_size=SIZE, run_before=open_palette)


#: purchases of the fixed customers (purchase totals come from them), on fixed days
PURCHASES = {"张三": [("2024-03-01", "128000"), ("2024-06-20", "1250000")],
             "Elizabeth Anderson": [("2023-11-02", "56000.5")],
             "欧阳明月": [("2024-06-30", "350000")]}


def buying_app(tmp_path, lang: str):
    """The fixed customers, with purchases: money in the charts and the ranking."""
    import datetime as dt

    app = make_app(tmp_path, lang=lang)
    for data in CUSTOMERS:
        customer = app.store.create_customer(dict(data))
        for day, amount in PURCHASES[data["name"]]:
            app.store.add_interaction(customer.id, "purchase", amount=amount,
                                      occurred_at=dt.datetime.fromisoformat(day + "T10:30"))
    return app


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x35"])
@pytest.mark.parametrize("report", ["by_grade", "top"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_reports(snap_compare, tmp_path, lang, report, size):
    """The numbers and their chart: labels in the user's language, short money ticks."""
    import datetime as dt

    from kehu.tui.screens.reports import ReportsScreen

    async def open_report(pilot):
        await _settle(pilot)
        # a fixed day: the status line says "as of" it
        pilot.app.push_screen(ReportsScreen(None, report, today=dt.date(2024, 7, 1)))
        await _settle(pilot)

    assert snap_compare(buying_app(tmp_path, lang), terminal_size=size, run_before=open_report)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "120x35"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_meeting(snap_compare, tmp_path, lang, size):
    """Meeting mode's purchase ranking: the window full of rows, no masked column."""
    async def open_meeting(pilot):
        await _settle(pilot)
        await pilot.press("f5")
        await _settle(pilot)
        await pilot.press("space")        # the purchase ranking
        await _settle(pilot)

    assert snap_compare(buying_app(tmp_path, lang), terminal_size=size, run_before=open_meeting)
