"""The reports screen and meeting mode as a user drives them: keys pressed, numbers seen."""
from __future__ import annotations

import pytest

from kehu.models import reports, segments
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens.meeting import MeetingScreen, MeetingTable
from kehu.tui.screens.reports import REPORT_KEYS, TABLE_FIRST, ReportsScreen, ReportTable
from kehu.tui.screens.workbench import WorkbenchScreen
from report_data import TODAY, build


@pytest.fixture
def app_store(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    store.ids = build(store)
    store.update_customer(store.ids["A"], {"mobile": "13800001380"})
    segments.recompute(store, TODAY)
    yield store
    store.close()


async def settle(pilot) -> None:
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def table_rows(screen, table_type) -> list[list[str]]:
    table = screen.query_one(table_type)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def show_report(pilot, key: str) -> list[list[str]]:
    """Open the reports screen, press a report's key: the table rows on screen."""
    screen = await open_reports(pilot)
    await pilot.press(key)
    await settle(pilot)
    return table_rows(screen, ReportTable)


async def open_reports(pilot) -> ReportsScreen:
    await settle(pilot)
    await pilot.press("f4")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReportsScreen)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_each_report_opens_by_its_key(app_store, size):
    app = KehuApp(app_store)
    async with app.run_test(size=size) as pilot:
        screen = await open_reports(pilot)
        for name, key in REPORT_KEYS.items():
            await pilot.press(key)
            await settle(pilot)
            assert screen.report is not None and screen.report.key == name
            assert reports.title(name) in text_of(screen, "#report-title")
            rows = table_rows(screen, ReportTable)
            assert rows, name
            # the numbers on screen are the report's own, total line last
            assert rows[-1][-len(screen.report.table()[-1]):] == screen.report.table()[-1]
            chart = screen.query_one("#report-chart")
            if name in TABLE_FIRST and screen.query_one("#report-body").has_class("stacked"):
                # lists to clean: on a narrow screen the table takes the whole height
                table = screen.query_one(ReportTable)
                assert not chart.display and table.size.height >= min(len(rows), size[1] - 10)
                continue
            assert chart.size.width >= 20 and chart.size.height >= 5
            drawn = "".join(chart.render_line(y).text for y in range(chart.size.height))
            has_data = any(value for _label, value in screen.report.chart_points())
            assert ("█" in drawn or "▌" in drawn) == has_data, name
        await pilot.press("g")                    # a report with its chart again
        await settle(pilot)
        assert screen.query_one("#report-chart").display


async def test_region_numbers_beside_the_chart(app_store):
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        rows = await show_report(pilot, "r")
        screen = app.screen
        assert rows[0] == ["North", "2", "28.6%", "80,000.00"]
        assert rows[1] == ["East", "3", "42.9%", "120,000.00"]
        assert rows[-1] == ["Total", "7", "100.0%", "221,000.00"]
        chart_text = "\n".join(screen.query_one("#report-chart").render_line(y).text
                               for y in range(screen.query_one("#report-chart").size.height))
        assert "North" in chart_text and "East" in chart_text
        await pilot.press("]")
        await settle(pilot)
        assert screen.report.key == "by_segment"
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkbenchScreen)


async def test_reports_follow_the_workbench_search(app_store):
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        for ch in "region:华东":
            await pilot.press(ch)
        await settle(pilot)
        await pilot.press("escape")   # back to the table
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReportsScreen)
        assert "filter: region:华东" in text_of(screen, "#report-title")
        rows = table_rows(screen, ReportTable)
        assert [r[0] for r in rows] == ["A key", "B major", "Total"]
        assert rows[-1][1] == "3"


def chart_lines(screen) -> list[str]:
    chart = screen.query_one("#report-chart")
    return [chart.render_line(y).text for y in range(chart.size.height)]


