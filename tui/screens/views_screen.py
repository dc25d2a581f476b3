"""The workbench's small dialogs: sort picker, view list, save view as…, column chooser.

Each is a ``ModalScreen`` that returns its answer through ``dismiss`` (None when
cancelled), so the workbench applies it in one place.
"""
from __future__ import annotations

from dataclasses import replace

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from kehu.models.i18n import label, tr
from kehu.models.views import (ViewsError, new_view_key, remove_view, rename_view, save_view,
                               user_views_path)
from kehu.tui.widgets.filter_list import Entry, FilterLine, FilterList
from kehu.tui.widgets.keyed import Input, OptionList


def field_names(spec) -> list[str]:
    """What a field is found by in a picker: its labels, key and aliases."""
    return [spec.label(), *spec.names]


def next_sort(sort: list[tuple[str, str]], key: str) -> list[tuple[str, str]]:
    """The sort after choosing ``key``: the first key again flips its direction;
    another key comes first (ascending) and the old first key becomes the second."""
    if sort and sort[0][0] == key:
        return [(key, "desc" if sort[0][1] == "asc" else "asc"), *sort[1:]]
    return [(key, "asc"), *[s for s in sort if s[0] != key][:1]]


class _Modal(ModalScreen):
    DEFAULT_CSS = """
    _Modal, SortPicker, ViewListScreen, SaveViewScreen, ColumnChooser, RenameViewScreen {
        align: center middle;
    }
    .dialog {
        width: 72;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $accent;
        background: $panel;
        padding: 0 1;
    }
    .dialog OptionList {
        height: auto;
        max-height: 20;
    }
    .dialog .hint {
        color: $text-muted;
    }
    .dialog .error {
        color: $error;
    }
    """
    BINDINGS = [Binding("escape", "cancel", tr("views.cancel"), id="dialog.cancel")]

    def action_cancel(self) -> None:
        self.dismiss(None)


class SortPicker(_Modal):
    """Pick a sort column. Picking the current first key flips its direction;
    picking another makes it the first key and keeps the old first as second."""

    def __init__(self, schema, sort: list[tuple[str, str]], shown: list[str]):
        super().__init__()
        self.schema, self.sort, self.shown = schema, list(sort), shown

    def compose(self) -> ComposeResult:
        current = dict(self.sort)
        entries = [Entry("", tr("sort.clear"), [tr("sort.clear")])]
        keys = self.shown + [f.key for f in self.schema.fields if f.key not in self.shown]
        for key in keys:
            spec = self.schema[key]
            text = spec.label()
            if key in current:
                text += f"  {'▲' if current[key] == 'asc' else '▼'} {tr('sort.' + current[key])}"
            if not spec.index:
                text += f"  ({tr('sort.no_index')})"
            entries.append(Entry(key, text, field_names(spec)))
        with Vertical(classes="dialog"):
            yield Label(tr("sort.title"), classes="hint")
            line = FilterLine()
            yield line
            yield FilterList(entries, line=line, id="sort-options")

    def on_mount(self) -> None:
        options = self.query_one(FilterList)
        options.call_after_refresh(options.highlight_id, self.sort[0][0] if self.sort else "")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        key = event.option.id
        if not key:
            self.dismiss([])
            return
        self.dismiss(next_sort(self.sort, key))


class ViewListScreen(_Modal):
    """All views: the built-in rosters, then the saved ones. F2 renames a saved view,
    Delete deletes one (after a question); built-in rosters stay as they are."""

    BINDINGS = [
        Binding("f2", "rename", tr("page.view_rename"), id="views.rename"),
        Binding("delete", "delete", tr("page.view_delete"), id="views.delete"),
    ]

    def __init__(self, views: list, current: str | None, schema=None):
        super().__init__()
        self.views, self.current, self.schema = list(views), current, schema

    def _entries(self) -> list[Entry]:
        entries = []
        for i, view in enumerate(self.views):
            kind = tr("views.builtin") if view.builtin else tr("views.saved")
            mark = "● " if view.key == self.current else "  "
            text = f"{mark}{view.name()}  [{kind}]"
            if view.help:
                text += f" — {label(view.help)}"
            entries.append(Entry(str(i), text, [*view.names.values(), view.key]))
        return entries

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(tr("views.title") + "  " + tr("page.view_keys"), classes="hint")
            line = FilterLine()
            yield line
            yield FilterList(self._entries(), line=line, id="view-options", markup=False)
            yield Static("", classes="error", id="views-error", markup=False)

    def on_mount(self) -> None:
        index = next((i for i, v in enumerate(self.views) if v.key == self.current), 0)
        options = self.query_one(FilterList)
        options.call_after_refresh(options.highlight_id, str(index))

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.views[int(event.option.id)])

    def _highlighted_view(self):
        option = self.query_one(FilterList).highlighted_id
        return None if option is None else self.views[int(option)]

    def _refuse_builtin(self, view) -> bool:
        if view is None or view.builtin or self.schema is None:
            if view is not None and view.builtin:
                self.query_one("#views-error", Static).update(
                    tr("views17.builtin_fixed", name=view.name()))
            return True
        return False

    def action_rename(self) -> None:
        view = self._highlighted_view()
        if self._refuse_builtin(view):
            return

        def renamed(new) -> None:
            if new is not None:
                self.views[self.views.index(view)] = new
                self.query_one(FilterList).set_entries(self._entries(),
                                                       str(self.views.index(new)))
                self.app.notify(tr("page.view_renamed", key=new.key, name=new.name(),
                                   path=user_views_path()))

        self.app.push_screen(RenameViewScreen(self.schema, view), renamed)

    def action_delete(self) -> None:
        view = self._highlighted_view()
        if self._refuse_builtin(view):
            return
        from kehu.tui.screens.confirm import confirm

        def delete() -> None:
            try:
                remove_view(view.key, self.schema)
            except (ViewsError, OSError) as exc:
                self.query_one("#views-error", Static).update(str(exc))
                return
            self.views.remove(view)
            self.query_one(FilterList).set_entries(self._entries())
            self.app.notify(tr("page.view_deleted", name=view.name(), path=user_views_path()))

        confirm(self.app, tr("page.view_delete_question", name=view.name()), delete,
                yes=tr("page.view_delete"))


