"""The detail editor: every field of one customer, in sections by schema group.

The form comes from the schema (``FieldForm``); saving goes through
``store.create_customer`` / ``store.update_customer(expected_version=...)``. A
save that meets a newer version opens the conflict dialog; nothing is
overwritten without the user choosing it. Leaving with unsaved changes asks,
deleting asks and is soft (the Deleted view restores).
"""
from __future__ import annotations

from typing import Any, Callable

import peewee
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Checkbox, Header, Select, Static

from kehu.models import automations
from kehu.models.i18n import tr
from kehu.models.schema import Schema
from kehu.models.security import PermissionDenied
from kehu.models.store import ConflictError, NotFound
from kehu.models.validate import FieldError, RecordInvalid, default_value, display
from kehu.tui.screens.confirm import ConfirmScreen, confirm
from kehu.tui.widgets.customer_page import PageSide, layout_for
from kehu.tui.widgets.fields import FieldForm, same_value
from kehu.tui.widgets.footer import KehuFooter

NAME_KEY = "name"  # every schema has it (models.schema refuses one without)


def default_values(schema: Schema, user: str | None = None) -> dict[str, Any]:
    """A new customer's starting values: the schema defaults, cleaned."""
    out = {}
    for spec in schema.fields:
        if spec.default is not None and not spec.computed:
            try:
                out[spec.key] = default_value(spec, user)
            except FieldError:  # the schema loader already refuses bad defaults
                continue
    return out


def open_detail(app, customer_id: int) -> None:
    """Push the editor of one customer, or say why it cannot be opened."""
    try:
        record = app.store.record(app.store.get_customer(customer_id))
    except NotFound as exc:
        app.notify(str(exc), severity="error")
        return
    app.push_screen(DetailScreen(record))


