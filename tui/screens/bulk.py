"""The bulk-change dialog: what to do to the selected customers.

Step one picks the operation (set a field, add or remove a tag, log a timeline
entry, delete); step two picks the field (or the timeline kind); step three
takes the value. It dismisses with a ``models.bulk.Change`` (None: cancelled);
the workbench then asks for confirmation, naming how many customers and what
changes, and makes the change (``models.bulk.apply``).
"""
from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static

from kehu.models import bulk
from kehu.models.i18n import tr
from kehu.tui.screens.views_screen import field_names
from kehu.tui.widgets.filter_list import Entry, FilterLine, FilterList

OPERATIONS = ("set", "add_tag", "remove_tag", "log", "delete")


class BulkChangeScreen(ModalScreen[bulk.Change | None]):
    DEFAULT_CSS = """
    BulkChangeScreen { align: center middle; }
    BulkChangeScreen > Vertical { width: 64; max-width: 95%; height: auto; max-height: 90%;
                                  padding: 0 1; border: thick $accent; background: $surface; }
    BulkChangeScreen #bulk-title { text-style: bold; margin-bottom: 1; }
    BulkChangeScreen OptionList { height: auto; max-height: 16; }
    BulkChangeScreen #bulk-value { border: tall $accent; }
    """
    BINDINGS = [Binding("escape", "cancel", tr("bulk.cancel"), id="bulk.cancel")]

    def __init__(self, store, count: int):
        super().__init__()
        self.store = store
        self.count = count
        self.operation: str | None = None
        self.key: str | None = None   # the field, or the timeline kind

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(tr("bulk.title", count=f"{self.count:,}"), id="bulk-title", markup=False)
            yield Static(tr("bulk.what"), id="bulk-step", markup=False)
            line = FilterLine()   # issue 17: the field list filters as you type (dh → 电话)
            yield line
            yield FilterList([Entry(op, tr(f"bulk.op_{op}")) for op in OPERATIONS], line=line,
                             id="bulk-choices")
            yield Input(id="bulk-value")

    def on_mount(self) -> None:
        self.query_one("#bulk-value").display = False
        self.query_one("#bulk-choices").focus()

    def _editable_fields(self):
        guard = self.store.guard
        return [s for s in self.store.schema.fields
                if guard.role.allows("edit", s) and guard.may_see(s)]

    @on(OptionList.OptionSelected, "#bulk-choices")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        choice = event.option.id
        options = self.query_one("#bulk-choices", FilterList)
        if self.operation is None:
            self.operation = choice
            if choice == "delete":
                self.dismiss(bulk.Change(delete=True))
            elif choice == "set":
                self.query_one("#bulk-step", Static).update(tr("bulk.field"))
                options.typed = ""
                options.set_entries([Entry(s.key, s.label(), field_names(s))
                                     for s in self._editable_fields()])
            elif choice == "log":
                self.query_one("#bulk-step", Static).update(tr("bulk.op_log"))
                options.typed = ""
                options.set_entries([Entry(item.value, item.label(),
                                           [item.label(), item.value])
                                     for item in self.store.schema.list_items("interaction_kinds")])
            else:
                self._ask_value(tr("bulk.value"))
            return
        self.key = choice
        spec = self.store.schema.get(choice)
        hint = ""
        if spec is not None and spec.choices:
            hint = " / ".join(c.label() for c in spec.choices)[:200]
        self._ask_value(event.option.prompt if not hint else f"{event.option.prompt}: {hint}")

    def _ask_value(self, step: str) -> None:
        self.query_one("#bulk-step", Static).update(str(step))
        self.query_one("#bulk-choices").display = False
        value = self.query_one("#bulk-value", Input)
        value.display = True
        self.set_focus(value)

    @on(Input.Submitted, "#bulk-value")
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if self.operation == "set":
            self.dismiss(bulk.Change(set={self.key: text or None}))
        elif self.operation == "add_tag" and text:
            self.dismiss(bulk.Change(add_tags=[text]))
        elif self.operation == "remove_tag" and text:
            self.dismiss(bulk.Change(remove_tags=[text]))
        elif self.operation == "log":
            self.dismiss(bulk.Change(log={"kind": self.key, "summary": text or None}))

    def action_cancel(self) -> None:
        self.dismiss(None)
