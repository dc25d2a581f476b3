"""The main screen: search box, the virtual customer table, status and summary.

Every keystroke in the search box starts a fresh *query worker* (exclusive, so
the previous one is cancelled, and the background lane's running statement is
interrupted): it builds a ``ResultSet``, fetches the first page on the page
lane and swaps it into the table at once; then the background lane counts,
sums the money fields and (for a grouped view) totals each group. A bad query
leaves the last good rows on screen and shows ``QueryError``'s message under
the box.
"""
from __future__ import annotations

from dataclasses import replace
from functools import partial

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen, Screen
from textual.widgets import Header, Input, Label, Static

from kehu.models import bulk
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.models.query import QueryError
from kehu.models.results import ResultSet
from kehu.models.validate import display
from kehu.tui.screens.views_screen import (ColumnChooser, SaveViewScreen, SortPicker,
                                           ViewListScreen, next_sort)
from kehu.tui.widgets.customer_table import PAGE_SIZE, Column, CustomerTable, GroupRow
from kehu.tui.widgets import find_copy
from kehu.tui.widgets.db_runner import DbRunner
from kehu.tui.widgets.footer import KehuFooter
from kehu.models.views import View, load_views, save_view


ALL_VIEW = "all"


def all_customers_view() -> View:
    """Every customer, as entered: the view the workbench opens with."""
    return View(ALL_VIEW, {"zh": tr("workbench.all_view", "zh"), "en": tr("workbench.all_view", "en")},
                builtin=True)


def focus_now(widget) -> None:
    """Focus ``widget`` before the next key is handled. Keys arriving together
    (``/zs`` over SSH) are routed by the app to the widget focused when each is
    taken from its queue: Textual's ``focus()`` waits for that queue and a normal
    binding runs later, in the table's own queue, so ``z s`` reached the table and
    ``s`` sorted. Keys that move the focus are therefore priority bindings (run by
    the app itself) that call this."""
    widget.screen.set_focus(widget)


class SearchInput(Input):
    BINDINGS = [
        Binding("escape", "leave", tr("customers.to_table"), id="customers.to_table",
                priority=True),
        Binding("down", "leave", tr("customers.to_table"), show=False, id="search.to_table",
                priority=True),
    ]

    def action_leave(self) -> None:
        focus_now(self.screen.query_one(CustomerTable))


class JumpInput(Input):
    BINDINGS = [Binding("escape", "cancel", tr("views.cancel"), id="jump.cancel", priority=True)]

    def action_cancel(self) -> None:
        self.value = ""
        self.display = False
        focus_now(self.screen.query_one(CustomerTable))


