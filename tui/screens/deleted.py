"""The Deleted view: soft-deleted customers, most recent first; Enter restores one."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models.i18n import tr
from kehu.models.validate import MINUTES, display
from kehu.tui.widgets.keyed import DataTable
from kehu.tui.widgets.footer import KehuFooter

SHOWN = 500


class DeletedScreen(Screen):
    BINDINGS = [
        Binding("enter", "restore", tr("deleted.restore"), id="deleted.restore", priority=True),
        Binding("escape", "close", tr("deleted.close"), id="deleted.close"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(tr("deleted.title"), id="deleted-title")
        yield DataTable(id="deleted", cursor_type="row")
        yield KehuFooter()

    def on_mount(self) -> None:
        store = self.app.store
        table = self.query_one(DataTable)
        fields = store.schema.table_fields
        table.add_column(tr("deleted.when"), key="deleted_at", width=16)
        for spec in fields:
            table.add_column(spec.label(), key=spec.key, width=spec.display_width)
        C = store.Customer
        rows = (store.customers(include_deleted=True).where(C.deleted_at.is_null(False))
                .order_by(C.deleted_at.desc()).limit(SHOWN))
        for row in rows:
            record = store.record(row)   # masked for the user's role, like every other view
            table.add_row(row.deleted_at.strftime(MINUTES),
                          *(display(spec, record.get(spec.key)) for spec in fields),
                          key=str(row.id))
        if not table.row_count:
            self.query_one("#deleted-title", Static).update(tr("deleted.none"))
        table.focus()

    def action_restore(self) -> None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        customer_id = int(key.value)
        store = self.app.store
        store.restore_customer(customer_id)
        table.remove_row(key)
        self.notify(tr("deleted.restored",
                       name=store.record(store.get_customer(customer_id)).get("name")))

    def action_close(self) -> None:
        self.dismiss()
