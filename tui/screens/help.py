"""Help: the keys of the screen you came from, read from the live keymap.

Nothing here is written by hand: every line comes from the bindings of that
screen, its widgets and the app, with the keymap (and the user's overrides)
applied — so help is true whatever keymap is in force.
"""
from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from kehu.models.i18n import tr
from kehu.tui.keymap import describe_keys, live_bindings
from kehu.tui.widgets.footer import KehuFooter


def group_title(group: str) -> str:
    msg_id = f"keys.group.{group}"
    title = tr(msg_id)
    return group if title == msg_id else title


class HelpScreen(Screen):
    BINDINGS = [
        Binding("escape,q,f1,question_mark", "close", tr("help.close"), id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { layout: vertical; }
    HelpScreen #help-title { height: 1; padding: 0 1; background: $panel; text-style: bold; }
    HelpScreen #help-body { height: 1fr; padding: 0 1; }
    HelpScreen .help-group { margin-bottom: 1; }
    """

    def __init__(self, target: Screen):
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        title = getattr(self.target, "title", None) or getattr(self.target, "TITLE", None)
        yield Static(tr("help.title", screen=title or self.app.title), id="help-title")
        with VerticalScroll(id="help-body"):
            for group, rows in self.groups():
                yield Static(self._table(group, rows), classes="help-group")
            yield Static(Text(tr("help.footer", path=str(self._keymap_path())), style="dim"))
        yield KehuFooter()

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def language_changed(self) -> None:
        """Switched from the palette (KehuBaseApp.use_language): drawn again."""
        self.refresh(recompose=True)

    def groups(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """[(group, [(keys, description), ...]), ...], the app's keys last."""
        grouped: dict[str, list[tuple[str, str]]] = {}
        for entry in live_bindings(self.app, self.target):
            keys = describe_keys(self.app, entry) or tr("help.unbound")
            grouped.setdefault(entry.group, []).append((keys, entry.binding.description))
        order = sorted(grouped, key=lambda g: g == "app")
        return [(g, grouped[g]) for g in order]

    def _table(self, group: str, rows: list[tuple[str, str]]) -> Table:
        table = Table(title=group_title(group), title_justify="left", title_style="bold",
                      show_header=False, box=None, padding=(0, 2, 0, 0), expand=False)
        table.add_column(style="bold", no_wrap=True, min_width=10)
        table.add_column()
        for keys, description in rows:
            table.add_row(keys, description)
        return table

    def _keymap_path(self):
        from kehu.models.config import config_dir

        return config_dir() / "keymap.yaml"

    def action_close(self) -> None:
        self.dismiss()
