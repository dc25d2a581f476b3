"""Reports: the numbers beside a bar chart drawn in the terminal.

One key per report (``g`` grade, ``r`` region, ``s`` segment, ``l`` lifecycle
stage, ``m`` month, ``q`` quarter, ``p`` pipeline, ``c`` expected close, ``t``
top customers, ``n`` new customers, ``o`` overdue per owner; ``[`` / ``]`` step
through them). Every report covers the workbench's current view and search
(the scope line says which). ``ctrl+r`` recomputes the RFM segments,
``ctrl+s`` saves the screen as an SVG picture. Reports run off the UI thread.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Static
from textual_plotext import PlotextPlot

from kehu.models import reports, segments
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.models.query import QueryError
from kehu.models.results import ResultSet
from kehu.tui.widgets.db_runner import DbRunner
from kehu.tui.widgets.keyed import DataTable

#: report key → (key pressed, binding id); one place for the keys of this screen
REPORT_KEYS = {
    "by_grade": "g", "by_region": "r", "by_segment": "s", "by_stage": "l",
    "sales_month": "m", "sales_quarter": "q", "pipeline": "p", "pipeline_close": "c",
    "top": "t", "new_customers": "n", "overdue": "o",
}
CHART_LABEL_CELLS = 12


def _narrow(text: str) -> bool:
    return cell_len(text) == len(text)


def chart_labels(report: reports.Report) -> list[str]:
    """Bar names: the row's label when short and single-width (plotext counts
    characters, so Chinese labels would shift the bars), else its row number."""
    labels = [str(row.get(report.chart_label) or "") for row in report.rows]
    plain = all(_narrow(label) and len(label) <= CHART_LABEL_CELLS for label in labels)
    return labels if plain else [str(i) for i in range(1, len(labels) + 1)]


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
    ReportsScreen #report-body { height: 1fr; }
    ReportsScreen ReportTable { width: auto; max-width: 60%; height: 1fr; }
    ReportsScreen PlotextPlot { width: 1fr; height: 1fr; min-width: 20; }
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
            yield PlotextPlot(id="report-chart")
        yield Static(id="report-status", markup=False)
        yield Footer()

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
        self.query_one("#report-status", Static).update(tr("reports.recomputing"))
        self._recompute()

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
        # the chart names bars by row number: number the rows (unless they are ranked)
        numbered = "rank" not in [c.key for c in report.columns] and chart_labels(report) != [
            str(r.get(report.chart_label) or "") for r in report.rows]
        cells = report.table()
        header, body = cells[0], cells[1:]
        if numbered:
            table.add_column("#", key="__n")
        for col, label in zip(report.columns, header):
            right = col.kind in ("count", "money", "percent")
            table.add_column(Text(label, justify="right" if right else "left"), key=col.key)
        for i, line in enumerate(body):
            is_total = report.totals and i == len(body) - 1
            styled = [Text(cell, justify="right" if col.kind in ("count", "money", "percent")
                           else "left", style="bold" if is_total else "")
                      for col, cell in zip(report.columns, line)]
            if numbered:
                styled.insert(0, Text("" if is_total else str(i + 1), style="dim"))
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
        chart = self.query_one(PlotextPlot)
        plt = chart.plt
        plt.clear_data()
        plt.clear_figure()
        labels = chart_labels(report)
        series = [[float(row.get(key) or 0) for row in report.rows] for key in report.chart_values]
        names = [report.column(key).label for key in report.chart_values]
        if labels:
            # horizontal bars, first row on top (plotext draws the first one at the bottom)
            labels, series = labels[::-1], [values[::-1] for values in series]
            if len(series) == 1:
                plt.bar(labels, series[0], orientation="horizontal", width=0.6)
            else:
                # a legend only in single-width text (plotext counts characters, not cells)
                legend = names if all(_narrow(n) for n in names) else None
                plt.multiple_bar(labels, series, labels=legend, orientation="horizontal",
                                 width=0.6)
        if len(names) == 1 and _narrow(names[0]):
            plt.title(names[0])
        chart.refresh()
