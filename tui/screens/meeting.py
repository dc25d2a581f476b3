"""Meeting mode: the saved views on a projector, one key press each.

Read-only (no key here edits, and the app's editing actions are off while it
is up), the high-contrast theme ``kehu-contrast``, large figures (customers,
purchase total, high-value customers of the view), the view's first rows with
no sensitive field at all (their columns make room for the purchase total), as
many rows as the window holds, paged with PgUp/PgDn and the arrows, names cut
with "…", empty values after the filled ones. ``space`` / ``→`` shows the next
view, ``←`` the previous one, ``escape`` leaves and puts the previous theme back.
"""
from __future__ import annotations

from decimal import Decimal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Digits, Header, Label, Static

from rich.cells import cell_len

from kehu.models.i18n import tr
from kehu.models.query import Query, QueryError
from kehu.models.results import ResultSet
from kehu.models.validate import display
from kehu.models.views import View, load_views
from kehu.tui.widgets.bar_chart import fit
from kehu.tui.widgets.db_runner import DbRunner
from kehu.tui.widgets.footer import KehuFooter
from kehu.tui.widgets.keyed import DataTable

MEETING_THEME = "kehu-contrast"
#: rows read at a time; more are read as the table is paged towards its end
CHUNK = 200
NUMBER_TYPES = ("integer", "money", "decimal")
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
    """The view's rows, read-only; PgUp/PgDn and the arrows page it, ←/→ are the
    screen's (next and previous view), not the table's."""

    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("scroll_left", "scroll_right"):
            return False
        return super().check_action(action, parameters)


def _narrowed(rs: ResultSet, condition) -> ResultSet:
    """``rs`` with one more condition (its filter and sort kept)."""
    base = rs.base
    if isinstance(base, Query):
        base = base.condition(rs.store)
    rs.base = condition if base is None else (base & condition)
    return rs


class EmptiesLast:
    """A view's rows with the empty values of its first (ascending) sort field after
    the filled ones: the rows that say something come first on the projector."""

    def __init__(self, view: View, store):
        self.parts = [view.result_set(store)]
        schema = store.schema
        first = view.sort[0] if view.sort else None
        if first and first[1] == "asc" and first[0] in schema:
            column = getattr(store.Customer, first[0])
            empty = column.is_null()
            if schema[first[0]].type not in (*NUMBER_TYPES, "date", "datetime", "boolean"):
                empty = empty | (column == "")
            self.parts = [_narrowed(view.result_set(store), ~empty),
                          _narrowed(view.result_set(store), empty)]

    def count(self) -> int:
        return sum(part.count() for part in self.parts)

    def page(self, offset: int, limit: int) -> list[dict]:
        rows: list[dict] = []
        for part in self.parts:
            n = part.count()
            if offset < n and len(rows) < limit:
                rows += part.page(offset, limit - len(rows))
            offset = max(0, offset - n)
        return rows