class DetailScreen(Screen):
    """Edit one customer (``record``), or a new one (``record=None``)."""

    DEFAULT_CSS = """
    DetailScreen #detail-title { padding: 0 1; text-style: bold; background: $panel; }
    DetailScreen #detail-legend { padding: 0 1; color: $text-muted; height: auto; }
    DetailScreen #detail-churn { padding: 0 1; height: auto; color: $text-muted; }
    DetailScreen #detail-churn.warned { color: $warning; text-style: bold; }
    DetailScreen #page-body { height: 1fr; }
    DetailScreen #page-side { display: none; }
    DetailScreen.-wide #page-side { display: block; }
    DetailScreen.-two FieldForm { layout: grid; grid-size: 2; grid-columns: 1fr 1fr;
                                  grid-rows: auto; grid-gutter: 0 2; }
    DetailScreen.-two FieldForm > .form-section { column-span: 2; }
    DetailScreen.-two FieldRow .field-label { width: 16; }
    DetailScreen.-two FieldRow > .field-note { padding-left: 16; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", tr("detail.save"), id="detail.save"),
        Binding("escape", "close", tr("detail.close"), id="detail.close"),
        Binding("f8", "delete", tr("detail.delete"), id="detail.delete"),
        Binding("ctrl+down", "group(1)", tr("detail.next_group"), id="detail.next_group",
                show=False),
        Binding("ctrl+up", "group(-1)", tr("detail.prev_group"), id="detail.prev_group",
                show=False),
        # y where the focus is not a text box (a choice, a check box), Alt+Y anywhere
        Binding("y,alt+y", "copy_field", tr("page.copy_field"), id="detail.copy_field",
                show=False),
    ]

    def __init__(self, record: dict[str, Any] | None = None, *,
                 values: dict[str, Any] | None = None):
        """``values`` pre-fill a new customer (carried over from quick entry)."""
        super().__init__()
        self.record = record
        self.carried = values or {}

    @property
    def store(self):
        return self.app.store

    @property
    def current_customer_id(self) -> int | None:
        return self.record["id"] if self.record else None

    @property
    def form(self) -> FieldForm:
        return self.query_one(FieldForm)

    def compose(self) -> ComposeResult:
        schema = self.store.schema
        if self.record is None:
            originals = default_values(schema, self.app.store.user)
            values = originals | self.carried
        else:
            originals = values = self.record
        yield Header()
        yield Static(self._title(), id="detail-title")
        churn = self._churn()
        if churn is not None:   # issue 18: how overdue against their own rhythm, and why
            yield Static(tr("agenda_ui.churn_line", score=f"{churn.score:.1f}", why=churn.why()),
                         id="detail-churn", classes="warned" if churn.warned else "")
        yield Static(tr("detail.legend"), id="detail-legend")
        with Horizontal(id="page-body"):
            yield FieldForm(schema, schema.fields, values, originals=originals, id="form")
            if self.record is not None:   # the customer page: dealings and people beside
                yield PageSide(self.store, self.record["id"], id="page-side")
        yield KehuFooter()

    def on_mount(self) -> None:
        self._lay_out(self.app.size.width)
        self.form.focus_field(NAME_KEY)
        from kehu.tui.widgets.import_extra import mount_extra

        mount_extra(self)   # issue 16 (h16a): an import's columns no field took, below the fields

    # -- the customer page (issue 17): side by side when the terminal is wide ----
    def on_resize(self, event: events.Resize) -> None:
        self._lay_out(event.size.width)

    def _lay_out(self, width: int) -> None:
        wide, two = layout_for(width)
        self.set_class(wide and self.record is not None, "-wide")
        self.set_class(two, "-two")
        if self.is_mounted:
            self.query_one("#detail-title", Static).update(self._title())

    def on_screen_resume(self) -> None:
        """Back from F6/F7 (or a call logged): the side shows what changed."""
        for side in self.query(PageSide):
            side.reload()

    def action_copy_field(self) -> None:
        """The focused field as shown (a masked value stays masked) to the clipboard."""
        from kehu.tui.widgets.find_copy import copy_shown

        row = self.form.focused_row()
        if row is None:
            self.notify(tr("page.nothing_to_copy_field"), severity="warning")
            return
        widget, spec = row.widget, row.spec
        if isinstance(widget, (Select, Checkbox)):
            text = display(spec, row.raw)
        elif isinstance(widget, Static):   # a computed field
            text = str(widget.render())
        else:
            text = str(row.raw or "")
        copy_shown(self.app, text, spec.label())

    def _churn(self):
        from kehu.models import agenda

        return agenda.churn_for(self.store, self.record["id"]) if self.record else None

    def _title(self) -> str:
        if self.record is None:
            return tr("detail.new_title")
        title = tr("detail.title", name=self.record.get(NAME_KEY) or "", id=self.record["id"],
                   version=self.record["version"])
        if not self.has_class("-wide"):   # the side is not shown: say where it is
            title += "   " + tr("page.narrow_keys")
        return title

    def customer_name(self) -> str:
        if self.record is not None:
            return self.record.get(NAME_KEY) or ""
        row = self.form.row(NAME_KEY)
        return str(row.raw or "").strip() or tr("detail.new_title")

    def _loaded(self, record: dict[str, Any]) -> None:
        self.record = record
        self.form.load(record)
        self.query_one("#detail-title", Static).update(self._title())

    # -- save ---------------------------------------------------------------
    def action_save(self) -> None:
        self.save()

    def save(self, then: Callable[[], Any] | None = None) -> None:
        """Validate, then create or update; ``then()`` runs after a successful save."""
        new = self.record is None
        values, bad = self.form.collect(only_touched=not new)
        if bad:
            self._refuse(bad)
            return
        if new:
            row = self._attempt(lambda: self.store.create_customer(values))
            if row is not None:
                self._loaded(self.store.record(row))
                self.notify("  ".join([tr("detail.created", name=row.name, id=row.id),
                                       *automations.take_notes(self.store)]))
                if then:
                    then()
            return
        if not values:
            self.notify(tr("detail.nothing_changed"))
            if then:
                then()
            return
        self._update(values, self.record["version"], then)

    def _attempt(self, call: Callable[[], Any]) -> Any | None:
        """Run one store call; when it refuses, say why and keep the form as typed."""
        try:
            return call()
        except RecordInvalid as exc:
            self._show_errors(exc)
        except NotFound:
            self.notify(tr("detail.not_found", id=self.current_customer_id), severity="error")
        except PermissionDenied as exc:  # the role may not do this (models/roles.yaml)
            self.notify(str(exc), severity="error")
        except peewee.DatabaseError as exc:
            self.notify(tr("detail.db_error", error=exc), severity="error")
        return None

    def _update(self, changes: dict[str, Any], version: int, then) -> None:
        customer_id = self.record["id"]
        try:
            row = self._attempt(lambda: self.store.update_customer(
                customer_id, changes, expected_version=version))
        except ConflictError as exc:
            self._resolve(changes, exc.theirs, then)
            return
        if row is None:
            return
        self._loaded(self.store.record(row))
        # what automation rules did on this save (models.automations), after the word
        self.notify("  ".join([tr("detail.saved", name=row.name),
                               *automations.take_notes(self.store)]))
        if then:
            then()

    def _resolve(self, mine: dict[str, Any], theirs: dict[str, Any], then) -> None:
        """Someone saved in between: let the user choose, then save on top of theirs.

        When their save changed no field (only the version moved on, e.g. a
        delete and restore), there is nothing to choose: mine go on top."""
        from kehu.tui.screens.conflict import ConflictScreen

        schema = self.store.schema
        if all(same_value(spec, theirs.get(spec.key), self.record.get(spec.key))
               for spec in schema.fields if not spec.computed):
            self._update(mine, theirs["version"], then)
            return

        def chosen(choice: dict[str, Any] | None) -> None:
            if choice is None:
                self.notify(tr("detail.conflict_cancelled", name=self.customer_name()),
                            severity="warning")
                return
            changes = {k: v for k, v in choice.items()
                       if not same_value(schema[k], v, theirs.get(k))}
            if changes:
                self._update(changes, theirs["version"], then)
                return
            self._loaded(theirs)
            self.notify(tr("detail.saved", name=theirs.get(NAME_KEY) or ""))
            if then:
                then()

        self.app.push_screen(ConflictScreen(self.store.schema, self.record, mine, theirs), chosen)

    def _refuse(self, bad) -> None:
        bad[0].focus_widget()
        self.notify(tr("detail.invalid", count=len(bad), first=bad[0].spec.label()),
                    severity="error")

    def _show_errors(self, exc: RecordInvalid) -> None:
        rows = []
        for key, error in exc.errors.items():
            if key in self.store.schema:
                row = self.form.row(key)
                row.set_error(error.message)
                rows.append(row)
        if rows:
            self._refuse(rows)
        else:
            self.notify(str(exc), severity="error")

    # -- leave, delete, move --------------------------------------------------
    def action_close(self) -> None:
        if not self.form.dirty:
            self.dismiss()
            return

        def answered(choice: str | None) -> None:
            if choice == "yes":
                self.save(then=self.dismiss)
            elif choice == "no":
                self.dismiss()

        self.app.push_screen(ConfirmScreen(tr("detail.unsaved_question", name=self.customer_name()),
                                           yes=tr("detail.save"), no=tr("detail.discard"),
                                           cancel=tr("detail.keep_editing")), answered)

    def action_delete(self) -> None:
        if self.record is None:
            self.action_close()
            return
        name = self.customer_name()

        def delete() -> None:
            if self._attempt(lambda: self.store.delete_customer(self.record["id"]) or True):
                self.notify(tr("detail.deleted", name=name))
                self.dismiss()

        confirm(self.app, tr("detail.delete_question", name=name), delete, yes=tr("detail.delete"))

    def action_group(self, step: int) -> None:
        """Jump to the first field of the next (or previous) group."""
        rows = [r for r in self.form.rows if not r.spec.computed]
        groups = list(dict.fromkeys(r.spec.group for r in rows))
        current = self.form.focused_row()
        index = groups.index(current.spec.group) if current else -1
        target = groups[(index + step) % len(groups)]
        next(r for r in rows if r.spec.group == target).focus_widget()
