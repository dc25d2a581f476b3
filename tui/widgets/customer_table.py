"""A virtual table over any number of customers.

Like Toolong's ``LogLines``, this is a Line-API ``ScrollView``: its
``virtual_size`` is the number of rows, and ``render_line`` draws one screen
line from an LRU cache of pages. Only pages on screen (and one either side)
are fetched, off the UI thread (``DbRunner``); a row not loaded yet is drawn
as a placeholder and redrawn when its page arrives. Nothing here holds the
whole result, so a million rows cost what a screenful costs.

The data comes from a *row source* — anything with ``page(offset, limit)``
returning dicts with an ``id`` and the field keys (``ResultSet`` of
``models.query`` is one). The screen decides what to show; this widget only
shows it: ``show(source, first_rows, count=...)`` swaps the result in at once,
``set_count`` fills in the total when the background count arrives.

A grouped result (``groups=[GroupRow, ...]`` in the source's order) gets a
header row per group with its count and sums.
"""
from __future__ import annotations

import bisect
from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from kehu.models.i18n import tr
from kehu.models.schema import NUMERIC_TYPES, FieldSpec
from kehu.models.validate import display

PAGE_SIZE = 50
MAX_PAGES = 40  # 2,000 rows: what a screen and its neighbours need, a few MiB
RIGHT_ALIGNED = set(NUMERIC_TYPES)


class RowSource(Protocol):
    def page(self, offset: int, limit: int) -> list[dict[str, Any]]: ...


@dataclass
class Column:
    spec: FieldSpec
    width: int
    fixed: bool = False   # a width the user chose: kept at any terminal width

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def right(self) -> bool:
        return self.spec.type in RIGHT_ALIGNED


@dataclass
class GroupRow:
    """One group of a grouped result: a header line, then ``count`` rows."""
    title: str
    count: int
    summary: str = ""


def fit(text: str, width: int, right: bool = False) -> str:
    """``text`` in exactly ``width`` cells: CJK counts two, cut with an ellipsis."""
    text = text.replace("\n", " ").replace("\r", " ").replace("\t", " ")
    length = cell_len(text)
    if length > width:
        if width <= 1:
            return set_cell_size(text, width)
        return set_cell_size(set_cell_size(text, width - 1).rstrip() + "…", width)
    pad = " " * (width - length)
    return pad + text if right else text + pad


