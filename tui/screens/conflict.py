"""The dialog shown when a save meets someone else's newer save.

``ConflictScreen(schema, original, mine, theirs)`` lists, field by field, the
value when the form was opened, theirs (in the database now) and mine (typed),
for every field either side changed. Each row picks theirs or mine; the dialog
dismisses with ``{key: chosen stored value}`` or ``None`` (back to editing,
nothing saved). Defaults: a field only I changed keeps mine, a field only they
changed keeps theirs; fields both changed are marked ``!``.
"""
from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from kehu.models.i18n import tr
from kehu.models.schema import FieldSpec, Schema
from kehu.models.validate import display
from kehu.tui.widgets.fields import same_value

THEIRS, MINE = "theirs", "mine"


def shown(spec: FieldSpec, value: Any) -> str:
    return display(spec, value) or tr("detail.blank")


class ConflictRow(Horizontal, can_focus=True):
    """One field: label, original, theirs, mine — the kept one highlighted."""

    DEFAULT_CSS = """
    ConflictRow { height: auto; padding: 0 1; }
    ConflictRow:focus { background: $boost; }
    ConflictRow > Label { width: 1fr; height: auto; padding-right: 1; }
    ConflictRow > .name { width: 18; }
    ConflictRow > .original { color: $text-muted; }
    ConflictRow > .-chosen { background: $success 30%; text-style: bold; }
    ConflictRow > .-dropped { color: $text-disabled; text-style: strike; }
    ConflictRow.-both > .name { color: $warning; text-style: bold; }
    """
    BINDINGS = [
        Binding("left", "pick('theirs')", tr("conflict.pick_theirs"), id="conflict.pick_theirs"),
        Binding("right", "pick('mine')", tr("conflict.pick_mine"), id="conflict.pick_mine"),
        Binding("space", "toggle", tr("conflict.toggle"), id="conflict.toggle"),
    ]
    choice: reactive[str] = reactive(THEIRS, init=False)

    def __init__(self, spec: FieldSpec, original: Any, theirs: Any, mine: Any, choice: str,
                 both: bool):
        super().__init__(id=f"conflict-{spec.key}", classes="-both" if both else "")
        self.spec, self.original, self.theirs, self.mine = spec, original, theirs, mine
        self.set_reactive(ConflictRow.choice, choice)

    def compose(self) -> ComposeResult:
        mark = "! " if self.has_class("-both") else "  "
        yield Label(mark + self.spec.label(), classes="name")
        yield Label(shown(self.spec, self.original), classes="original")
        yield Label(shown(self.spec, self.theirs), classes=THEIRS)
        yield Label(shown(self.spec, self.mine), classes=MINE)

    def on_mount(self) -> None:
        self.watch_choice(self.choice)

    def watch_choice(self, choice: str) -> None:
        for side in (THEIRS, MINE):
            label = self.query_one(f".{side}", Label)
            label.set_class(side == choice, "-chosen")
            label.set_class(side != choice, "-dropped")

    @property
    def value(self) -> Any:
        return self.theirs if self.choice == THEIRS else self.mine

    def action_pick(self, side: str) -> None:
        self.choice = side

    def action_toggle(self) -> None:
        self.choice = MINE if self.choice == THEIRS else THEIRS


class ConflictScreen(ModalScreen[dict[str, Any] | None]):
    DEFAULT_CSS = """
    ConflictScreen { align: center middle; }
    ConflictScreen > Vertical { width: 100%; max-width: 110; height: auto; max-height: 100%;
                                border: thick $error; background: $surface; padding: 0 1; }
    ConflictScreen .title { text-style: bold; color: $error; }
    ConflictScreen .explain { color: $text-muted; margin-bottom: 1; }
    ConflictScreen .header { height: 1; padding: 0 1; text-style: bold; }
    ConflictScreen .header > Label { width: 1fr; }
    ConflictScreen .header > .name { width: 18; }
    ConflictScreen VerticalScroll { height: auto; max-height: 14; }
    ConflictScreen .buttons { height: auto; align-horizontal: right; margin-top: 1; }
    ConflictScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("t", "all('theirs')", tr("conflict.all_theirs"), id="conflict.all_theirs"),
        Binding("m", "all('mine')", tr("conflict.all_mine"), id="conflict.all_mine"),
        Binding("enter,ctrl+s", "apply", tr("conflict.apply"), id="conflict.apply"),
        Binding("escape", "back", tr("conflict.back"), id="conflict.back"),
    ]

    def __init__(self, schema: Schema, original: dict[str, Any], mine: dict[str, Any],
                 theirs: dict[str, Any]):
        """``mine`` holds only the fields the user changed (stored values)."""
        super().__init__()
        self.schema, self.original, self.mine, self.theirs = schema, original, mine, theirs

    def _rows(self) -> list[ConflictRow]:
        rows = []
        for spec in self.schema.fields:
            key = spec.key
            if spec.computed:
                continue
            i_changed = key in self.mine
            they_changed = not same_value(spec, self.theirs.get(key), self.original.get(key))
            if not (i_changed or they_changed):
                continue
            mine = self.mine[key] if i_changed else self.original.get(key)
            rows.append(ConflictRow(spec, self.original.get(key), self.theirs.get(key), mine,
                                    MINE if i_changed else THEIRS,
                                    both=i_changed and they_changed
                                    and not same_value(spec, mine, self.theirs.get(key))))
        return rows

    def compose(self) -> ComposeResult:
        name = self.theirs.get("name") or self.original.get("name") or ""
        when = self.theirs.get("updated_at")
        with Vertical():
            yield Static(tr("conflict.title", name=name), classes="title")
            yield Static(tr("conflict.version", version=self.theirs.get("version"),
                            when=when.strftime("%Y-%m-%d %H:%M:%S") if when else "?"),
                         classes="explain")
            yield Static(tr("conflict.explain"), classes="explain")
            with Horizontal(classes="header"):
                yield Label(tr("conflict.field"), classes="name")
                yield Label(tr("conflict.original"))
                yield Label(tr("conflict.theirs_plain"))
                yield Label(tr("conflict.mine"))
            with VerticalScroll():
                yield from self._rows()
            with Horizontal(classes="buttons"):
                yield Button(tr("conflict.all_theirs") + " (T)", id="all-theirs", compact=True)
                yield Button(tr("conflict.all_mine") + " (M)", id="all-mine", compact=True)
                yield Button(tr("conflict.apply") + " (Enter)", id="apply", compact=True,
                             variant="primary")
                yield Button(tr("conflict.back") + " (Esc)", id="back", compact=True)

    def on_mount(self) -> None:
        rows = list(self.query(ConflictRow))
        (rows[0] if rows else self.query_one("#apply", Button)).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        {"all-theirs": lambda: self.action_all(THEIRS), "all-mine": lambda: self.action_all(MINE),
         "apply": self.action_apply, "back": self.action_back}[event.button.id]()

    def action_all(self, side: str) -> None:
        for row in self.query(ConflictRow):
            row.choice = side

    def action_apply(self) -> None:
        self.dismiss({row.spec.key: row.value for row in self.query(ConflictRow)})

    def action_back(self) -> None:
        self.dismiss(None)
