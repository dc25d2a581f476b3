"""Meeting mode: the saved views on a projector, one key press each.

Read-only (no key here edits, and the app's editing actions are off while it
is up), the high-contrast theme ``kehu-contrast``, large figures (customers,
purchase total, high-value customers of the view), the view's first rows with
every sensitive field masked. ``space`` / ``→`` shows the next view, ``←`` the
previous one, ``escape`` leaves and puts the previous theme back.
"""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Footer, Header, Label, Static

from kehu.models.i18n import tr
from kehu.models.query import QueryError
from kehu.models.validate import display
from kehu.models.views import View, load_views
from kehu.tui.widgets.db_runner import DbRunner
from kehu.tui.widgets.keyed import DataTable

MEETING_THEME = "kehu-contrast"
ROWS = 12
BIG = Decimal(10_000_000)


def masked(spec, value) -> str:
    """What a projector may show: sensitive fields never, the rest as displayed."""
    if spec.sensitive and value not in (None, ""):
        return tr("meeting.masked")
    return display(spec, value)


def big_money(value: Decimal) -> tuple[str, bool]:
    """The figure for Digits and whether it is in millions (it must fit 80 columns)."""
    if value >= BIG:
        return f"{value / 1_000_000:,.1f}", True
    return f"{value:,.0f}", False


class MeetingTable(DataTable):
    """The view's first rows, read-only."""


class MeetingScreen(Screen):
    READ_ONLY = True
    BINDINGS = [
        Binding("space,right", "step(1)", tr("meeting.next"), id="meeting.next"),
        Binding("left", "step(-1)", tr("meeting.previous"), id="meeting.previous"),
        Binding("escape", "close", tr("meeting.close"), id="meeting.close"),
    ]
    DEFAULT_CSS = """
    MeetingScreen #meeting-view { height: auto; padding: 0 1; text-style: bold; }
    MeetingScreen #meeting-help { height: auto; padding: 0 1; color: $text-muted; }
    MeetingScreen #meeting-figures { height: auto; }
    MeetingScreen .figure { width: 1fr; height: auto; padding: 0 1; }
    MeetingScreen .figure Digits { width: auto; }
    MeetingScreen .figure Label { color: $text-muted; }
    MeetingScreen MeetingTable { height: 1fr; }
    MeetingScreen #meeting-position { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, start: View | None = None):
        super().__init__()
        self.start = start
        self.views: list[View] = []
        self.index = 0
        self.previous_theme: str | None = None
        self.runner: DbRunner | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="meeting-view", markup=False)
        yield Static(id="meeting-help", markup=False)
        with Horizontal(id="meeting-figures"):
            for key in ("customers", "purchases", "high_value"):
                with Vertical(classes="figure", id=f"figure-{key}"):
                    yield Digits("", id=f"digits-{key}")
                    yield Label(tr(f"meeting.{key}"), id=f"label-{key}")
        yield MeetingTable(id="meeting-table", cursor_type="none", zebra_stripes=True)
        yield Static(id="meeting-position", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.title = tr("meeting.title")
        self.previous_theme = self.app.theme
        if MEETING_THEME in self.app.available_themes:
            self.app.theme = MEETING_THEME
        self.runner = DbRunner(self.app.store.db)
        found = load_views(self.app.store.schema)
        self.views = list(found.views)
        if self.start is not None:
            self.index = next((i for i, v in enumerate(self.views) if v.key == self.start.key), 0)
        if "segment" not in self.app.store.schema:
            self.query_one("#figure-high_value").display = False
        self.show()

    def on_unmount(self) -> None:
        if self.previous_theme and self.previous_theme in self.app.available_themes:
            self.app.theme = self.previous_theme
        if self.runner is not None:
            self.runner.close()

    def action_step(self, delta: int) -> None:
        if self.views:
            self.index = (self.index + delta) % len(self.views)
            self.show()

    def action_close(self) -> None:
        self.app.pop_screen()

    @property
    def view(self) -> View | None:
        return self.views[self.index] if self.views else None

    def show(self) -> None:
        view = self.view
        if view is None:
            self.query_one("#meeting-view", Static).update(tr("meeting.no_views"))
            return
        self.query_one("#meeting-view", Static).update(view.name())
        self.query_one("#meeting-help", Static).update(
            view.help and (view.help.get(self._lang()) or next(iter(view.help.values()))) or "")
        self.query_one("#meeting-position", Static).update(tr(
            "meeting.position", n=self.index + 1, total=len(self.views),
            keys=self.app.keys_for("meeting.next") if hasattr(self.app, "keys_for") else "space"))
        self._load(view)

    def _lang(self) -> str:
        from kehu.models.i18n import get_lang

        return get_lang()

    @work(exclusive=True, group="meeting")
    async def _load(self, view: View) -> None:
        store = self.app.store

        def figures():
            rs = view.result_set(store)
            money = "purchase_total" if "purchase_total" in store.schema else None
            sums = rs.sums([money]) if money else {}
            high = None
            if "segment" in store.schema:
                high = view.result_set(store, "segment:high_value").count()
            return rs.count(), sums.get(money, Decimal(0)), high, rs.page(0, ROWS)

        try:
            count, money, high, rows = await self.runner.background(figures)
        except QueryError as exc:
            self.notify(str(exc), severity="error")
            return
        if view is not self.view:
            return
        self.query_one("#digits-customers", Digits).update(f"{count:,}")
        figure, millions = big_money(money)
        self.query_one("#digits-purchases", Digits).update(figure)
        self.query_one("#label-purchases", Label).update(
            tr("meeting.purchases") + (" (M)" if millions else ""))
        if high is not None:
            self.query_one("#digits-high_value", Digits).update(f"{high:,}")
        self._fill_table(view, rows)

    def _fill_table(self, view: View, rows: list[dict]) -> None:
        schema = self.app.store.schema
        table = self.query_one(MeetingTable)
        table.clear(columns=True)
        keys = view.column_keys(schema)
        for key in keys:
            spec = schema[key]
            right = spec.type in ("integer", "money", "decimal")
            table.add_column(Text(spec.label(), justify="right" if right else "left"), key=key,
                             width=max(view.width(schema, key), len(spec.label())))
        for row in rows:
            cells = []
            for key in keys:
                spec = schema[key]
                right = spec.type in ("integer", "money", "decimal")
                cells.append(Text(masked(spec, row.get(key)), justify="right" if right else "left"))
            table.add_row(*cells)
