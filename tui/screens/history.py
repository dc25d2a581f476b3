"""One customer's history: every recorded change, newest first; ``r`` reverts one.

The rows come from ``store.audit.history`` (the model layer masks what the
user's role may not see); reverting goes through ``store.audit.revert``, which
refuses with one sentence when a later change touched the same fields and is
itself recorded, so a revert can be reverted too.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models.audit import RevertError
from kehu.models.i18n import tr
from kehu.models.security import PermissionDenied
from kehu.models.store import ConflictError, NotFound
from kehu.models.validate import MINUTES
from kehu.tui.widgets.keyed import DataTable
from kehu.tui.widgets.footer import KehuFooter

SHOWN = 1000


def describe(store, change) -> str:
    """The change in one line: ``City: 北京 → 上海; Grade: A → B``."""
    if change.action == "import":
        rows = change.fields.get("rows", [None, "?"])[1]
        return tr("audit.import_rows", rows=rows, batch=change.batch if change.batch else "–")
    parts = []
    for key, (old, new) in change.fields.items():
        spec = store.schema.get(key) if change.table == "customer" else None
        label = spec.label() if spec else key
        if change.action == "create":
            if new not in (None, "", False):
                parts.append(f"{label}: {new}")
        else:
            parts.append(f"{label}: {'∅' if old in (None, '') else old} → "
                         f"{'∅' if new in (None, '') else new}")
    text = "; ".join(parts)
    if change.table != "customer":
        text = f"[{change.table}] {text}"
    if change.reverts:
        text = f"{tr('audit.reverts', id=change.reverts)} · {text}"
    return text


class HistoryScreen(Screen):
    BINDINGS = [
        Binding("r", "revert", tr("history.revert"), id="history.revert"),
        Binding("escape", "close", tr("history.close"), id="history.close"),
    ]

    def __init__(self, customer_id: int, name: str | None = None):
        super().__init__()
        self.customer_id = customer_id
        self.customer_label = name

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="history-title")
        yield DataTable(id="history", cursor_type="row")
        yield KehuFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("#", key="id", width=6)
        table.add_column(tr("history.col_when"), key="at", width=16)
        table.add_column(tr("history.col_who"), key="who", width=10)
        table.add_column(tr("history.col_what"), key="what", width=8)
        table.add_column(tr("history.col_change"), key="change")
        self.reload()
        table.focus()

    def reload(self) -> None:
        store = self.app.store
        table = self.query_one(DataTable)
        table.clear()
        try:
            name = self.customer_label or store.get_customer(
                self.customer_id, include_deleted=True).name
            changes = store.audit.history(self.customer_id)[:SHOWN]
        except (NotFound, PermissionDenied) as exc:
            self.query_one("#history-title", Static).update(str(exc))
            return
        title = tr("history.title", name=name)
        if not changes:
            title += "  " + tr("history.empty")
        self.query_one("#history-title", Static).update(title)
        for change in changes:
            table.add_row(f"#{change.id}", f"{change.at:{MINUTES}}", change.user,
                          tr("audit.action." + change.action), describe(store, change),
                          key=str(change.id))

    def action_revert(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        entry_id = int(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        try:
            self.app.store.audit.revert(entry_id)
        except (RevertError, PermissionDenied, ConflictError, NotFound) as exc:
            self.notify(str(exc), severity="error")
            return
        self.notify(tr("history.reverted", id=entry_id))
        self.reload()

    def action_close(self) -> None:
        self.dismiss()
