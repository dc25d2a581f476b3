"""The main screen: the customer table (the workbench issue builds it out)."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kehu.models.i18n import tr
from kehu.models.validate import display

FIRST_PAGE = 200


class WorkbenchScreen(Screen):
    def compose(self) -> ComposeResult:
        yield Header()
        yield DataTable(id="customers", cursor_type="row")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        store = self.app.store
        table = self.query_one(DataTable)
        fields = store.schema.table_fields
        for spec in fields:
            table.add_column(spec.label(), key=spec.key, width=spec.display_width)
        for row in store.customers().order_by(store.Customer.id).limit(FIRST_PAGE):
            table.add_row(*(display(spec, getattr(row, spec.key)) for spec in fields), key=str(row.id))
        total = store.count_customers()
        self.query_one("#status", Static).update(
            tr("workbench.count", count=total) if total else tr("workbench.empty"))
