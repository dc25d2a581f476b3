"""Reports: the numbers beside a bar chart drawn in the terminal.

One key per report (``g`` grade, ``r`` region, ``s`` segment, ``l`` lifecycle
stage, ``m`` month, ``q`` quarter, ``p`` pipeline, ``c`` expected close, ``t``
top customers, ``n`` new customers, ``o`` overdue per owner, ``f`` satisfaction
by month, ``e`` satisfaction by segment, ``d`` data quality; ``[`` / ``]`` step
through them). Every report covers the workbench's current view and search
(the scope line says which). ``ctrl+r`` recomputes the RFM segments (on the
quality report: checks the stored values again), ``ctrl+s`` saves the screen as
an SVG picture. Reports run off the UI thread.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models import reports, segments
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.models.query import QueryError
from kehu.models.results import ResultSet
from kehu.tui.screens.workbench import WorkbenchScreen
from kehu.tui.widgets.bar_chart import BarChart, fit
from kehu.tui.widgets.db_runner import DbRunner
from kehu.tui.widgets.footer import KehuFooter
from kehu.tui.widgets.keyed import DataTable

#: report key → (key pressed, binding id); one place for the keys of this screen
REPORT_KEYS = {
    "by_grade": "g", "by_region": "r", "by_segment": "s", "by_stage": "l",
    "sales_month": "m", "sales_quarter": "q", "pipeline": "p", "pipeline_close": "c",
    "top": "t", "new_customers": "n", "overdue": "o",
    "satisfaction": "f", "satisfaction_segment": "e", "quality": "d",
}
#: the widest a text cell of the table gets (names, companies); longer ones end in "…"
TEXT_CELLS = 18
#: the chart goes beside the table when this many cells are left, below it when
#: fewer than CHART_NARROW_CELLS are, and in between below when every bar fits there
CHART_MIN_CELLS = 48
CHART_NARROW_CELLS = 30
NUMERIC = ("count", "money", "percent", "score")
#: reports whose rows are customers grouped by one field: (report key → field)
GROUPED = {"by_grade": "grade", "by_region": "region", "by_segment": "segment",
           "satisfaction_segment": "segment"}
#: reports whose lines are the point (lists to clean): on a narrow screen the table
#: takes the whole height instead of sharing it with a chart of a few bars
TABLE_FIRST = {"quality"}


def chart_labels(report: reports.Report) -> list[str]:
    """Bar names: each row's label as the table shows it (``A 重点``, ``华东``)."""
    return [str(row.get(report.chart_label) or "") for row in report.rows]


def _quoted(value) -> str:
    text = str(value)
    if any(ch.isspace() or ch in '",:' for ch in text) or text.startswith("-"):
        return '"' + text.replace('"', "") + '"'
    return text


def drill_query(store, report: reports.Report, row: dict) -> str | None:
    """The search-box filter naming the customers behind one report row
    (``region:华东``), "" for the whole scope, None when the row is not a set
    of customers a filter can name (sales per month, expected close)."""
    key = report.key
    field = GROUPED.get(key)
    if key in ("by_stage", "pipeline"):
        from kehu.models.segments import SegmentsError, load_config

        try:
            field = (load_config(store.schema).lifecycle_field or "stage") if key == "by_stage" \
                else "stage"
        except SegmentsError:
            field = "stage"
    if field is not None:
        value = row.get("key")
        if value in (None, ""):   # the empty group: none of the values
            spec = store.schema[field]
            if not spec.choices:
                return None
            return f"-{field}:" + ",".join(_quoted(c.value) for c in spec.choices)
        return f"{field}:{_quoted(value)}"
    if key == "overdue":
        owner = row.get("key")
        return None if owner in (None, "") else f"owner={_quoted(owner)}"
    if key == "top":
        return f"name={_quoted(row.get('name'))}"
    if key == "new_customers" and "acquired_on" in store.schema:
        return f"acquired_on:{row.get('month')}"
    if key == "quality":   # each line of the quality report carries its own query
        return row.get("query")
    return None


def workbench_scope(app) -> ResultSet | None:
    """The scope of the screen below: its view's filter and what is typed in its search."""
    screen = app.screen
    view = getattr(screen, "view", None)
    search = getattr(screen, "search_text", "") or ""
    if view is None and not search:
        return None
    try:
        return reports.scope(app.store, view=view if getattr(view, "query", "") else None,
                             query=search)
    except QueryError:
        return reports.scope(app.store, view=view if getattr(view, "query", "") else None)


class ReportTable(DataTable):
    """The numbers of one report (read-only)."""