def screen_text(app) -> str:
    """Every character on the terminal, line by line (what a user reads)."""
    import html
    import re

    svg = app.export_screenshot()
    lines: dict[float, list[tuple[float, str]]] = {}
    for x, y, text in re.findall(r'<text[^>]*x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        lines.setdefault(float(y), []).append((float(x), html.unescape(text).replace("\xa0", " ")))
    return "\n".join("".join(t for _x, t in sorted(parts)) for _y, parts in sorted(lines.items()))


@pytest.mark.parametrize("size", [(80, 24), (120, 35)])
async def test_bars_carry_the_labels_the_table_shows(app_store, size):
    from kehu.models import i18n

    i18n.set_lang("zh")
    app = KehuApp(app_store)
    async with app.run_test(size=size) as pilot:
        rows = await show_report(pilot, "g")
        assert rows[0][0] == "A 重点" and rows[-1][0] == "合计"   # no row numbers any more
        lines = chart_lines(app.screen)
        for label in ("A 重点", "B 重要", "C 普通", "D 一般"):
            line = next(line for line in lines if label in line)
            # the bar and its value are on the label's own line
            assert "█" in line or "▏" in line or label == "D 一般", line
        assert not any(line.strip()[:1].isdigit() and "┤" in line for line in lines)
        ticks = [line for line in lines if line.strip()][-1].split()
        assert ticks and all(t.replace(",", "").isdigit() for t in ticks), (ticks, lines)   # counts: integers
        # the chart starts right of the table: no axis number runs into the numbers
        table, chart = app.screen.query_one(ReportTable), app.screen.query_one("#report-chart")
        assert chart.region.x >= table.region.right or chart.region.y >= table.region.bottom


@pytest.mark.parametrize("lang, units, first", [("zh", "万", "10万"), ("en", "K", "100K")])
async def test_money_ticks_are_short_money(app_store, lang, units, first):
    from kehu.models import i18n

    i18n.set_lang(lang)
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await show_report(pilot, "t")
        lines = chart_lines(app.screen)
        ticks = [line for line in lines if line.strip()][-1].split()
        assert ticks[0] == "0" and all(t == "0" or t.endswith(units) for t in ticks), ticks
        assert not any("." in t and t[-1].isdigit() for t in ticks)   # no raw floats
        # each bar ends with its value in short money
        line = next(line for line in lines if "客户A" in line)      # 100,000.00 bought
        assert line.rstrip().endswith(" " + first) and "█" in line, line
        text = screen_text(app)
        assert "100,000.00" in text and "80,000.00" in text   # the money column is whole


async def test_top_money_column_is_whole_at_100_columns_and_in_the_picture(app_store, tmp_path):
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot)
        await pilot.press("t")
        await settle(pilot)
        text = screen_text(app)
        assert "100,000.00" in text and "Total" in text
        path = screen.save_picture(tmp_path / "top.svg")
        assert "100,000.00" in path.read_text(encoding="utf-8").replace("&#160;", " ")


@pytest.mark.parametrize("size", [(80, 24), (100, 30)])
async def test_enter_on_a_report_row_opens_its_customers_and_escape_comes_back(app_store, size):
    from kehu.tui.screens.reports import DrillScreen

    app = KehuApp(app_store)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"grade:A", "escape")    # the workbench's own filter
        await settle(pilot)
        screen = await open_reports(pilot)
        await pilot.press("r")
        await settle(pilot)
        rows = table_rows(screen, ReportTable)
        assert [r[0] for r in rows] == ["North", "East", "Total"]
        await pilot.press("enter")                      # North: 客户C
        await settle(pilot)
        drill = app.screen
        assert isinstance(drill, DrillScreen)
        assert drill.search_text == "grade:A region:华北"
        assert drill.query_one("#search").value == "grade:A region:华北"
        table = drill.table
        assert table.row_count == 1
        assert "客户C" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen and screen.report.key == "by_region"
        await pilot.press("down", "down", "enter")      # the total line: all of the scope
        await settle(pilot)
        assert app.screen.search_text == "grade:A" and app.screen.table.row_count == 2
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("m", "enter")                 # sales per month: no customer filter
        await settle(pilot)
        assert app.screen is screen
        assert any("not a set of customers" in str(n.message) for n in app._notifications)


async def test_recompute_key_and_picture(app_store, tmp_path):
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_reports(pilot)
        await pilot.press("s")
        await settle(pilot)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert any("Segments recomputed" in str(n.message) for n in app._notifications)
        path = screen.save_picture(tmp_path / "segments.svg")
        assert path.exists() and "<svg" in path.read_text(encoding="utf-8")[:500]
        assert "Customers&#160;by&#160;segment" in path.read_text(encoding="utf-8")


