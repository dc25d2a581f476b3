"""A small question dialog: yes / (optional) no / cancel, each with a key.

``ConfirmScreen(question, yes=..., no=...)`` dismisses with ``"yes"``, ``"no"``
or ``None`` (Esc, cancel). Keys are bindings with ids (``confirm.yes`` …) so a
keymap can remap them.
"""
from __future__ import annotations

from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kehu.models.i18n import tr


class ConfirmScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: 70; max-width: 95%; height: auto; padding: 1 2;
                               border: thick $warning; background: $surface; }
    ConfirmScreen .question { margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [
        Binding("y", "choose('yes')", tr("confirm.yes"), id="confirm.yes"),
        Binding("n", "choose('no')", tr("confirm.no"), id="confirm.no"),
        Binding("escape", "choose(None)", tr("confirm.cancel"), id="confirm.cancel"),
    ]

    def __init__(self, question: str, *, yes: str | None = None, no: str | None = None,
                 cancel: str | None = None):
        super().__init__()
        self.question = question
        self.labels = {"yes": yes or tr("confirm.yes"), "no": no, "cancel": cancel or tr("confirm.cancel")}

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, classes="question")
            with Horizontal():
                yield Button(f"{self.labels['yes']} (Y)", id="yes", variant="primary",
                         compact=True)
                if self.labels["no"]:
                    yield Button(f"{self.labels['no']} (N)", id="no", variant="error",
                             compact=True)
                yield Button(f"{self.labels['cancel']} (Esc)", id="cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_choose(None if event.button.id == "cancel" else event.button.id)

    def action_choose(self, choice: str | None) -> None:
        if choice == "no" and not self.labels["no"]:
            choice = None  # a yes/cancel question: N means no, which is cancel
        self.dismiss(choice)


def confirm(app, question: str, on_yes: Callable[[], object], *, yes: str | None = None) -> None:
    """Ask ``question``; run ``on_yes()`` only when the answer is yes."""
    app.push_screen(ConfirmScreen(question, yes=yes),
                    lambda choice: on_yes() if choice == "yes" else None)