class ReportsScreen(Screen):
    BINDINGS = [
        *(Binding(key, f"show('{name}')", tr(f"report.{name}"), show=False,
                  id=f"reports.{name}") for name, key in REPORT_KEYS.items()),
        Binding("right_square_bracket", "step(1)", tr("reports.next"), id="reports.next"),
        Binding("left_square_bracket", "step(-1)", tr("reports.previous"), id="reports.previous"),
        Binding("ctrl+r", "recompute", tr("reports.recompute"), id="reports.recompute"),
        Binding("ctrl+s", "screenshot", tr("reports.screenshot"), id="reports.screenshot"),
        Binding("escape", "close", tr("reports.close"), id="reports.close"),
    ]
    DEFAULT_CSS = """
    ReportsScreen #report-keys { height: auto; padding: 0 1; color: $text-muted; }
    ReportsScreen #report-title { height: auto; padding: 0 1; text-style: bold; }
    ReportsScreen #report-body { height: 1fr; layout: horizontal; }
    ReportsScreen ReportTable { width: auto; height: 1fr; }
    ReportsScreen BarChart { width: 1fr; height: 1fr; min-width: 24; }
    ReportsScreen #report-body.stacked { layout: vertical; }
    ReportsScreen #report-body.stacked ReportTable { width: 1fr; height: auto; max-height: 60%; }
    ReportsScreen #report-body.stacked BarChart { width: 1fr; height: 1fr; min-height: 6; }
    ReportsScreen #report-body.table-only ReportTable { height: 1fr; max-height: 100%; }
    ReportsScreen #report-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, scope: ResultSet | None = None, report: str = "by_grade", *,
                 today: dt.date | None = None):
        super().__init__()
        self.scope = scope
        self.report_key = report
        self.today = today
        self.report: reports.Report | None = None
        self.runner: DbRunner | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._key_strip(), id="report-keys")
        yield Static(id="report-title", markup=False)
        with Horizontal(id="report-body"):
            yield ReportTable(id="report-table", cursor_type="row", zebra_stripes=True)
            yield BarChart(id="report-chart")
        yield Static(id="report-status", markup=False)
        yield KehuFooter()   # F1 help and ^q quit kept at 80 columns

    def _key_strip(self) -> Text:
        text = Text()
        for name in REPORT_KEYS:
            keys = self.app.keys_for(f"reports.{name}") if hasattr(self.app, "keys_for") \
                else REPORT_KEYS[name]
            text.append(f"{keys} ", "bold")
            text.append(tr(f"reports.short.{name}") + "  ")
        return text

    def on_mount(self) -> None:
        self.title = tr("reports.title")
        self.runner = DbRunner(self.app.store.db)
        self.show(self.report_key)

    def on_unmount(self) -> None:
        if self.runner is not None:
            self.runner.close()

    def language_changed(self) -> None:
        """Switched from the palette (KehuBaseApp.use_language): drawn again."""
        self.title = tr("reports.title")
        self.query_one("#report-keys", Static).update(self._key_strip())
        self.show(self.report_key)

    # -- actions --------------------------------------------------------------
    def action_show(self, name: str) -> None:
        self.show(name)

    def action_step(self, delta: int) -> None:
        keys = list(REPORT_KEYS)
        index = keys.index(self.report_key) if self.report_key in keys else 0
        self.show(keys[(index + delta) % len(keys)])

    def action_close(self) -> None:
        self.app.pop_screen()

    def action_recompute(self) -> None:
        if self.report_key == "quality":   # the quality report: check the stored values again
            self.query_one("#report-status", Static).update(tr("reports.scanning"))
            self._scan()
            return
        self.query_one("#report-status", Static).update(tr("reports.recomputing"))
        self._recompute()

    @work(exclusive=True, group="recompute")
    async def _scan(self) -> None:
        from kehu.models import quality

        store = self.app.store
        counts = await self.runner.background(lambda: quality.scan(store))
        self.notify(tr("reports.scanned", count=sum(counts.values())))
        self.show(self.report_key)

    def action_screenshot(self) -> None:
        from kehu.models.security import PermissionDenied

        guard = getattr(self.app.store, "guard", None)
        try:
            if guard is not None:
                guard.require("export")   # a picture of the numbers is an export
        except PermissionDenied as exc:
            self.notify(str(exc), severity="error")
            return
        path = self.save_picture()
        self.notify(tr("reports.saved_picture", path=path))

    def save_picture(self, path: str | Path | None = None) -> Path:
        """The screen as an SVG file (default: the data folder, named after the report)."""
        from kehu.models.config import data_dir

        if path is None:
            folder = data_dir() / "reports"
            folder.mkdir(parents=True, exist_ok=True)
            stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = folder / f"{self.report_key}-{stamp}.svg"
        path = Path(path)
        self.app.save_screenshot(filename=path.name, path=str(path.parent))
        return path

    # -- running ---------------------------------------------------------------
    def show(self, name: str) -> None:
        self.report_key = reports.find(name)
        self.query_one("#report-title", Static).update(reports.title(self.report_key))
        self.query_one("#report-status", Static).update(tr("reports.running"))
        self._run(self.report_key)

    @work(exclusive=True, group="report")
    async def _run(self, key: str) -> None:
        store = self.app.store
        try:
            report = await self.runner.background(
                lambda: reports.run(store, key, self.scope, today=self.today))
        except (reports.ReportError, QueryError, segments.SegmentsError) as exc:
            self.query_one("#report-status", Static).update(str(exc))
            return
        if key != self.report_key:
            return
        self.report = report
        self._fill(report)

    @work(exclusive=True, group="recompute")
    async def _recompute(self) -> None:
        store = self.app.store
        try:
            result = await self.runner.background(lambda: segments.recompute(store))
        except KehuError as exc:   # a broken segments.yaml, or no right to recompute
            self.query_one("#report-status", Static).update(str(exc))
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify(tr("reports.recomputed", buyers=result.buyers, changed=result.changed,
                       seconds=result.seconds))
        self.show(self.report_key)

    def _fill(self, report: reports.Report) -> None:
        title = self.query_one("#report-title", Static)
        title.update(f"{report.title} — {report.scope}")
        table = self.query_one(ReportTable)
        table.clear(columns=True)
        cells = report.table()
        header, body = cells[0], cells[1:]
        for col, label in zip(report.columns, header):
            right = col.kind in NUMERIC
            table.add_column(Text(label, justify="right" if right else "left"), key=col.key)
        for i, line in enumerate(body):
            is_total = report.totals and i == len(body) - 1
            styled = [Text(cell if col.kind in NUMERIC else fit(cell, TEXT_CELLS),
                           justify="right" if col.kind in NUMERIC else "left",
                           style="bold" if is_total else "")
                      for col, cell in zip(report.columns, line)]
            table.add_row(*styled)
        self._draw_chart(report)
        status = tr("reports.status", help=report.help, day=report.as_of.isoformat())
        last = segments.last_recompute(self.app.store) if report.key == "by_segment" else None
        if report.key == "by_segment":
            when = str(last["at"]).replace("T", " ") if last else ""
            status += "  " + (tr("reports.segments_at", at=when) if last
                              else tr("reports.segments_never"))
        self.query_one("#report-status", Static).update(status)

    def _draw_chart(self, report: reports.Report) -> None:
        chart = self.query_one(BarChart)
        series = [[row.get(key) or 0 for row in report.rows] for key in report.chart_values]
        names = [report.column(key).label for key in report.chart_values]
        kind = report.column(report.chart_values[0]).kind
        chart.set_data(chart_labels(report), series, names, kind, tr("charts.more"))
        self._arrange()
        self.call_after_refresh(self._arrange)   # the table's widths are known after a refresh

    def on_resize(self) -> None:
        self._arrange()

    def _table_cells(self) -> int:
        table = self.query_one(ReportTable)
        return sum(col.get_render_width(table) for col in table.columns.values()) + 2

    def _arrange(self) -> None:
        """The chart beside the table when both fit, else below it: the numbers
        are never cut to make room for the chart."""
        body = self.query_one("#report-body")
        left = self.size.width - self._table_cells()
        bars = len(self.report.rows) * len(self.report.chart_values) if self.report else 0
        table_rows = self.query_one(ReportTable).row_count + 1
        below = body.size.height - min(table_rows, int(body.size.height * 0.6)) - 3
        # beside when there is room; below when beside is narrow and below holds every bar
        stacked = left < CHART_NARROW_CELLS or (left < CHART_MIN_CELLS and below >= bars)
        body.set_class(stacked, "stacked")
        table_only = stacked and self.report is not None and self.report.key in TABLE_FIRST
        body.set_class(table_only, "table-only")
        self.query_one(BarChart).display = not table_only

    # -- drill-down ----------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table is not self.query_one(ReportTable) or self.report is None:
            return
        event.stop()
        self.drill(event.cursor_row)

    def drill(self, index: int) -> None:
        """Open the customers behind row ``index`` (the totals line: all of them) in a
        workbench of their own; escape comes back here."""
        report = self.report
        if index < len(report.rows):
            extra = drill_query(self.app.store, report, report.rows[index])
        else:
            extra = ""
        if extra is None:
            self.notify(tr("charts.no_drill", report=report.title), severity="warning")
            return
        view = getattr(self.scope, "report_view", None) if self.scope is not None else None
        typed = getattr(getattr(self.scope, "query", None), "text", "") if self.scope else ""
        search = " ".join(p for p in (typed.strip(), extra) if p)
        self.app.push_screen(DrillScreen(view, search))


class DrillScreen(WorkbenchScreen):
    """The workbench over the customers behind a report row; escape goes back."""

    BINDINGS = [Binding("escape", "back", tr("reports.close"), id="reports.close")]

    def __init__(self, view, search: str):
        super().__init__()
        self.drill_view, self.drill_search = view, search

    def on_mount(self, event) -> None:
        super().on_mount()               # the workbench's own start, once
        event.prevent_default()
        if self.drill_view is not None and getattr(self.drill_view, "query", ""):
            self.apply_view(self.drill_view, announce=False)
        self.query_one("#search").value = self.drill_search
        self.table.focus()

    def action_back(self) -> None:
        self.app.pop_screen()