async def test_meeting_mode_steps_through_views_masked_and_read_only(app_store):
    app = KehuApp(app_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        theme = app.theme
        await pilot.press("f5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, MeetingScreen)
        assert app.theme == "kehu-contrast"
        first = text_of(screen, "#meeting-view")
        assert str(screen.query_one("#digits-customers").value) == "7"
        assert str(screen.query_one("#digits-purchases").value) == "221,000"
        assert str(screen.query_one("#digits-high_value").value) == "1"
        await pilot.press("space")
        await settle(pilot)
        assert text_of(screen, "#meeting-view") != first
        # the ranking view: 客户A first; its mobile (sensitive) never shows
        names = [v.key for v in screen.views]
        while screen.view.key != "ranking":
            await pilot.press("space")
            await settle(pilot)
            assert len(names) > 1
        rows = table_rows(screen, MeetingTable)
        assert rows[0][0].strip() == "客户A"
        flat = " ".join(" ".join(r) for r in rows)
        # its mobile (sensitive) never shows: not even a masked column takes room
        assert "138" not in flat and "mobile" not in screen.shown_keys
        # read-only: the app's editing keys do nothing here
        await pilot.press("ctrl+n")
        await settle(pilot)
        assert app.screen is screen
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, WorkbenchScreen)
        assert app.theme == theme


# --- `kehu report` and `kehu segments` -------------------------------------------------

def cli(*argv) -> int:
    from kehu.tui.cli import main

    return main(list(argv))


def test_report_command_prints_csv_json_and_xlsx(app_store, sqlite_url, tmp_path, capsys):
    assert cli("--db", sqlite_url, "report", "by_region", "--csv") == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Region,Customers,Share,Purchases"
    assert out[2] == "East,3,42.9,120000.00" and out[-1] == "Total,7,100.0,221000.00"
    assert cli("--db", sqlite_url, "report", "by_grade", "-q", "region:华东", "--json") == 0
    import json

    data = json.loads(capsys.readouterr().out)
    assert data["scope"] == "filter: region:华东"
    assert [(r["value"], r["customers"]) for r in data["rows"]] == [("A key", 1), ("B major", 2)]
    path = tmp_path / "top.xlsx"
    assert cli("--db", sqlite_url, "report", "top", "--xlsx", str(path)) == 0
    assert path.exists()


def test_report_command_table_and_as_of(app_store, sqlite_url, capsys):
    assert cli("--db", sqlite_url, "report", "sales_quarter", "--today", "2024-07-01") == 0
    out = capsys.readouterr().out
    assert "Sales by quarter" in out and "2024 Q2" in out and "100,000.00" in out


def test_report_command_bad_input_is_one_line(app_store, sqlite_url, capsys):
    assert cli("--db", sqlite_url, "report", "sales") == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kehu: unknown report 'sales'") and "\n" not in err
    assert cli("--db", sqlite_url, "report", "top", "--view", "nope") == 2
    assert "unknown view 'nope'" in capsys.readouterr().err
    assert cli("--db", sqlite_url, "report", "top", "-q", "grade:Z") == 2
    assert "'Z' is not one of" in capsys.readouterr().err
    assert cli("--db", sqlite_url, "report", "top", "--today", "soon") == 2
    assert "not a date" in capsys.readouterr().err


def test_report_command_saves_a_picture(app_store, sqlite_url, tmp_path, capsys):
    path = tmp_path / "pics" / "region.svg"
    assert cli("--db", sqlite_url, "report", "by_region", "--svg", str(path)) == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<svg") and "Customers&#160;by&#160;region" in text


def test_segments_recompute_and_check(app_store, sqlite_url, capsys):
    assert cli("--db", sqlite_url, "segments", "recompute", "--today", "2024-07-01") == 0
    out = capsys.readouterr().out
    assert "7 customers, 5 with purchases" in out
    assert "High value: 1" in out and "(no segment): 2" in out
    assert cli("segments", "check") == 0
    assert "segments.yaml: OK" in capsys.readouterr().out
    segments.user_segments_path().write_text("segments:\n  - segment: vip\n", encoding="utf-8")
    assert cli("segments", "check") == 2
    err = capsys.readouterr().err
    assert "segments.yaml:2:" in err and "'vip' is not a value of the field segment" in err


def test_a_role_without_export_gets_no_report_file(app_store, sqlite_url, tmp_path, capsys):
    from kehu.models.security import add_user

    add_user(app_store, "sam", "sales")          # sales may not export (roles.yaml)
    path = tmp_path / "r.csv"
    assert cli("--db", sqlite_url, "--user", "sam", "report", "by_region", "--csv", str(path)) == 2
    assert not path.exists()
    assert "kehu:" in capsys.readouterr().err
    # the numbers on screen are still there, over sam's own customers only (none here)
    assert cli("--db", sqlite_url, "--user", "sam", "report", "by_region") == 0
    assert "North" not in capsys.readouterr().out


@pytest.mark.parametrize("key, row, query, count", [
    ("t", 0, 'name=客户A', 1),                 # top customers: the customer of the row
    ("o", 0, "", 7),                           # no overdue rows here: the total line, everyone
    ("r", 1, "region:华东", 3),
    ("g", 0, "grade:A", 2),
])
async def test_drill_down_names_the_rows_customers(app_store, key, row, query, count):
    from kehu.tui.screens.reports import DrillScreen

    app = KehuApp(app_store)
    async with app.run_test(size=(120, 35)) as pilot:
        screen = await open_reports(pilot)
        await pilot.press(key)
        await settle(pilot)
        for _ in range(row):
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DrillScreen)
        assert app.screen.search_text == query
        assert app.screen.table.row_count == count
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
