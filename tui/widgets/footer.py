"""A footer that keeps F1 help and Ctrl+Q quit on screen at any width.

Textual's ``Footer`` shows the keys in binding order and cuts what does not fit
at the right edge — at 80 columns that was help and quit. ``KehuFooter`` drops
the keys wanted least first (``DROP_LAST``: the order in which keys are kept),
so the footer always ends with what a new user looks for.
"""
from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.widgets import Footer

#: actions kept longest, most wanted first (see _keep_rank)
KEEP = ("help", "quit", "open_row", "focus_search", "new_customer", "log_call", "sort",
        "views", "show_due", "columns", "jump", "save_view")


def _keep_rank(action: str, own: bool = False) -> tuple[int, float]:
    """Help and quit first, then the actions in KEEP, a screen's own keys (reports'
    next/previous, meeting mode's views) right after opening and searching, then
    the rest of the app's keys."""
    name = action.rpartition(".")[2]
    if name in KEEP:
        return (0 if name in ("help", "quit") else 1), KEEP.index(name)
    return (1, 3.5) if own else (2, 0)


#: narrower than this, the footer is compact (one cell less per key)
COMPACT_BELOW = 100


def _cells(item, compact: bool) -> int:
    """The cells a footer key takes: ' key desc ' (and the palette's border)."""
    width = cell_len(item.key_display) + cell_len(item.description) + (2 if compact else 3)
    return width + (0 if compact else 2) if item.has_class("-command-palette") else width


class KehuFooter(Footer):
    def compose(self):
        width = self.size.width or self.app.size.width
        self.compact = compact = width < COMPACT_BELOW
        items = list(super().compose())
        keys = [i for i in items if hasattr(i, "action") and not i.has_class("-command-palette")]
        room = width - sum(_cells(i, compact) for i in items if i not in keys)
        active = self.screen.active_bindings

        def rank(item):
            own = item.key in active and active[item.key].node is not self.app
            return _keep_rank(item.action, own), keys.index(item)

        kept = []
        for item in sorted(keys, key=rank):
            if _cells(item, compact) <= room or rank(item)[0][0] == 0:   # help, quit
                kept.append(item)
                room -= _cells(item, compact)
        items = [i for i in items if i not in keys or i in kept]
        yield from items

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != getattr(self, "_composed_width", None):
            self._composed_width = event.size.width
            self.call_after_refresh(self.recompose)
