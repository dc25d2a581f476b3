"""Quick entry: a new customer in the fewest keystrokes, while the phone rings.

A compact form of the fields a caller is asked for first — the required ones,
the ones shown in the table, and the phone and email fields — picked from the
schema by ``quick_fields``. Focus starts in the name; Ctrl+S saves and goes
back, F2 carries what was typed on to the full form.
"""
from __future__ import annotations

import peewee
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from kehu.models import automations
from kehu.models.i18n import tr
from kehu.models.schema import FieldSpec, Schema
from kehu.models.validate import RecordInvalid
from kehu.tui.screens.confirm import confirm
from kehu.tui.screens.detail import NAME_KEY, DetailScreen, default_values
from kehu.tui.widgets.fields import FieldForm

CONTACT_TYPES = ("phone", "email")


def quick_fields(schema: Schema) -> list[FieldSpec]:
    """Required, table and contact fields, in schema order; never computed ones."""
    return [f for f in schema.fields if not f.computed
            and (f.required or f.in_table or f.type in CONTACT_TYPES)]


class QuickEntryScreen(ModalScreen[int | None]):
    """Dismisses with the new customer's id, or ``None`` when cancelled."""

    DEFAULT_CSS = """
    QuickEntryScreen { align: center middle; }
    QuickEntryScreen > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                                  border: thick $accent; background: $surface; }
    QuickEntryScreen .title { text-style: bold; padding: 0 1; background: $panel; }
    QuickEntryScreen .legend { color: $text-muted; padding: 0 1; }
    QuickEntryScreen FieldForm { height: auto; max-height: 100%; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", tr("detail.save"), id="quick.save"),
        Binding("f2", "more", tr("quick.more"), id="quick.more"),
        Binding("escape", "cancel", tr("confirm.cancel"), id="quick.cancel"),
    ]

    @property
    def form(self) -> FieldForm:
        return self.query_one(FieldForm)

    def compose(self) -> ComposeResult:
        schema = self.app.store.schema
        defaults = default_values(schema, self.app.store.user)
        with Vertical():
            yield Static(tr("quick.title"), classes="title")
            yield FieldForm(schema, quick_fields(schema), defaults, sections=False, id="quick-form")
            yield Static(tr("quick.legend"), classes="legend")

    def on_mount(self) -> None:
        self.form.focus_field(NAME_KEY)

    def action_save(self) -> None:
        values, bad = self.form.collect(only_touched=False)
        if bad:
            bad[0].focus_widget()
            self.notify(tr("detail.invalid", count=len(bad), first=bad[0].spec.label()),
                        severity="error")
            return
        try:
            row = self.app.store.create_customer(values)
        except RecordInvalid as exc:
            self.notify(str(exc), severity="error")
            return
        except peewee.DatabaseError as exc:
            self.notify(tr("detail.db_error", error=exc), severity="error")
            return
        # what automation rules did (customer_created), after the word that it was saved
        self.notify("  ".join([tr("detail.created", name=row.name, id=row.id),
                               *automations.take_notes(self.app.store)]))
        self.dismiss(row.id)

    def action_more(self) -> None:
        values = self.form.raw_values()
        self.dismiss(None)
        self.app.push_screen(DetailScreen(values=values))

    def action_cancel(self) -> None:
        if self.form.dirty:
            confirm(self.app, tr("quick.cancel_question"), lambda: self.dismiss(None),
                    yes=tr("detail.discard"))
        else:
            self.dismiss(None)