def fit_widths(wanted: dict[str, int], minimum: dict[str, int], room: int,
               grow: list[str]) -> dict[str, int]:
    """Column widths in ``room`` cells (each column also takes 2 cells of padding).
    Too wide: the text columns (``grow``) shrink to ``minimum``, then the last
    columns go (the first two stay), then text shrinks to 4 cells. Narrower: the
    text columns take the rest, up to 24 cells more each."""
    widths = dict(wanted)

    def total() -> int:
        return sum(w + 2 for w in widths.values())

    def shrink(floor) -> None:
        while total() > room:
            shrinkable = [k for k in grow if k in widths and widths[k] > floor(k)]
            if not shrinkable:
                return
            widest = max(shrinkable, key=lambda k: widths[k])
            widths[widest] -= 1

    shrink(lambda k: minimum[k])
    while total() > room and len(widths) > 2:
        widths.pop(list(widths)[-1])
    shrink(lambda k: min(minimum[k], 4))
    spare = room - total()
    growing = [k for k in grow if k in widths]
    if spare > 0 and growing:
        each = spare // len(growing)
        for k in growing:
            widths[k] += min(each, 24, max(0, wanted[k] - widths[k]) or each)
    return widths


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
    MeetingScreen #meeting-foot { height: auto; }
    MeetingScreen #meeting-position { width: 1fr; height: auto; padding: 0 1; color: $text-muted; }
    MeetingScreen #meeting-rows { width: auto; height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, start: View | None = None):
        super().__init__()
        self.start = start
        self.views: list[View] = []
        self.index = 0
        self.previous_theme: str | None = None
        self.runner: DbRunner | None = None
        self.source: EmptiesLast | None = None
        self.rows: list[dict] = []
        self.total = 0
        self.shown_keys: list[str] = []
        self._reading = False

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
        with Horizontal(id="meeting-foot"):
            yield Static(id="meeting-position", markup=False)
            yield Static(id="meeting-rows", markup=False)
        yield KehuFooter()   # F1 help and ^q quit kept at 80 columns

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
        table = self.query_one(MeetingTable)
        self.watch(table, "scroll_y", self._scrolled, init=False)
        table.focus()
        self.show()

    def on_unmount(self) -> None:
        if self.previous_theme and self.previous_theme in self.app.available_themes:
            self.app.theme = self.previous_theme
        if self.runner is not None:
            self.runner.close()

    def language_changed(self) -> None:
        """Switched from the palette (KehuBaseApp.use_language): drawn again."""
        self.title = tr("meeting.title")
        for key in ("customers", "purchases", "high_value"):
            self.query_one(f"#label-{key}", Label).update(tr(f"meeting.{key}"))
        self.show()

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
        source = EmptiesLast(view, store)

        def figures():
            rs = view.result_set(store)
            money = "purchase_total" if "purchase_total" in store.schema else None
            sums = rs.sums([money]) if money else {}
            high = None
            if "segment" in store.schema:
                high = view.result_set(store, "segment:high_value").count()
            return rs.count(), sums.get(money, Decimal(0)), high, source.page(0, CHUNK)

        try:
            count, money, high, rows = await self.runner.background(figures)
        except QueryError as exc:
            self.notify(str(exc), severity="error")
            return
        if view is not self.view:
            return
        self.source, self.total, self.rows = source, count, list(rows)
        self.query_one("#digits-customers", Digits).update(f"{count:,}")
        figure, millions = big_money(money)
        self.query_one("#digits-purchases", Digits).update(figure)
        self.query_one("#label-purchases", Label).update(
            tr("meeting.purchases") + (" (M)" if millions else ""))
        if high is not None:
            self.query_one("#digits-high_value", Digits).update(f"{high:,}")
        self._fill_table(view)

    def columns(self, view: View) -> list[str]:
        """The view's columns without the sensitive ones; the purchase total always."""
        schema = self.app.store.schema
        keys = [k for k in view.column_keys(schema) if not schema[k].sensitive]
        if "purchase_total" in schema and "purchase_total" not in keys:
            keys.insert(min(2, len(keys)), "purchase_total")
        return keys

    def _widths(self, view: View, keys: list[str]) -> dict[str, int]:
        schema = self.app.store.schema
        room = (self.query_one(MeetingTable).size.width or self.size.width) - 2
        wanted, minimum, grow = {}, {}, []
        for key in keys:
            spec = schema[key]
            label = cell_len(spec.label())
            content = max([cell_len(masked(spec, row.get(key))) for row in self.rows[:CHUNK]]
                          + [1])
            if spec.type in NUMBER_TYPES or spec.type in ("date", "choice", "boolean"):
                wanted[key] = minimum[key] = max(label, content)
            else:
                wanted[key] = max(label, min(content, max(view.width(schema, key), 30)))
                minimum[key] = min(wanted[key], 14 if not grow else 12)   # names keep 14
                grow.append(key)
        return fit_widths(wanted, minimum, room, grow)

    def _fill_table(self, view: View) -> None:
        schema = self.app.store.schema
        table = self.query_one(MeetingTable)
        table.clear(columns=True)
        keys = self.columns(view)
        widths = self._widths(view, keys)
        self.shown_keys = [k for k in keys if k in widths]
        for key in self.shown_keys:
            spec = schema[key]
            right = spec.type in NUMBER_TYPES
            table.add_column(Text(fit(spec.label(), widths[key]), justify="right" if right else "left"),
                             key=key, width=widths[key])
        self._add_rows(self.rows)
        self._update_rows_line()

    def _add_rows(self, rows: list[dict]) -> None:
        schema = self.app.store.schema
        table = self.query_one(MeetingTable)
        for row in rows:
            cells = []
            for key in self.shown_keys:
                spec = schema[key]
                width = table.columns[key].width
                right = spec.type in NUMBER_TYPES
                cells.append(Text(fit(masked(spec, row.get(key)), width),
                                  justify="right" if right else "left"))
            table.add_row(*cells)

    # -- paging ----------------------------------------------------------------------
    def on_resize(self) -> None:
        if self.view is not None and self.source is not None:
            self.call_after_refresh(self._fill_table, self.view)

    def _scrolled(self, _value=None) -> None:
        table = self.query_one(MeetingTable)
        self._update_rows_line()
        near_end = table.scroll_y + 2 * table.size.height >= len(self.rows)
        if near_end and self.source is not None and len(self.rows) < self.total \
                and not self._reading:
            self._more(self.view, self.source, len(self.rows))

    @work(exclusive=True, group="meeting-more")
    async def _more(self, view: View, source: EmptiesLast, offset: int) -> None:
        self._reading = True
        try:
            rows = await self.runner.background(lambda: source.page(offset, CHUNK))
        finally:
            self._reading = False
        if view is not self.view or source is not self.source or offset != len(self.rows):
            return
        self.rows += rows
        self._add_rows(rows)
        self._update_rows_line()

    def _update_rows_line(self) -> None:
        table = self.query_one(MeetingTable)
        first = int(table.scroll_y) + 1 if self.total else 0
        last = min(self.total, int(table.scroll_y) + max(1, table.size.height - 1))
        self.query_one("#meeting-rows", Static).update(
            tr("meeting.rows", first=first, last=last, total=self.total))
