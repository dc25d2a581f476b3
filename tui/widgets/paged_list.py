"""A one-line-per-row list that asks for its rows a page at a time.

``PagedList(count, page, render)``: ``count()`` says how many rows there are,
``page(offset, limit)`` fetches some, ``render(row, width)`` turns one into a
Rich ``Text``. Only the pages on screen are fetched (and kept in a small LRU
cache), so a list of ten thousand timeline entries opens as fast as one of
ten. Subclasses add component classes for their colours; the cursor line uses
the theme's block-cursor colours.
"""
from __future__ import annotations

from typing import Any, Callable

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

PAGE_SIZE = 100
MAX_PAGES = 32


class PagedList(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"paged-list--cursor", "paged-list--empty"}
    DEFAULT_CSS = """
    PagedList { height: 1fr; }
    PagedList > .paged-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    PagedList:blur > .paged-list--cursor { background: $block-cursor-blurred-background; }
    PagedList > .paged-list--empty { color: $text-muted; }
    """
    BINDINGS = [
        Binding("up", "cursor_up", show=False, id="list.cursor_up"),
        Binding("down", "cursor_down", show=False, id="list.cursor_down"),
        Binding("pageup", "page_up", show=False, id="list.page_up"),
        Binding("pagedown", "page_down", show=False, id="list.page_down"),
        Binding("home", "first", show=False, id="list.first"),
        Binding("end", "last", show=False, id="list.last"),
        Binding("enter", "choose", show=False, id="list.choose"),
    ]
    cursor = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, sender: "PagedList", index: int, row: Any):
            super().__init__()
            self.list, self.index, self.row = sender, index, row

    class Chosen(Highlighted):
        """Enter (or a click) on a row."""

    def __init__(self, count: Callable[[], int], page: Callable[[int, int], list],
                 render: Callable[[Any, int], Text], *, empty: str = "",
                 page_size: int = PAGE_SIZE, load_on_mount: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.load_on_mount = load_on_mount
        self._count_rows, self._fetch, self._render = count, page, render
        self.empty_text = empty
        self.page_size = page_size
        self.row_count = 0
        self._pages: LRUCache[int, list] = LRUCache(MAX_PAGES)

    def on_mount(self) -> None:
        if self.load_on_mount:
            self.reload()

    # -- data ------------------------------------------------------------
    def set_source(self, count: Callable[[], int], page: Callable[[int, int], list]) -> None:
        self._count_rows, self._fetch = count, page
        self.reload(keep_cursor=False)

    def reload(self, keep_cursor: bool = True) -> None:
        """Forget every page and count again (after an edit or a new filter)."""
        self._pages.clear()
        self.row_count = self._count_rows()
        self.virtual_size = Size(self.size.width, self.row_count)
        index = self.cursor if keep_cursor else 0
        self.cursor = max(0, min(index, self.row_count - 1))
        self.refresh()

    def row(self, index: int) -> Any:
        if not 0 <= index < self.row_count:
            return None
        number, within = divmod(index, self.page_size)
        rows = self._pages.get(number)
        if rows is None:
            rows = self._fetch(number * self.page_size, self.page_size)
            self._pages.set(number, rows)
        return rows[within] if within < len(rows) else None

    @property
    def current(self) -> Any:
        return self.row(self.cursor)

    # -- drawing -----------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        if self.row_count == 0 and y == 0 and self.empty_text:
            text = Text(self.empty_text, style=self.get_component_rich_style("paged-list--empty"))
        elif index >= self.row_count:
            return Strip.blank(width, self.rich_style)
        else:
            row = self.row(index)
            text = self._render(row, width) if row is not None else Text("…")
            if index == self.cursor:
                text.stylize(self.get_component_rich_style("paged-list--cursor"))
        text.no_wrap = True
        text.truncate(width, overflow="ellipsis", pad=True)
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).apply_style(self.rich_style).adjust_cell_length(width)

    def watch_cursor(self, old: int, new: int) -> None:
        height = self.scrollable_content_region.height or 1
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + height:
            self.scroll_to(y=new - height + 1, animate=False)
        self.refresh()
        if self.row_count:
            self.post_message(self.Highlighted(self, new, self.row(new)))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.row_count)

    # -- keys and mouse ------------------------------------------------------
    def _move(self, index: int) -> None:
        if self.row_count:
            self.cursor = max(0, min(index, self.row_count - 1))

    def action_cursor_up(self) -> None:
        self._move(self.cursor - 1)

    def action_cursor_down(self) -> None:
        self._move(self.cursor + 1)

    def action_page_up(self) -> None:
        self._move(self.cursor - max(1, self.scrollable_content_region.height - 1))

    def action_page_down(self) -> None:
        self._move(self.cursor + max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self._move(0)

    def action_last(self) -> None:
        self._move(self.row_count - 1)

    def action_choose(self) -> None:
        if self.row_count:
            self.post_message(self.Chosen(self, self.cursor, self.current))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y
        if 0 <= index < self.row_count:
            if index == self.cursor:
                self.action_choose()
            self.cursor = index
