"""The import wizard: a file, its column mapping to confirm or change, a dry run,
the import with a progress bar, and what happened (``models.importer`` does the work).

Type the path and Enter; the mapping table shows each column, the field it goes
to and why a column is left out. Enter on a column picks another field; p applies
a saved mapping profile (one made for files with these columns is applied when
the file opens), s saves the mapping as a profile; d runs a dry run, i imports
(optionally updating customers by the field typed under "update by"). F3
exports what the workbench shows (``ExportScreen``).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Header, Label, ProgressBar, Static

from kehu.models.errors import KehuError
from kehu.models import exporter, importer, search
from kehu.models.i18n import tr
from kehu.tui.widgets.keyed import DataTable, Input, OptionList


class FieldPicker(ModalScreen):
    """Choose the field a column goes to (or none): type to narrow the list (any
    name of a field: key, zh or en label, alias, or the pinyin initials of the
    Chinese label), Enter takes the highlighted one."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.pick_cancel")]
    DEFAULT_CSS = """
    FieldPicker { align: center middle; }
    FieldPicker > * { width: 60; }
    FieldPicker > Label { background: $panel; padding: 0 1; }
    FieldPicker > OptionList { height: 70%; }
    """

    def __init__(self, schema, header: str) -> None:
        super().__init__()
        self.schema, self.header = schema, header
        self.keys: list[str | None] = [None] + [f.key for f in schema.fields if not f.computed]
        self.shown: list[str | None] = list(self.keys)

    def compose(self) -> ComposeResult:
        yield Label(tr("import_ui.pick_field", header=self.header))
        yield Input(placeholder=tr("import_ui.pick_filter"), id="field-filter")
        yield OptionList(*self._labels(self.shown))

    def _labels(self, keys: list[str | None]) -> list[str]:
        return [tr("import.note_skipped") if k is None else f"{self.schema[k].label()}  ({k})"
                for k in keys]

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0
        self.words = {k: " ".join(n + " " + " ".join(search.pinyin_words(n))
                                  for n in self.schema[k].names).casefold()
                      for k in self.keys if k is not None}

    def on_input_changed(self, event: Input.Changed) -> None:
        typed = event.value.strip().casefold()
        self.shown = [k for k in self.keys if not typed or (k is not None and typed in self.words[k])]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._labels(self.shown))
        if self.shown:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        options = self.query_one(OptionList)
        if self.shown:
            self.dismiss(("set", self.shown[options.highlighted or 0]))

    def on_key(self, event) -> None:
        options = self.query_one(OptionList)
        if self.query_one(Input).has_focus and event.key in ("down", "up"):
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(("set", self.shown[event.option_index]))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProfilePicker(ModalScreen):
    """Choose a saved mapping profile (or the automatic mapping)."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.profile_cancel")]
    DEFAULT_CSS = """
    ProfilePicker { align: center middle; }
    ProfilePicker > Label { width: 60; background: $panel; padding: 0 1; }
    ProfilePicker > OptionList { width: 60; height: auto; max-height: 70%; }
    """

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        yield Label(tr("import_ui.pick_profile"))
        yield OptionList(tr("import_ui.profile_auto"), *self.names)

    def on_option_list_option_selected(self, event) -> None:
        index = event.option_index
        self.dismiss(("profile", self.names[index - 1] if index else None))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ProfileName(ModalScreen):
    """Type the name to save the mapping under."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.save_cancel")]
    DEFAULT_CSS = """
    ProfileName { align: center middle; }
    ProfileName > * { width: 60; background: $panel; }
    """

    def __init__(self, suggestion: str) -> None:
        super().__init__()
        self.suggestion = suggestion

    def compose(self) -> ComposeResult:
        yield Label(tr("import_ui.profile_name"))
        yield Input(value=self.suggestion, id="profile-name")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ImportScreen(Screen):
    BINDINGS = [
        Binding("d", "dry_run", tr("import_ui.dry_run"), id="import.dry_run"),
        Binding("i", "run_import", tr("import_ui.run"), id="import.run"),
        Binding("p", "pick_profile", tr("import_ui.profiles"), id="import.profile"),
        Binding("s", "save_profile", tr("import_ui.save_profile"), id="import.save_profile"),
        Binding("escape", "close", tr("import_ui.close"), id="import.close"),
    ]
    DEFAULT_CSS = """
    #import-mapping { height: auto; max-height: 50%; }
    #import-update-row { height: 3; }
    #import-update-row > Label { padding: 1 1 0 1; }
    #import-update-by { width: 40; }
    #import-result { height: auto; }
    """

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.initial = path
        self.source: importer.Source | None = None
        self.mapping: importer.Mapping | None = None
        self.profile: str | None = None  # the saved mapping applied, if any
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(value=self.initial or "", placeholder=tr("import_ui.path_placeholder"),
                    id="import-path")
        yield Static(tr("import_ui.hint"), id="import-info")
        yield DataTable(id="import-mapping", cursor_type="row")
        with Horizontal(id="import-update-row"):
            yield Label(tr("import_ui.update_by"))
            yield Input(placeholder=tr("import_ui.update_by_placeholder"), id="import-update-by")
        yield ProgressBar(id="import-progress", show_eta=False)
        yield Static(id="import-result")
        yield Footer()

    def on_mount(self) -> None:
        if self.initial:
            self._open(self.initial)
        else:
            self.set_focus(self.query_one("#import-path", Input))  # at once: the path may follow

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "import-path":
            self._open(event.value.strip())

    def _open(self, path: str) -> None:
        try:
            self.source = importer.open_source(Path(path).expanduser())
        except importer.ImportFailed as exc:
            self.query_one("#import-info", Static).update(str(exc))
            self.source = self.mapping = None
            return
        self._apply_profile(importer.matching_profile(self.source))
        self.query_one(DataTable).focus()

    def _apply_profile(self, name: str | None) -> None:
        """Map the columns automatically, then by the saved profile ``name``."""
        try:
            profile = importer.load_profile(name) if name else None
            self.mapping = importer.auto_mapping(self.app.store.schema, self.source, profile=profile)
        except importer.ImportFailed as exc:
            self.notify(str(exc), severity="error")
            if self.mapping is None:
                self.mapping = importer.auto_mapping(self.app.store.schema, self.source)
            name = None
        self.profile = name
        self._show_info()
        self._fill_mapping()

    def _show_info(self) -> None:
        src = self.source
        detail = (tr("io.csv_detail", encoding=src.encoding, delimiter=repr(src.delimiter))
                  if src.kind == "csv" else tr("io.sheet_detail", sheet=src.sheet)
                  if src.kind == "xlsx" else tr("cli16.cards"))
        lines = [tr("io.reading", path=src.path, format=src.format_label, detail=detail,
                    rows=src.estimated_rows)]
        if self.profile:
            lines.append(tr("import_ui.profile_applied", name=self.profile))
        lines.append(tr("import_ui.confirm_hint"))
        self.query_one("#import-info", Static).update("\n".join(lines))

    def action_pick_profile(self) -> None:
        if self.source is None or self.busy:
            return
        try:
            names = list(importer.load_profiles())
        except importer.ImportFailed as exc:
            self.notify(str(exc), severity="error")
            return
        if not names:
            self.notify(tr("import_ui.no_profiles"))
            return

        def picked(result) -> None:
            if result is not None:
                self._apply_profile(result[1])

        self.app.push_screen(ProfilePicker(names), picked)

    def action_save_profile(self) -> None:
        if self.mapping is None or self.busy:
            return

        def named(name: str | None) -> None:
            if not name:
                return
            try:
                path = importer.save_profile(name, self.mapping)
            except (importer.ImportFailed, OSError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.profile = name
            self._show_info()
            self.notify(tr("io.profile_saved", name=name, path=path))

        self.app.push_screen(ProfileName(self.profile or self.source.path.stem), named)

    def _fill_mapping(self) -> None:
        table = self.query_one(DataTable)
        row = table.cursor_row  # stays on the column just changed
        table.clear(columns=True)
        table.add_column(tr("import.report_column"), key="column", width=24)
        table.add_column(tr("import.report_field"), key="field", width=20)
        table.add_column(tr("import_ui.note"), key="note", width=48)
        for i, (header, label, note) in enumerate(
                importer.mapping_summary(self.mapping, self.app.store.schema)):
            table.add_row(header, label and f"→ {label}", note, key=str(i))
        table.move_cursor(row=min(row, max(table.row_count - 1, 0)))

    def on_data_table_row_selected(self, event) -> None:
        if self.mapping is None or self.busy:
            return
        column = int(event.row_key.value)

        def picked(result) -> None:
            if result is None:
                return
            try:
                self.mapping.set(column, result[1], self.app.store.schema)
            except importer.ImportFailed as exc:
                self.notify(str(exc), severity="error")
            self._fill_mapping()

        self.app.push_screen(FieldPicker(self.app.store.schema, self.mapping.headers[column]), picked)

    def action_dry_run(self) -> None:
        self._start(dry_run=True)

    def action_run_import(self) -> None:
        self._start(dry_run=False)

    def _start(self, dry_run: bool) -> None:
        if self.source is None or self.busy:
            return
        self.busy = True
        update_by = self.query_one("#import-update-by", Input).value.strip() or None
        self.query_one("#import-result", Static).update(tr("io.importing") + "…")
        self.run_worker(lambda: self._work(dry_run, update_by), thread=True, exclusive=True)

    def _work(self, dry_run: bool, update_by: str | None) -> None:
        bar = self.query_one(ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        try:
            result = importer.run_import(self.app.store, self.source, self.mapping,
                                         update_by=update_by, dry_run=dry_run, progress=progress)
        except KehuError as exc:   # a bad file, a refused right: its sentence
            self.app.call_from_thread(self._done, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - a bug: logged by the app's one handler
            self.app.call_from_thread(self._done, self.app.call_from_thread(self.app.report_error, exc))
            return
        key = "io.dry_run_summary" if result.dry_run else "io.import_summary"
        lines = [tr(key, rows=result.rows, created=result.created, updated=result.updated,
                    unchanged=result.unchanged, rejected=result.rejected, empty=result.empty,
                    repeated=result.repeated, batch=result.batch_id)]
        lines += [tr("io.problem", row=p.row, field=p.field, value=p.value, reason=p.reason)
                  for p in result.problems[:5]]
        if result.report:
            lines.append(tr("io.report_at", path=result.report))
        if not result.dry_run:
            lines.append(tr("io.revert_hint", batch=result.batch_id))
        self.app.call_from_thread(self._done, "\n".join(lines))

    def _done(self, text: str) -> None:
        self.busy = False
        self.query_one("#import-result", Static).update(text)

    def action_close(self) -> None:
        if not self.busy:
            self.dismiss()


class ExportScreen(ModalScreen):
    """Export the rows and columns the workbench shows: type a .csv or .xlsx path."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="export.cancel")]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > * { width: 90; background: $panel; }
    """

    def __init__(self, view=None, search: str = "") -> None:
        super().__init__()
        self.view, self.search = view, search

    def compose(self) -> ComposeResult:
        name = self.view.name() if self.view is not None else tr("import_ui.all_customers")
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M")
        key = self.view.key if self.view is not None else "customers"
        yield Label(tr("import_ui.export_title", name=name, search=self.search or "—"))
        yield Input(value=str(Path.cwd() / f"kehu-{key}-{stamp}.xlsx"), id="export-path")
        yield Static(id="export-result")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        store = self.app.store
        try:
            if self.view is not None:
                result = exporter.export(store, event.value.strip(),
                                         rows=self.view.result_set(store, self.search),
                                         columns=self.view.column_keys(store.schema))
            else:
                result = exporter.export(store, event.value.strip())
        except KehuError as exc:   # a bad path or query, a role without export: said
            self.query_one("#export-result", Static).update(str(exc))
            return
        self.app.notify(tr("io.exported", rows=result.rows, columns=len(result.columns),
                           path=result.path))
        self.dismiss(result.path)

    def action_cancel(self) -> None:
        self.dismiss(None)