class CustomerTable(ScrollView, can_focus=True):
    """The customer list: a header line, then one line per row."""

    BINDINGS = [
        Binding("up", "cursor_up", tr("table.up"), show=False, id="table.cursor_up"),
        Binding("down", "cursor_down", tr("table.down"), show=False, id="table.cursor_down"),
        Binding("pageup", "page_up", tr("table.page_up"), show=False, id="table.page_up"),
        Binding("pagedown", "page_down", tr("table.page_down"), show=False, id="table.page_down"),
        Binding("home", "first_row", tr("table.first"), show=False, id="table.first_row"),
        Binding("end", "last_row", tr("table.last"), show=False, id="table.last_row"),
        Binding("left", "scroll_columns(-1)", tr("table.left"), show=False, id="table.scroll_left"),
        Binding("right", "scroll_columns(1)", tr("table.right"), show=False, id="table.scroll_right"),
        Binding("enter", "open_row", tr("customers.open"), id="customers.open"),
    ]

    COMPONENT_CLASSES = {
        "customer-table--header", "customer-table--cursor", "customer-table--group",
        "customer-table--loading", "customer-table--message", "customer-table--sort",
        "customer-table--selected", "customer-table--found",
    }

    DEFAULT_CSS = """
    CustomerTable {
        height: 1fr;
        background: $surface;
    }
    CustomerTable > .customer-table--header {
        text-style: bold;
        background: $panel;
        color: $text;
    }
    CustomerTable > .customer-table--sort {
        text-style: bold;
        background: $panel;
        color: $accent;
    }
    CustomerTable > .customer-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
    }
    CustomerTable:focus > .customer-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: bold;
    }
    CustomerTable > .customer-table--selected {
        color: $accent;
        text-style: bold underline;
    }
    CustomerTable > .customer-table--found {
        background: $warning 40%;
        text-style: bold underline;
    }
    CustomerTable > .customer-table--group {
        background: $boost;
        color: $secondary;
        text-style: bold;
    }
    CustomerTable > .customer-table--loading {
        color: $text-muted;
    }
    CustomerTable > .customer-table--message {
        color: $text-muted;
        text-style: italic;
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Opened(Message):
        """Enter on a customer row."""

        def __init__(self, customer_id: int):
            super().__init__()
            self.customer_id = customer_id

    class HeaderClicked(Message):
        """A click on a column title (the screen sorts by it)."""

        def __init__(self, key: str):
            super().__init__()
            self.key = key

    class CursorMoved(Message):
        def __init__(self, row: int):
            super().__init__()
            self.row = row

    def __init__(self, runner, *, name: str | None = None, id: str | None = None,
                 classes: str | None = None):
        super().__init__(name=name, id=id, classes=classes)
        self.runner = runner
        self.columns: list[Column] = []
        self.sort_marks: dict[str, str] = {}
        self.empty_message = ""
        self._source: RowSource | None = None
        self._generation = 0
        self._count = 0
        self._count_exact = True
        self._pages: OrderedDict[int, list[dict[str, Any]]] = OrderedDict()
        self._pending: set[int] = set()
        self._lines: OrderedDict[int, Strip] = OrderedDict()
        self._groups: list[GroupRow] | None = None
        self._group_starts: list[int] = []  # display row of each group header
        self._group_data: list[int] = []  # data offset of each group's first row
        self._end_wanted = False
        self._styles: dict[str, Style] = {}
        self._visible_width = 0
        self.bulk_selection = None   # models.bulk.Selection: rows marked for a bulk change
        self._wanted: list[Column] = []   # the view's columns; ``columns`` is their layout
        self._seen_widths: dict[str, int] | None = None   # widest cells of a first page
        #: issue 17 (h17a): the cell cursor's column (y copies that cell; ←/→ move it)
        #: and the search's words, highlighted where the cells show them (n/N)
        self.cursor_column = 0
        self.find_words: list[str] = []

    # -- what to show ----------------------------------------------------
    def set_columns(self, columns: list[Column], sort_marks: dict[str, str] | None = None) -> None:
        self._wanted = columns
        self._seen_widths = None   # measured again on the next result's first page
        if sort_marks is not None:
            self.sort_marks = sort_marks
        self.columns = self._layout()
        self._lines.clear()
        self._update_virtual_size()
        self.scroll_to(x=0, animate=False, immediate=True)
        self.refresh()

    def _layout(self) -> list[Column]:
        """The view's columns fitted to the width there is (table_layout)."""
        from kehu.tui.widgets.table_layout import layout

        width = self.size.width - self.styles.scrollbar_size_vertical
        return layout(self._wanted, width, self._seen_widths) if width > 0 \
            else list(self._wanted)

    def _measure(self, rows: list[dict[str, Any]]) -> dict[str, int]:
        """The widest cell of each column on a page (its title and sort mark too)."""
        seen = {}
        for column in self._wanted:
            cells = [cell_len(column.spec.label()) + 3]
            for row in rows:
                value = row.get(column.key)
                if value is not None:
                    cells.append(cell_len(display(column.spec, value)))
            seen[column.key] = max(cells)
        return seen

    def _relayout(self) -> None:
        columns = self._layout()
        if columns != self.columns:
            self.columns = columns
            self._lines.clear()
            self._update_virtual_size()
            self.refresh()

    @property
    def frozen_width(self) -> int:
        """The first column (the name) stays on screen when the table scrolls right."""
        return self.columns[0].width + 1 if self.columns else 0

    def _window(self, strip: Strip, scroll_x: int, width: int, style: Style) -> Strip:
        """What of a whole line is on screen: the frozen column, then from ``scroll_x`` on."""
        frozen = self.frozen_width if scroll_x else 0
        if not frozen or frozen >= width:
            return strip.crop_extend(scroll_x, scroll_x + width, style)
        return Strip.join([strip.crop_extend(0, frozen, style),
                           strip.crop_extend(frozen + scroll_x, scroll_x + width, style)])

    def show(self, source: RowSource, first_rows: list[dict[str, Any]], *,
             count: int | None = None, groups: list[GroupRow] | None = None,
             keep_cursor: bool = False) -> None:
        """Swap in a new result with its first page already fetched."""
        self._generation += 1
        previous_count = self._count
        self._source = source
        self._pages.clear()
        self._pending.clear()
        self._lines.clear()
        self._pages[0] = first_rows
        if self._seen_widths is None and first_rows:   # a new view: widths from its rows
            self._seen_widths = self._measure(first_rows)
            self.columns = self._layout()
        self._set_groups(groups)
        if groups is not None:
            count = sum(g.count for g in groups)
        if count is not None:
            self._count, self._count_exact = count, True
        else:
            self._count = len(first_rows)
            self._count_exact = len(first_rows) < PAGE_SIZE
            if keep_cursor and not self._count_exact:
                # the same rows again (back from a customer): until the count arrives,
                # the old one holds the place; clamping to the first page put the
                # cursor of row 15,000 back at row 50
                self._count = max(self._count, previous_count)
        self._update_virtual_size()
        row = min(self.cursor_row, max(self.display_rows - 1, 0)) if keep_cursor else 0
        self.cursor_row = row
        if not keep_cursor:   # another view or search: from the top left
            self.scroll_to(x=0, y=0, animate=False, immediate=True)
        self.refresh()

    def set_count(self, count: int) -> None:
        """The exact total, from the background count."""
        if self._groups is not None:
            return
        self._count, self._count_exact = count, True
        self._update_virtual_size()
        self.refresh()
        if self._end_wanted:
            self._end_wanted = False
            self.action_last_row()

    def cancel_loads(self) -> None:
        """Pages being fetched now are stale (a new result is coming): drop them."""
        self._generation += 1
        self._pending.clear()

    @property
    def source(self) -> RowSource | None:
        """The result shown now (a new object for each query)."""
        return self._source

    @property
    def row_count(self) -> int:
        """Data rows in the result (known so far, see ``count_exact``)."""
        return self._count

    @property
    def count_exact(self) -> bool:
        return self._count_exact

    @property
    def display_rows(self) -> int:
        return self._count + (len(self._groups) if self._groups else 0)

    @property
    def total_width(self) -> int:
        return sum(c.width + 1 for c in self.columns)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(self.total_width, self.display_rows + 1)

    # -- groups: display row ↔ data row ---------------------------------
    def _set_groups(self, groups: list[GroupRow] | None) -> None:
        self._groups = groups or None
        self._group_starts, self._group_data = [], []
        if groups:
            display_row = data_row = 0
            for group in groups:
                self._group_starts.append(display_row)
                self._group_data.append(data_row)
                display_row += group.count + 1
                data_row += group.count

    def locate(self, display_row: int) -> tuple[int | None, GroupRow | None]:
        """(data offset, None) for a customer row, (None, group) for a group header."""
        if not self._groups:
            return display_row, None
        index = bisect.bisect_right(self._group_starts, display_row) - 1
        start = self._group_starts[index]
        if display_row == start:
            return None, self._groups[index]
        return self._group_data[index] + display_row - start - 1, None

    def row_at(self, display_row: int) -> dict[str, Any] | None:
        """The loaded row at ``display_row`` (None for a header or a row not loaded)."""
        offset, _ = self.locate(display_row)
        if offset is None:
            return None
        page = self._pages.get(offset // PAGE_SIZE)
        if page is None or offset % PAGE_SIZE >= len(page):
            return None
        return page[offset % PAGE_SIZE]

    @property
    def cursor_customer_id(self) -> int | None:
        row = self.row_at(self.cursor_row)
        return row["id"] if row else None

    # -- rendering ---------------------------------------------------------
    @property
    def body_height(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)

    def _style(self, name: str) -> Style:
        """A component style (or ``base``), computed once until the styles change."""
        style = self._styles.get(name)
        if style is None:
            style = self.rich_style if name == "base" else \
                self.get_component_rich_style(f"customer-table--{name}")
            self._styles[name] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._lines.clear()

    def render_lines(self, crop):
        # Once per paint, not per line: what is on screen, and the pages around it.
        self._visible_width = self.scrollable_content_region.width
        self._prefetch()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self._visible_width or self.scrollable_content_region.width
        base = self._style("base")
        if y == 0:
            strip = self._header_strip()
        else:
            display_row = scroll_y + y - 1
            if display_row >= self.display_rows:
                if display_row == 0 and self.empty_message:
                    return Strip([Segment(fit(self.empty_message, width), self._style("message"))],
                                 width)
                return Strip.blank(width, base)
            strip = self._row_strip(display_row)
            if self._marked(display_row):   # selected for a bulk change: '*' and underlined
                # the '*' takes the first column's last cell, so no column moves
                first = self.columns[0].width if self.columns else 1
                strip = Strip([Segment("*", self._style("selected")),
                               *Segment.apply_style(Strip.join([strip.crop(0, first - 1),
                                                                strip.crop(first)]),
                                                    post_style=self._style("selected"))],
                              strip.cell_length)
            strip = self._window(strip, scroll_x, width, base)
            if display_row == self.cursor_row:
                # post_style: over the cells' own colours (a pre-style lost its
                # background to them: the cursor was only bold); reverse video
                # where colours are off (NO_COLOR), so it is seen on any terminal
                cursor = self._style("cursor")
                if getattr(self.app, "no_color", False):
                    cursor += Style(reverse=True)
                strip = Strip(Segment.apply_style(strip, post_style=cursor), strip.cell_length)
                strip = self._cursor_cell(strip, display_row, scroll_x)
            return strip
        return self._window(strip, scroll_x, width, base)

    def _header_strip(self) -> Strip:
        header, sorted_style = self._style("header"), self._style("sort")
        segments = []
        for column in self.columns:
            mark = self.sort_marks.get(column.key, "")
            label = column.spec.label() + (mark and " " + mark)
            segments.append(Segment(fit(label, column.width, column.right),
                                    sorted_style if mark else header))
            segments.append(Segment(" ", header))
        return Strip(segments, self.total_width)

    def _row_strip(self, display_row: int) -> Strip:
        cached = self._lines.get(display_row)
        if cached is not None:
            return cached
        offset, group = self.locate(display_row)
        if group is not None:
            text = f"▸ {group.title} · {tr('table.group_count', count=group.count)}"
            if group.summary:
                text += f" · {group.summary}"
            strip = Strip([Segment(fit(text, max(self.total_width, cell_len(text))),
                                   self._style("group"))])
        else:
            page_no = offset // PAGE_SIZE
            page = self._pages.get(page_no)
            if page is None:
                self._request(page_no)
                return Strip([Segment(fit("…", self.total_width), self._style("loading"))],
                              self.total_width)
            self._pages.move_to_end(page_no)
            if offset % PAGE_SIZE >= len(page):  # the result shrank under us
                return Strip.blank(self.total_width, self._style("base"))
            strip = self._cells(page[offset % PAGE_SIZE])
        self._lines[display_row] = strip
        if len(self._lines) > 4 * PAGE_SIZE:
            self._lines.popitem(last=False)
        return strip

    def _cells(self, row: dict[str, Any]) -> Strip:
        if self.find_words:   # the search's words marked in the cells (find_copy)
            return self._found_cells(row)
        cells = []
        for column in self.columns:
            value = row.get(column.key)
            cells.append(fit(display(column.spec, value) if value is not None else "",
                             column.width, column.right))
        cells.append("")
        return Strip([Segment(" ".join(cells), self._style("base"))], self.total_width)

    def cell_text(self, row: dict[str, Any], column: Column) -> str:
        """A cell as shown (a masked value stays masked), not cut to the column."""
        value = row.get(column.key)
        return display(column.spec, value) if value is not None else ""

    def _found_cells(self, row: dict[str, Any]) -> Strip:
        from kehu.tui.widgets.find_copy import highlight_segments, match_spans

        base, found = self._style("base"), self._style("found")
        segments = []
        for column in self.columns:
            text = fit(self.cell_text(row, column), column.width, column.right)
            segments += highlight_segments(text, match_spans(text.rstrip("…"), self.find_words),
                                           base, found)
            segments.append(Segment(" ", base))
        return Strip(segments, self.total_width)

    def set_find_words(self, words: list[str]) -> None:
        if words != self.find_words:
            self.find_words = words
            self._lines.clear()
            self.refresh()

    def column_edges(self) -> list[int]:
        """Where each column starts in a row line, and the end of the last."""
        edges = [0]
        for column in self.columns:
            edges.append(edges[-1] + column.width + 1)
        return edges

    def _cursor_cell(self, strip: Strip, display_row: int, scroll_x: int) -> Strip:
        """The cursor row with its cursor cell marked (reverse; underlined without colour)."""
        if not self.columns:
            return strip
        column = min(self.cursor_column, len(self.columns) - 1)
        edges = self.column_edges()
        shift = 1 if self._marked(display_row) else 0
        left = 0 if column == 0 else scroll_x   # the first column is frozen (_window)
        start = max(edges[column] + shift - left, 0)
        end = min(edges[column + 1] - 1 + shift - left, strip.cell_length)
        if end <= start:
            return strip
        look = Style(underline=True) if getattr(self.app, "no_color", False) else \
            Style(reverse=True)
        before, cell, after = strip.divide([start, end, strip.cell_length])
        return Strip.join([before, Strip(Segment.apply_style(cell, post_style=look)), after])

    def move_cursor_column(self, step: int) -> None:
        """The cell cursor one column left/right, scrolled into view."""
        if not self.columns:
            return
        self.cursor_column = max(0, min(len(self.columns) - 1, self.cursor_column + step))
        self.show_cursor_column()

    def show_cursor_column(self) -> None:
        edges = self.column_edges()
        column = min(self.cursor_column, len(self.columns) - 1)
        x, width = round(self.scroll_offset.x), self.scrollable_content_region.width
        frozen = getattr(self, "frozen_width", 0) if column else 0   # always on screen
        if column and edges[column] < x + (frozen if x else 0):
            self.scroll_to(x=max(edges[column] - frozen, 0), animate=False, immediate=True)
        elif edges[column + 1] - 1 > x + width:
            self.scroll_to(x=max(edges[column + 1] - 1 - width, 0), animate=False,
                           immediate=True)
        self._lines.clear()
        self.refresh()

    def _marked(self, display_row: int) -> bool:
        if self.bulk_selection is None or self.bulk_selection.empty:
            return False
        row = self.row_at(display_row)
        return row is not None and self.bulk_selection.contains(row["id"])

    def row_now(self, display_row: int) -> dict[str, Any] | None:
        """The row at ``display_row``, its page read at once if it is not loaded yet
        (Space held down outruns the page loads: the row must still be marked)."""
        offset, _ = self.locate(display_row)
        if offset is None or self._source is None:
            return None
        page_no = offset // PAGE_SIZE
        if page_no not in self._pages:
            self._pages[page_no] = self._source.page(page_no * PAGE_SIZE, PAGE_SIZE)
            self._pending.discard(page_no)
            self.refresh()
        return self.row_at(display_row)

    def set_selection(self, selection) -> None:
        self.bulk_selection = selection
        self.refresh()

    # -- loading pages -----------------------------------------------------
    def _request(self, page_no: int) -> None:
        if page_no in self._pending or page_no in self._pages or self._source is None:
            return
        if page_no * PAGE_SIZE >= max(self._count, 1) and self._count_exact:
            return
        self._pending.add(page_no)
        self.run_worker(partial(self._load, self._generation, self._source, page_no),
                        group="table-pages")

    def _prefetch(self) -> None:
        """Ask for the pages on screen and one either side of them."""
        if self._source is None or not self.display_rows:
            return
        top = round(self.scroll_offset.y)
        bottom = min(top + self.body_height, self.display_rows - 1)
        rows = [r for r in (self.locate(top)[0], self.locate(bottom)[0]) if r is not None]
        if not rows:
            return
        first, last = min(rows) // PAGE_SIZE, max(rows) // PAGE_SIZE
        # What is on screen first (the lane is first come, first served), then either side.
        for page_no in [*range(first, last + 1), last + 1, first - 1]:
            if page_no >= 0 and page_no not in self._pages:
                self._request(page_no)

    async def _load(self, generation: int, source: RowSource, page_no: int) -> None:
        try:
            rows = await self.runner.page(source.page, page_no * PAGE_SIZE, PAGE_SIZE)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into the UI
            if generation == self._generation:
                self._pending.discard(page_no)
                self.notify(tr("table.load_failed", error=exc), severity="error")
            return
        if generation != self._generation:
            return
        self._pending.discard(page_no)
        self._pages[page_no] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        if not self._count_exact and len(rows) < PAGE_SIZE:
            self._count = page_no * PAGE_SIZE + len(rows)
            self._count_exact = True
            self._update_virtual_size()
        self.refresh()

    # -- cursor and keys -------------------------------------------------
    def validate_cursor_row(self, row: int) -> int:
        return max(0, min(row, self.display_rows - 1))

    def watch_cursor_row(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        self.post_message(self.CursorMoved(new))

    def _scroll_to_cursor(self) -> None:
        top = round(self.scroll_offset.y)
        height = self.body_height
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + height:
            self.scroll_to(y=self.cursor_row - height + 1, animate=False, immediate=True)

    def move_cursor(self, row: int) -> None:
        self.cursor_row = row

    def action_cursor_up(self) -> None:
        self.cursor_row -= 1

    def action_cursor_down(self) -> None:
        self.cursor_row += 1

    def action_page_up(self) -> None:
        self.cursor_row -= self.body_height
        self.scroll_to(y=max(self.scroll_offset.y - self.body_height, 0), animate=False,
                       immediate=True)

    def action_page_down(self) -> None:
        self.cursor_row += self.body_height
        self.scroll_to(y=self.scroll_offset.y + self.body_height, animate=False, immediate=True)

    def action_first_row(self) -> None:
        self.cursor_row = 0

    def action_last_row(self) -> None:
        if not self._count_exact:  # go on to the very end when the count arrives
            self._end_wanted = True
        self.cursor_row = self.display_rows - 1

    def action_scroll_columns(self, direction: int) -> None:
        if self.columns:   # the cell cursor moves; the view follows it (move_cursor_column)
            self.move_cursor_column(direction)
            return
        edges = [0]
        for column in self.columns[1:]:   # the first column is frozen: the others scroll
            edges.append(edges[-1] + column.width + 1)
        x = round(self.scroll_offset.x)
        if direction > 0:
            target = next((e for e in edges if e > x), x)
        else:
            target = next((e for e in reversed(edges) if e < x), 0)
        self.scroll_to(x=target, animate=False, immediate=True)

    def action_open_row(self) -> None:
        customer_id = self.cursor_customer_id
        if customer_id is not None:
            self.post_message(self.Opened(customer_id))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            x = event.x if event.x < self.frozen_width else round(self.scroll_offset.x) + event.x
            for column in self.columns:
                if x < column.width + 1:
                    self.post_message(self.HeaderClicked(column.key))
                    return
                x -= column.width + 1
        else:
            self.cursor_row = round(self.scroll_offset.y) + event.y - 1
            if event.chain >= 2:
                self.action_open_row()

    def on_resize(self, event: events.Resize) -> None:
        self._relayout()   # widths follow the terminal
        self._scroll_to_cursor()