class RenameViewScreen(_Modal):
    """A new name for a saved view (``models.views.rename_view``)."""

    def __init__(self, schema, view):
        super().__init__()
        self.schema, self.view = schema, view

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(tr("page.view_rename_title", name=self.view.name()))
            yield Input(self.view.name(), id="view-new-name")
            yield Static("", classes="error", id="rename-error", markup=False)

    @on(Input.Submitted)
    def rename(self, event: Input.Submitted) -> None:
        try:
            view = rename_view(self.view.key, event.value, self.schema)
        except (ViewsError, OSError) as exc:
            self.query_one("#rename-error", Static).update(str(exc))
            return
        self.dismiss(view)


class SaveViewScreen(_Modal):
    """Name the current view and write it to views.yaml. A name of an existing
    saved view replaces it; a built-in's name is refused."""

    def __init__(self, schema, view, views):
        super().__init__()
        self.schema, self.view, self.views = schema, view, views

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(tr("views.save_title"))
            name = "" if self.view.builtin else self.view.name()
            yield Input(name, placeholder=tr("views.save_placeholder"), id="view-name")
            yield Static("", classes="error", id="save-error", markup=False)

    @on(Input.Submitted)
    def save(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        error = self.query_one("#save-error", Static)
        if not name:
            error.update(tr("views.name_empty"))
            return
        existing = self.views.find(name)
        if existing is not None and existing.builtin:
            error.update(tr("views.name_builtin", name=name))
            return
        key = existing.key if existing is not None else \
            new_view_key(name, [v.key for v in self.views])
        view = replace(self.view, key=key, names={"zh": name, "en": name}, builtin=False,
                       help=None, line=None)
        try:
            saved = save_view(view, self.schema)
        except (ViewsError, OSError) as exc:  # views.yaml broken or not writable: said here
            error.update(tr("views.save_failed", error=exc))
            return
        self.app.notify(tr("views.saved_as", name=name, path=user_views_path()))
        self.dismiss(saved)


class ColumnChooser(_Modal):
    """Show/hide, reorder and resize the table's columns."""

    BINDINGS = [
        Binding("space", "toggle", tr("columns.toggle"), id="columns.toggle"),
        Binding("left_square_bracket", "move(-1)", tr("columns.up"), id="columns.move_up"),
        Binding("right_square_bracket", "move(1)", tr("columns.down"), id="columns.move_down"),
        Binding("minus", "width(-1)", tr("columns.narrower"), id="columns.narrower"),
        Binding("plus,equals_sign", "width(1)", tr("columns.wider"), id="columns.wider"),
        Binding("enter", "apply", tr("columns.apply"), id="columns.apply", priority=True),
        Binding("escape", "cancel", tr("views.cancel"), id="dialog.cancel"),
    ]

    def __init__(self, schema, view):
        super().__init__()
        self.schema = schema
        shown = view.column_keys(schema)
        self.order = shown + [f.key for f in schema.fields if f.key not in shown]
        self.shown = set(shown)
        self.widths = {k: view.widths.get(k) or schema[k].display_width for k in self.order}

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(tr("columns.title"), classes="hint")
            line = FilterLine()
            yield line
            yield FilterList(self._entries(), line=line, id="column-options", markup=False)
            yield Static("", classes="error", id="columns-error", markup=False)

    def _entries(self) -> list[Entry]:
        out = []
        for key in self.order:
            box = "[x]" if key in self.shown else "[ ]"
            width = tr("columns.width", width=self.widths[key])
            spec = self.schema[key]
            out.append(Entry(key, f"{box} {spec.label()}  ({width})", field_names(spec)))
        return out

    def _redraw(self, highlight: str) -> None:
        self.query_one(FilterList).set_entries(self._entries(), highlight)

    @property
    def _current(self) -> str | None:
        return self.query_one(FilterList).highlighted_id

    def action_toggle(self) -> None:
        key = self._current
        if key is None:
            return
        if key in self.shown:
            if len(self.shown) == 1:
                self.query_one("#columns-error", Static).update(tr("columns.none"))
                return
            self.shown.discard(key)
        else:
            self.shown.add(key)
        self._redraw(key)

    def action_move(self, step: int) -> None:
        key = self._current
        if key is None:
            return
        i = self.order.index(key)
        j = max(0, min(len(self.order) - 1, i + step))
        self.order[i], self.order[j] = self.order[j], self.order[i]
        self._redraw(key)

    def action_width(self, step: int) -> None:
        key = self._current
        if key is None:
            return
        self.widths[key] = max(3, min(80, self.widths[key] + step))
        self._redraw(key)

    def action_apply(self) -> None:
        keys = [k for k in self.order if k in self.shown]
        widths = {k: self.widths[k] for k in keys if self.widths[k] != self.schema[k].display_width}
        self.dismiss((keys, widths))

    @on(OptionList.OptionSelected)
    def selected(self) -> None:
        self.action_apply()
