"""Small modal forms for contacts and timeline entries, and a picker.

``FormModal`` shows labelled inputs, calls ``save(values)`` on Ctrl+S (or
Enter in a text box) and closes with its result; when the model refuses the
values (``RecordInvalid``), each message appears under its field and nothing
is lost from what was typed. The field lists come from the model's lists
(decision roles, stances, interaction kinds) — never restated here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Label, Select, Static

from kehu.models.errors import KehuError
from kehu.models import i18n
from kehu.models.i18n import tr
from kehu.models.validate import MINUTES, RecordInvalid
from kehu.tui.widgets.keyed import Input, OptionList

i18n.register_folder(Path(__file__).parent.parent)  # before the BINDINGS below read it


@dataclass
class FormField:
    key: str
    label: str
    kind: str = "text"  # text | select | bool
    value: Any = None
    options: list[tuple[str, Any]] = field(default_factory=list)
    placeholder: str = ""


class FormModal(ModalScreen):
    """A form whose ``save(values)`` may raise ``RecordInvalid`` or a ValueError."""

    DEFAULT_CSS = """
    FormModal { align: center middle; }
    FormModal > Vertical {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    FormModal .form-title { text-style: bold; color: $accent; margin-bottom: 1; }
    FormModal VerticalScroll { height: auto; max-height: 24; }
    FormModal .form-row { height: auto; margin-bottom: 1; }
    FormModal .form-label { width: 16; color: $text-muted; }
    FormModal .form-hint { color: $text-muted; }
    FormModal .form-error { color: $error; height: auto; display: none; padding-left: 16; }
    FormModal .form-error.-shown { display: block; }
    FormModal Input, FormModal Select { width: 1fr; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", tr("form.save"), id="form.save"),
        Binding("escape", "cancel", tr("form.cancel"), id="form.cancel"),
    ]

    def __init__(self, title: str, fields: list[FormField], save: Callable[[dict], Any]):
        super().__init__()
        self.form_title, self.fields, self._save = title, fields, save

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.form_title, classes="form-title")
            with VerticalScroll(can_focus=False):
                for f in self.fields:
                    with Horizontal(classes="form-row"):
                        yield Label(f.label, classes="form-label")
                        if f.kind == "bool":
                            yield Checkbox(tr("form.yes"), bool(f.value), id=f"field-{f.key}",
                                           compact=True)
                        elif f.kind == "select":
                            values = [v for _, v in f.options]
                            yield Select(f.options, prompt="—", compact=True, id=f"field-{f.key}",
                                         value=f.value if f.value in values else Select.NULL)
                        else:
                            yield Input("" if f.value is None else str(f.value), compact=True,
                                        placeholder=f.placeholder, id=f"field-{f.key}")
                    yield Static("", classes="form-error", id=f"error-{f.key}")
            yield Static("", classes="form-error", id="error-form")
            yield Static(tr("form.hint"), classes="form-hint")

    def show_error(self, target: str, message: str) -> None:
        error = self.query_one(target, Static)
        error.update(message)
        error.set_class(bool(message), "-shown")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#field-{self.fields[0].key}").focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.key}")
            value = widget.value
            if f.kind == "select" and value is Select.NULL:
                value = None
            out[f.key] = value
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def action_save(self) -> None:
        for f in self.fields:
            self.show_error(f"#error-{f.key}", "")
        self.show_error("#error-form", "")
        try:
            result = self._save(self.values())
        except RecordInvalid as exc:
            keys = [f.key for f in self.fields]
            for key, error in exc.errors.items():
                self.show_error(f"#error-{key}" if key in keys else "#error-form", str(error))
            first = next((k for k in exc.errors if k in keys), None)
            if first:
                self.query_one(f"#field-{first}").focus()
            return
        except KehuError as exc:
            self.show_error("#error-form", str(exc))
            return
        self.dismiss(result)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickModal(ModalScreen):
    """Choose one of a few options; dismisses with its value (or None)."""

    DEFAULT_CSS = """
    PickModal { align: center middle; }
    PickModal > Vertical { width: 50; height: auto; max-height: 80%;
                           border: thick $primary; background: $surface; }
    PickModal .form-title { text-style: bold; color: $accent; padding: 0 1; }
    PickModal OptionList { height: auto; max-height: 20; }
    """
    BINDINGS = [Binding("escape", "cancel", tr("form.cancel"), id="form.cancel")]

    def __init__(self, title: str, options: list[tuple[str, Any]], current: Any = None):
        super().__init__()
        self.title_text, self.choices, self.current = title, options, current

    def compose(self) -> ComposeResult:
        from kehu.tui.widgets.filter_list import Entry, FilterLine, FilterList

        with Vertical():
            yield Static(self.title_text, classes="form-title")
            line = FilterLine()   # issue 17: a picker filters as you type (pinyin too)
            yield line
            yield FilterList([Entry(str(i), text, [text]) for i, (text, _) in
                              enumerate(self.choices)], line=line)

    def on_mount(self) -> None:
        from kehu.tui.widgets.filter_list import FilterList

        option_list = self.query_one(FilterList)
        values = [v for _, v in self.choices]
        if self.current in values:
            option_list.call_after_refresh(option_list.highlight_id,
                                           str(values.index(self.current)))
        option_list.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.choices[int(event.option.id)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


# --- the field lists -------------------------------------------------------------

def list_options(store, name: str) -> list[tuple[str, str]]:
    return [(f"{item.icon} {item.label()}".strip(), item.value)
            for item in store.schema.list_items(name)]


def contact_fields(store, contact=None) -> list[FormField]:
    def value(key):
        return getattr(contact, key, None) if contact is not None else None

    def text(key):
        return FormField(key, tr(f"chain.field.{key}"), value=value(key))

    return [
        text("name"), text("title"), text("department"), text("phone"), text("email"),
        FormField("role", tr("chain.field.role"), "select", value("role"),
                  list_options(store, "decision_roles")),
        FormField("stance", tr("chain.field.stance"), "select", value("stance"),
                  list_options(store, "stances")),
        FormField("key_person", tr("chain.field.key_person"), "bool", value("key_person")),
        text("birthday"), text("notes"),
    ]


def entry_fields(store, customer_id: int, entry=None, kind: str | None = None,
                 contact_id: int | None = None) -> list[FormField]:
    from kehu.models.satisfaction import scale_text

    def value(key, default=None):
        return getattr(entry, key, default) if entry is not None else default

    occurred = value("occurred_at", None) or dt.datetime.now()
    contacts = [(c.name, c.id) for c in store.contacts(customer_id)]
    return [
        FormField("kind", tr("timeline.field.kind"), "select", value("kind", kind) or "call",
                  list_options(store, "interaction_kinds")),
        FormField("occurred_at", tr("timeline.field.occurred_at"),
                  value=occurred.strftime(MINUTES), placeholder="YYYY-MM-DD HH:MM"),
        FormField("contact", tr("timeline.field.contact"), "select",
                  value("contact_id", contact_id), contacts),
        FormField("summary", tr("timeline.field.summary"), value=value("summary")),
        FormField("amount", tr("timeline.field.amount"), value=value("amount"),
                  placeholder=tr("form.amount_hint")),
        FormField("score", tr("timeline.field.score"), value=value("score"),
                  placeholder=scale_text(store)),
        FormField("next_follow_up", tr("timeline.field.next_follow_up"),
                  value=value("next_follow_up"), placeholder="YYYY-MM-DD"),
        FormField("details", tr("timeline.field.details"), value=value("details")),
    ]