class WorkbenchScreen(Screen):
    CSS_PATH = "../workbench.tcss"
    AUTO_FOCUS = "#customers"
    BINDINGS = [
        # priority: handled by the app before the keys after it are routed (see focus_now)
        Binding("slash", "focus_search", tr("customers.search"), id="customers.search",
                priority=True),
        Binding("s", "sort", tr("customers.sort"), id="customers.sort"),
        Binding("r", "reverse_sort", tr("customers.reverse_sort"), show=False,
                id="customers.reverse_sort"),
        Binding("v", "views", tr("customers.views"), id="customers.views"),
        Binding("ctrl+s", "save_view", tr("customers.save_view"), id="customers.save_view"),
        Binding("c", "columns", tr("customers.columns"), id="customers.columns"),
        Binding("colon", "jump", tr("customers.jump"), id="customers.jump", priority=True),
        Binding("escape", "clear_search", tr("customers.clear_search"), show=False,
                id="customers.clear_search"),
        Binding("space", "toggle_select", tr("bulk.toggle"), show=False,
                id="customers.toggle_select"),
        Binding("a", "select_all", tr("bulk.select_all"), show=False, id="customers.select_all"),
        Binding("b", "bulk_change", tr("bulk.change"), show=False, id="customers.bulk_change"),
        Binding("u", "undo_bulk", tr("bulk.undo_last"), show=False, id="customers.undo_bulk"),
        # issue 17 (h17a, tui/widgets/find_copy.py): copy what is shown, find in it
        Binding("y", "copy_cell", tr("page.copy_cell"), show=False, id="customers.copy_cell"),
        Binding("Y", "copy_row", tr("page.copy_row"), show=False, id="customers.copy_row"),
        Binding("n", "find(1)", tr("page.find_next"), show=False, id="customers.find_next"),
        Binding("N", "find(-1)", tr("page.find_previous"), show=False,
                id="customers.find_previous"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.runner: DbRunner | None = None
        self.view: View | None = None
        self.search_text = ""
        self.result: ResultSet | None = None
        self.total_customers: int | None = None
        self._query_generation = 0
        self._shown_generation = 0
        self._sums: dict = {}
        self._resumed_once = False
        self._covered_by_dialog = False
        self._lines_shown: dict[str, str] = {}
        self.selection = bulk.Selection()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="search-bar"):
            yield Label("/", id="search-prompt")
            yield SearchInput(placeholder=tr("workbench.search_placeholder"), id="search")
        yield Static(id="query-error", markup=False)
        yield CustomerTable(self.app_runner(), id="customers")
        yield JumpInput(id="jump")
        yield Static(id="summary", markup=False)
        yield Static(id="status", markup=False)
        yield KehuFooter()

    def app_runner(self) -> DbRunner:
        if self.runner is None:
            self.runner = DbRunner(self.app.store.db)
        return self.runner

    @property
    def table(self) -> CustomerTable:
        return self.query_one(CustomerTable)

    @property
    def store(self):
        return self.app.store

    def on_mount(self) -> None:
        self.title = tr("workbench.title")
        self.query_one("#jump", JumpInput).display = False
        self.query_one("#query-error").display = False
        views = self.load_views()
        self.apply_view(views.get(ALL_VIEW) or all_customers_view(), announce=False)
        self.table.focus()

    def on_unmount(self) -> None:
        if self.runner is not None:
            self.runner.close()

    def language_changed(self) -> None:
        """Switched from the palette: titles, columns, lines and rows in the new language."""
        self.title = tr("workbench.title")
        self.query_one("#search", SearchInput).placeholder = tr("workbench.search_placeholder")
        self._apply_columns()   # choice columns are as wide as their labels
        self.reload(keep_cursor=True)

    def on_screen_suspend(self) -> None:
        top = self.app.screen_stack[-1] if self.app.screen_stack else None
        self._covered_by_dialog = isinstance(top, ModalScreen)

    def on_screen_resume(self) -> None:
        # Back from another screen (the detail editor …): rows may have changed.
        # A dialog's answer reloads through its own callback.
        if self._resumed_once and self.result is not None:
            if not self._covered_by_dialog:
                self.total_customers = None   # customers added, deleted, imported, merged
                self.reload(keep_cursor=True)
            else:   # a dialog (quick entry …) may have added some: count again
                self.run_worker(self._recount(), group="workbench-recount")
        self._resumed_once = True

    async def _recount(self) -> None:
        try:
            count = await self.app_runner().background(self.store.count_customers)
        except Exception:  # noqa: BLE001 - interrupted by a reload, which counts itself
            return
        if count != self.total_customers:
            self.total_customers = None
            self.reload(keep_cursor=True)

    # -- views ----------------------------------------------------------------
    def load_views(self):
        """Built-in rosters and the user's views.yaml (its problems as a notice)."""
        views = load_views(self.store.schema)
        for error in views.errors:
            self.notify(error, severity="warning", timeout=10)
        return views

    def apply_view(self, view: View, *, announce: bool = True) -> None:
        """Show a view: its filter, sort, columns and grouping; the search box is cleared."""
        self.view = view
        self.search_text = ""
        self._query_changed()
        self._apply_columns()
        search = self.query_one("#search", SearchInput)
        with search.prevent(Input.Changed):
            search.value = ""
        self.reload()
        if announce:
            self.notify(tr("workbench.opened_view", name=view.name()))

    def _apply_columns(self) -> None:
        schema = self.store.schema
        columns = [Column(schema[key], self.view.width(schema, key), key in self.view.widths)
                   for key in self.view.column_keys(schema)]
        self.table.set_columns(columns, self._sort_marks())

    def _sort_marks(self) -> dict[str, str]:
        marks = {}
        numbered = len(self.view.sort) > 1
        for i, (key, direction) in enumerate(self.view.sort):
            arrow = "▲" if direction == "asc" else "▼"
            marks[key] = arrow + (str(i + 1) if numbered else "")
        return marks

    # -- running the query -------------------------------------------------
    @on(Input.Changed, "#search")
    def search_changed(self, event: Input.Changed) -> None:
        self.search_text = event.value
        self._query_changed()
        self.reload()

    @on(Input.Submitted, "#search")
    def search_submitted(self) -> None:
        self.table.focus()

    def reload(self, *, keep_cursor: bool = False, warn_sort: bool = False) -> None:
        """Run the current view's query again (cancelling the one in flight)."""
        self.table.set_find_words(find_copy.find_words_for(self.store, self.search_text))
        self._query_generation += 1
        self.table.cancel_loads()
        self.app_runner().cancel_all()
        self.run_worker(partial(self._load, self._query_generation, keep_cursor, warn_sort),
                        exclusive=True, group="workbench-query")

    def holds_keys(self) -> bool:
        """Keys typed after Enter, Esc … wait while a query's first page is on its way
        (``KehuBaseApp._settle``): '/name Enter Enter' opens a row of the new result."""
        return self._shown_generation != self._query_generation

    async def _load(self, generation: int, keep_cursor: bool, warn_sort: bool) -> None:
        try:
            await self._load_rows(generation, keep_cursor, warn_sort)
        finally:
            if generation == self._query_generation:
                self._shown_generation = generation

    async def _load_rows(self, generation: int, keep_cursor: bool, warn_sort: bool) -> None:
        view, search = self.view, self.search_text
        runner = self.app_runner()
        try:
            result = view.result_set(self.store, search)
        except QueryError as exc:
            self._show_query_error(exc, search)
            return
        try:
            groups = None
            if view.group_by:
                raw_groups = await runner.background(result.groups, view.group_by)
                groups = [self._group_row(g) for g in raw_groups]
            first = await runner.page(result.page, 0, PAGE_SIZE)
        except QueryError as exc:
            self._show_query_error(exc, search)
            return
        except Exception as exc:  # noqa: BLE001 - a database error is shown, not raised
            if generation == self._query_generation:
                self._show_error_text(tr("workbench.query_failed", error=exc))
            return
        if generation != self._query_generation:
            return
        self._show_error_text("")
        self.result = result
        table = self.table
        table.empty_message = ""
        table.show(result, first, groups=groups, keep_cursor=keep_cursor)
        self._shown_generation = generation
        self._sums = {}
        self._update_status()
        if result.slow_sort and warn_sort:
            self._warn_slow_sort(result)
        try:
            if not table.count_exact:
                count = await runner.background(result.count)
                if generation != self._query_generation:
                    return
                table.set_count(count)
            if not view.query and not search:
                self.total_customers = table.row_count
            elif self.total_customers is None:
                self.total_customers = await runner.background(self.store.count_customers)
            self._set_empty_message()
            self._update_status()
            sums = await runner.background(result.sums)
        except Exception:  # noqa: BLE001 - interrupted by the next keystroke, or gone
            return
        if generation != self._query_generation:
            return
        self._sums = sums
        self._update_status()

    def _group_row(self, group) -> GroupRow:
        spec = self.store.schema.get(self.view.group_by)
        title = display(spec, group.value) if spec is not None else str(group.value)
        return GroupRow(title or "—", group.count, self._format_sums(group.sums))

    def _format_sums(self, sums: dict, *, short: bool = False) -> str:
        return " · ".join(self._sum_parts(sums, short=short))

    def _sum_parts(self, sums: dict, *, short: bool = False) -> list[str]:
        """'Purchases Σ 195,431,070.00', or short ('Purchases Σ 195M', '采购总额合计 2亿')."""
        from kehu.models.reports import compact_value

        parts = []
        for key, total in sums.items():
            spec = self.store.schema.get(key)
            if spec is not None:
                text = compact_value("money" if spec.type in ("money", "decimal") else "count",
                                     total) if short and total is not None else display(spec, total)
                parts.append(tr("workbench.sum", field=spec.label(), total=text))
        return parts

    def _set_empty_message(self) -> None:
        table = self.table
        if table.row_count:
            table.empty_message = ""
        elif self.total_customers == 0:
            table.empty_message = tr("workbench.empty")
        else:
            table.empty_message = tr("workbench.no_match",
                                     query=" ".join(p for p in (self.view.query, self.search_text) if p))
        table.refresh()

    def _warn_slow_sort(self, result: ResultSet) -> None:
        spec = self.store.schema.get(result.sort_keys[0].key)
        name = spec.label() if spec else result.sort_keys[0].key
        self.notify(tr("workbench.sort_no_index", field=name,
                       count=self.total_customers or self.table.row_count), severity="warning")

    def _show_query_error(self, exc: QueryError, text: str) -> None:
        pointer = ""
        if text and exc.position is not None:
            pointer = "\n  " + text + "\n  " + " " * _cells(text[:exc.position]) + \
                      "^" * max(1, _cells(text[exc.position:exc.position + exc.length]))
        self._show_error_text(str(exc) + pointer)

    def _show_error_text(self, text: str) -> None:
        if self._lines_shown.get("#query-error", "") == text:
            return
        self._lines_shown["#query-error"] = text
        error = self.query_one("#query-error", Static)
        error.update(text)
        error.display = bool(text)
        self.query_one("#search").set_class(bool(text), "-invalid-query")

    def _update_status(self) -> None:
        table = self.table
        count = table.row_count
        count_text = (tr("workbench.count_rows", count=count) if table.count_exact
                      else tr("workbench.counting", count=count))
        parts = []
        if count:
            row = table.locate(table.cursor_row)[0]
            parts.append(tr("workbench.row_of", row=(row or 0) + 1, count=count_text))
        else:
            parts.append(count_text)
        query = " ".join(p for p in (self.view.query, self.search_text) if p)
        if query:
            parts.append(tr("workbench.status_filter", query=query))
        parts.append(tr("workbench.status_sort", sort=self._sort_text()))
        if self.view.group_by and self.view.group_by in self.store.schema:
            parts.append(tr("workbench.status_group",
                            field=self.store.schema[self.view.group_by].label()))
        parts.append(tr("workbench.status_view", name=self.view.name()))
        if self.total_customers is not None:
            parts.append(tr("workbench.all_rows", count=self.total_customers))
        width = max(self.size.width - 2, 10)   # the lines' padding
        self._set_line("#status", fit_parts(parts, width))   # the last parts go first
        summary = [tr("workbench.summary", count=count) if table.count_exact else
                   tr("workbench.summary_counting")]
        if not self.selection.empty:
            summary.append(tr("bulk.selected", count=f"{self.selected_count():,}"))
        full = summary + self._sum_parts(self._sums)
        if _cells(" · ".join(full)) > width:   # narrow: short money (2亿, 195M), then fewer sums
            full = summary + self._sum_parts(self._sums, short=True)
        self._set_line("#summary", fit_parts(full, width))

    def on_resize(self) -> None:
        if self.view is not None and self.is_mounted:
            self._update_status()   # the lines are fitted to the width

    def _set_line(self, selector: str, text: str) -> None:
        """Update a one-line bar without a relayout (its size never changes)."""
        line = self.query_one(selector, Static)
        if self._lines_shown.get(selector) != text:
            self._lines_shown[selector] = text
            line.update(text, layout=False)

    def _sort_text(self) -> str:
        if not self.view.sort:
            return tr("workbench.unsorted")
        parts = []
        for key, direction in self.view.sort:
            spec = self.store.schema.get(key)
            name = spec.label() if spec else key
            parts.append(f"{name} {'▲' if direction == 'asc' else '▼'}")
        return ", ".join(parts)

    @on(CustomerTable.CursorMoved)
    def cursor_moved(self) -> None:
        if self.view is not None:
            self._update_status()

    @on(CustomerTable.HeaderClicked)
    def header_clicked(self, event: CustomerTable.HeaderClicked) -> None:
        """Click a title: sort by it; click it again: the other way round."""
        self._sort_chosen(next_sort(self.view.sort, event.key))

    @on(CustomerTable.Opened)
    def open_customer(self, event: CustomerTable.Opened) -> None:
        self.app.open_customer(event.customer_id)

    @property
    def current_customer_id(self) -> int | None:
        """The customer under the cursor: what Log a call, the chain and the
        timeline act on when started from the table."""
        return self.query_one(CustomerTable).cursor_customer_id

    # -- actions -------------------------------------------------------------
    def check_action(self, action: str, parameters) -> bool | None:
        if action in ("focus_search", "jump") and isinstance(self.focused, Input):
            return False  # typed into the search box or the jump field: a character
        return True

    def action_focus_search(self) -> None:
        focus_now(self.query_one("#search", SearchInput))

    def action_clear_search(self) -> None:
        search = self.query_one("#search", SearchInput)
        if search.value:
            search.value = ""

    def action_jump(self) -> None:
        jump = self.query_one("#jump", JumpInput)
        jump.placeholder = tr("workbench.jump_placeholder", count=max(self.table.row_count, 1))
        jump.value = ""
        jump.display = True
        focus_now(jump)

    @on(Input.Submitted, "#jump")
    def jump_submitted(self, event: Input.Submitted) -> None:
        jump = self.query_one("#jump", JumpInput)
        text = event.value.strip().replace(",", "")
        count = self.table.row_count
        if not text.isdigit() or not 1 <= int(text) <= max(count, 1):
            self.notify(tr("workbench.jump_bad", text=event.value, count=max(count, 1)),
                        severity="warning")
            return
        jump.display = False
        self.table.focus()
        self.table.move_cursor(self._display_row_of(int(text) - 1))

    def _display_row_of(self, data_row: int) -> int:
        """The display row of the n-th customer (group headers skipped)."""
        table = self.table
        low, high = data_row, data_row + (len(table._groups) if table._groups else 0)
        while low < high:
            mid = (low + high) // 2
            offset = table.locate(mid)[0]
            if offset is not None and offset >= data_row:
                high = mid
            elif offset is None and table.locate(mid + 1)[0] is not None and \
                    table.locate(mid + 1)[0] > data_row:
                high = mid
            else:
                low = mid + 1
        return low

    def action_sort(self) -> None:
        self.app.push_screen(SortPicker(self.store.schema, self.view.sort,
                                        [c.key for c in self.table.columns]),
                             self._sort_chosen)

    def _sort_chosen(self, sort: list[tuple[str, str]] | None) -> None:
        if sort is None:
            return
        self.view = replace(self.view, sort=sort)
        self._apply_columns()
        self.reload(warn_sort=True)

    def action_reverse_sort(self) -> None:
        if not self.view.sort:
            return
        (key, direction), *rest = self.view.sort
        self._sort_chosen([(key, "desc" if direction == "asc" else "asc"), *rest])

    def action_views(self) -> None:
        views = [all_customers_view(), *self.load_views()]
        if any(v.key == ALL_VIEW for v in views[1:]):
            views = views[1:]
        self.app.push_screen(ViewListScreen(views, self.view.key, self.store.schema),
                             self._view_chosen)

    def _view_chosen(self, view: View | None) -> None:
        if view is not None:
            self.apply_view(view)
            return
        # the list was left without a choice: the view shown may have been renamed (F2)
        # or deleted (Del) there (issue 17)
        if self.view.builtin or self.view.key == ALL_VIEW:
            return
        fresh = self.load_views().get(self.view.key)
        if fresh is None:
            self.apply_view(all_customers_view())
        elif fresh.names != self.view.names:
            self.view = replace(self.view, names=fresh.names)
            self._update_status()

    def action_save_view(self) -> None:
        query = " ".join(p for p in (self.view.query, self.search_text) if p)
        current = replace(self.view, query=query)
        self.app.push_screen(SaveViewScreen(self.store.schema, current, self.load_views()),
                             self._view_saved)

    def _view_saved(self, view: View | None) -> None:
        if view is not None:
            self.apply_view(view, announce=False)

    def action_columns(self) -> None:
        self.app.push_screen(ColumnChooser(self.store.schema, self.view), self._columns_chosen)

    def _columns_chosen(self, choice: tuple[list[str], dict[str, int]] | None) -> None:
        """Column order and widths persist with the view: in views.yaml under the
        view's key (for a built-in roster, as the user's version of it)."""
        if choice is None:
            return
        keys, widths = choice
        self.view = replace(self.view, columns=keys, widths=widths, builtin=False)
        try:
            save_view(self.view, self.store.schema)
        except (KehuError, OSError) as exc:   # views.yaml or the disk; a bug goes to the app
            self.notify(tr("views.save_failed", error=exc), severity="error")
        self._apply_columns()

    # -- copy and find (issue 17: tui/widgets/find_copy.py) -------------------
    def action_copy_cell(self) -> None:
        find_copy.copy_cell(self.table, self.app)

    def action_copy_row(self) -> None:
        find_copy.copy_row(self.table, self.app)

    def action_find(self, step: int) -> None:
        find_copy.find_next(self.table, self.app, step)

    # -- bulk changes (models.bulk) ------------------------------------------

    def _query_changed(self) -> None:
        """An all-matching selection was made for the query shown: a new query ends it."""
        if self.selection.all_matching:
            self._set_selection(bulk.Selection())

    def _set_selection(self, selection) -> None:
        self.selection = selection
        if self.is_mounted:
            self.table.set_selection(selection)
            if self.view is not None:
                self._update_status()

    def selected_count(self) -> int:
        return self.selection.count(self.table.row_count)

    def action_toggle_select(self) -> None:
        table = self.table
        row = table.row_now(table.cursor_row)
        if row is None:   # a group header
            table.cursor_row += 1
            return
        self._set_selection(self.selection.toggle(row["id"]))
        table.cursor_row += 1   # Space, Space, Space marks rows one after another

    def action_select_all(self) -> None:
        if self.selection.all_matching:
            self._set_selection(bulk.Selection())
            self.notify(tr("bulk.cleared"))
            return
        self._set_selection(bulk.Selection(query=self.view.query or "", search=self.search_text,
                                           all_matching=True))

    def action_bulk_change(self) -> None:
        if self.selection.empty:
            self.notify(tr("bulk.nothing_selected", key="a"), severity="warning")
            return
        from kehu.tui.screens.bulk import BulkChangeScreen

        count = self.selected_count()
        self.app.push_screen(BulkChangeScreen(self.store, count),
                             lambda change: self._bulk_chosen(change, count))

    def _bulk_chosen(self, change, count: int) -> None:
        if change is None:
            return
        from rich.markup import escape

        from kehu.tui.screens.confirm import ConfirmScreen

        try:
            what = bulk.describe(self.store, change)
        except KehuError as exc:
            self.notify(str(exc), severity="error")
            return
        question = tr("bulk.confirm", count=f"{count:,}", what=escape(what))
        self.app.push_screen(ConfirmScreen(question, yes=tr("bulk.confirm_yes")),
                             lambda answer: self._bulk_run(change, count)
                             if answer == "yes" else None)

    def _bulk_run(self, change, count: int) -> None:
        selection, store = self.selection, self.store
        self.notify(tr("bulk.working", count=f"{count:,}"))

        def work():
            try:
                return bulk.apply(store, selection, change)
            finally:
                store.db.close()   # this thread's connection

        self.run_worker(self._bulk_done(work), group="bulk")

    async def _bulk_done(self, work) -> None:
        import asyncio

        try:
            result = await asyncio.to_thread(work)
        except KehuError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self._set_selection(bulk.Selection())
        self.notify(result.sentence(undo_hint=False) + " · " + tr("bulk.undo_tui_hint", key="u"),
                    timeout=10)
        self.total_customers = None
        self.reload(keep_cursor=True)

    def action_undo_bulk(self) -> None:
        store = self.store
        batch = bulk.last_batch(store)
        if batch is None:
            self.notify(tr("bulk.none_to_undo"), severity="warning")
            return
        from kehu.tui.screens.confirm import ConfirmScreen

        def undo():
            try:
                return bulk.undo(store, batch)
            finally:
                store.db.close()

        async def run() -> None:
            import asyncio

            try:
                result = await asyncio.to_thread(undo)
            except KehuError as exc:
                self.notify(str(exc), severity="error", timeout=10)
                return
            self.notify(result.sentence(), timeout=10)
            self.total_customers = None
            self.reload(keep_cursor=True)

        from rich.markup import escape

        what = next((b.source for b in bulk.list_batches(store) if b.id == batch), "")
        self.app.push_screen(ConfirmScreen(tr("bulk.undo_question", batch=batch,
                                              what=escape(what))),
                             lambda answer: self.run_worker(run(), group="bulk")
                             if answer == "yes" else None)


def fit_parts(parts: list[str], width: int) -> str:
    """``parts`` joined with ' · ' in ``width`` cells: the last parts are left out
    first; the first is cut with '…' if it alone is too long."""
    from kehu.tui.widgets.customer_table import fit

    while len(parts) > 1 and _cells(" · ".join(parts)) > width:
        parts = parts[:-1]
    text = " · ".join(parts)
    return fit(text, width).rstrip() if _cells(text) > width else text


def _cells(text: str) -> int:
    from rich.cells import cell_len

    return cell_len(text)
