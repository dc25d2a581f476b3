"""The import wizard: a file, its column mapping to confirm or change, a dry run,
the import with a progress bar, and what happened (``models.importer`` does the work).

Type the path (Tab completes it as a shell does, → takes the suggestion shown) and
Enter; the header row is found under a title (h picks another row). The mapping
table shows each column, its first values, the field it goes to and why a column
is left out. Enter on a column picks another field, best match for the typed text
first (a field another column had is swapped, and said); p applies a saved mapping
profile (one made for files with these columns is applied when the file opens), s
saves the mapping as a profile; o chooses what rows matching customers kehu has do
(skip, update them, create anyway: ``models.import_dupes``); t imports the rows as
customers, contacts of customers or timeline entries (``models.import_sheets``);
d runs a dry run, c then decides values that match no choice, i imports (optionally
updating customers by the field typed under "update by"), z undoes that import.
Sentences of the models that name CLI flags are said without them (``for_tui``).
F3 exports what the workbench shows (``ExportScreen``).
"""
from __future__ import annotations

import datetime as dt
import inspect
import os
import re
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import Suggester
from textual.widgets import Header, Label, ProgressBar, Static

from kehu.models.errors import KehuError
from kehu.models import exporter, importer, search
from kehu.models.i18n import tr
from kehu.tui.widgets.keyed import DataTable, Input, OptionList
from kehu.tui.widgets.footer import KehuFooter


def name_rank(names, main: set[str], typed: str) -> tuple[int, int] | None:
    """How well ``typed`` fits one of ``names`` (lower is better), None when it does
    not: equal to a name or to its pinyin (whole or initials), then a name beginning
    with it, then containing it; one of the ``main`` names before the others."""
    typed = typed.strip().casefold()
    if not typed:
        return (0, 0)
    best = None
    for name in names:
        for word in (name.casefold(), *search.pinyin_words(name)[:2]):
            how = 0 if word == typed else 1 if word.startswith(typed) else 2 if typed in word else None
            if how is None:
                continue
            rank = (how, 0 if name in main else 1)
            best = rank if best is None or rank < best else best
    return best


def field_rank(spec, typed: str) -> tuple[int, int] | None:
    """``name_rank`` over a field's names (key, labels, aliases; labels and key first):
    typing ``dh`` finds 电话 (initials dh) before 手机, whose alias 移动电话 only
    contains dh."""
    return name_rank(spec.names, {spec.key, *spec.labels.values()}, typed)


class FieldPicker(ModalScreen):
    """Choose the field a column goes to (or none): type to narrow the list (any
    name of a field: key, zh or en label, alias, or the pinyin of the Chinese
    label, whole or its initials), best match first; Enter takes the highlighted
    one, which is the best match for the typed text."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.pick_cancel")]
    DEFAULT_CSS = """
    FieldPicker { align: center middle; }
    FieldPicker > * { width: 64; max-width: 96%; }
    FieldPicker > Label { background: $panel; padding: 0 1; }
    FieldPicker > OptionList { height: 70%; }
    """

    def __init__(self, schema, header: str, samples: list[str] | None = None,
                 used: dict[str, str] | None = None) -> None:
        super().__init__()
        self.schema, self.header = schema, header
        self.samples = samples or []
        self.used = used or {}   # field key -> the other column that has it
        self.keys: list[str | None] = [None] + [f.key for f in schema.fields if not f.computed]
        self.shown: list[str | None] = list(self.keys)

    def compose(self) -> ComposeResult:
        title = tr("import_ui.pick_field", header=self.header)
        if self.samples:
            title += "  " + tr("import_wizard.samples_inline", values=" | ".join(self.samples))
        yield Label(title)
        yield Input(placeholder=tr("import_ui.pick_filter"), id="field-filter")
        yield OptionList(*self._labels(self.shown))

    def _labels(self, keys: list[str | None]) -> list[str]:
        out = []
        for k in keys:
            if k is None:
                out.append(tr("import.note_skipped"))
                continue
            text = f"{self.schema[k].label()}  ({k})"
            if k in self.used:
                text += "  " + tr("import_wizard.used_by", column=self.used[k])
            out.append(text)
        return out

    def on_input_changed(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        ranked = [(field_rank(self.schema[k], typed), i, k) for i, k in enumerate(self.keys)
                  if k is not None] if typed else None
        self.shown = (list(self.keys) if ranked is None
                      else [k for rank, _, k in sorted((r for r in ranked if r[0] is not None),
                                                       key=lambda r: (r[0], r[1]))])
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._labels(self.shown))
        if self.shown:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
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


#: The files the path field completes to (folders always).
IMPORTABLE = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".vcf", ".vcard")


def path_matches(text: str, limit: int = 200) -> list[str]:
    """The folders and importable files ``text`` is the beginning of, written as the
    user wrote the folder part (``~/`` stays ``~/``), a folder ending in ``/``."""
    if not text:
        return []
    head, tail = os.path.split(os.path.expanduser(text))
    typed_head = text[: len(text) - len(tail)]
    try:
        entries = sorted(os.scandir(head or "."), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        if not entry.name.startswith(tail) or (entry.name.startswith(".") and not tail.startswith(".")):
            continue
        try:
            folder = entry.is_dir()
        except OSError:
            continue
        if folder or entry.name.lower().endswith(IMPORTABLE):
            out.append(typed_head + entry.name + (os.sep if folder else ""))
            if len(out) >= limit:
                break
    return out


def complete_path(text: str) -> str:
    """What Tab makes of ``text``: the one match, else the longest beginning all share."""
    matches = path_matches(text)
    if not matches:
        return text
    common = os.path.commonprefix(matches)
    return common if len(common) > len(text) else text


class PathSuggester(Suggester):
    """Shows the first folder or file the typed path completes to (→ or Tab takes it)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        matches = path_matches(value, limit=1)
        return matches[0] if matches else None


class PathInput(Input):
    """The path field: Tab completes the path as a shell does (the app's Tab asks
    ``complete_on_tab`` first), → takes the suggestion shown."""

    def complete_on_tab(self) -> bool:
        # after the keys typed before Tab, which may still wait in this field's queue
        self.call_later(self._complete_or_move)
        return True

    def _complete_or_move(self) -> None:
        done = complete_path(self.value)
        if done == self.value:
            self.screen.focus_next()
            return
        self.value = done
        self.cursor_position = len(done)


def column_samples(source, count: int = 3, scan: int = 200) -> list[list[str]]:
    """The first ``count`` different non-empty values of each column (of the first
    ``scan`` rows), for the user to see what a column holds."""
    out: list[list[str]] = [[] for _ in source.headers]
    try:
        for n, (_, cells) in enumerate(source.rows()):
            if n >= scan:
                break
            for i, cell in enumerate(cells[: len(out)]):
                text = "" if cell is None else " ".join(str(cell).split())
                if text and len(out[i]) < count and text not in out[i]:
                    out[i].append(importer.shown(text)[:24])
            if all(len(values) >= count for values in out):
                break
    except KehuError:
        pass   # the import itself says what is wrong with the file
    return out


_CLI_CLAUSE = re.compile(r"--[a-z]|`?kehu [a-z]")


def strip_cli(text: str) -> str:
    """``text`` without what tells a CLI user which flag or sub-command to use (the
    wizard says which key instead): a clause (between ; or ，) or a bracketed aside
    naming one is left out; '' when nothing else is left."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += ch in "(（" and 1 or (ch in ")）" and -1 or 0)
        if depth == 0 and ch in ";；，":
            parts.append(current + ch)
            current = ""
        else:
            current += ch
    parts.append(current)
    kept = []
    for part in parts:
        if _CLI_CLAUSE.search(_ASIDE.sub("", part)):
            continue
        kept.append(_ASIDE.sub(lambda m: "" if _CLI_CLAUSE.search(m[0]) else m[0], part))
    out = "".join(kept).strip().rstrip(";；,，:：").strip()
    return text[: len(text) - len(text.lstrip())] + out if out else ""


_ASIDE = re.compile(r"\s*[(（][^()（）]*[)）]")


def for_tui(text: str) -> str:
    """A sentence of the models as the wizard says it (see ``strip_cli``)."""
    return strip_cli(text) or text


class HeaderRowPicker(ModalScreen):
    """Which row of the file holds the column names (the first rows are listed)."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.header_cancel")]
    DEFAULT_CSS = """
    HeaderRowPicker { align: center middle; }
    HeaderRowPicker > * { width: 90%; }
    HeaderRowPicker > Label { background: $panel; padding: 0 1; }
    HeaderRowPicker > OptionList { height: auto; max-height: 80%; }
    """

    def __init__(self, rows: list[tuple[int, list[str]]], current: int | None) -> None:
        super().__init__()
        self.rows, self.current = rows, current

    def compose(self) -> ComposeResult:
        yield Label(tr("import_wizard.pick_header"))
        yield OptionList(*[tr("import_wizard.header_line", row=n, cells=" | ".join(c for c in cells if c)[:120],
                                                         mark=" ◀" if n == self.current else "")
                           for n, cells in self.rows])

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        numbers = [n for n, _ in self.rows]
        options.highlighted = numbers.index(self.current) if self.current in numbers else 0

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(self.rows[event.option_index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


class ValueDecision(ModalScreen):
    """A value that matches no choice of its field: map it to a choice, add it to
    the choices, or leave the field empty (the row is imported either way). Typing
    narrows the choices (label, value, synonyms, pinyin), Enter takes the first."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.value_cancel")]
    DEFAULT_CSS = """
    ValueDecision { align: center middle; }
    ValueDecision > * { width: 70; max-width: 96%; }
    ValueDecision > Label { background: $panel; padding: 0 1; }
    ValueDecision > OptionList { height: auto; max-height: 70%; }
    """

    def __init__(self, spec, value: str, count: int, position: str) -> None:
        super().__init__()
        self.spec, self.value, self.count, self.position = spec, value, count, position
        self.all: list[tuple[str, str | None]] = [("add", None), ("empty", None)] + [
            ("map", c.value) for c in spec.choices]
        self.options = list(self.all)

    def compose(self) -> ComposeResult:
        yield Label(tr("import_wizard.value_question", field=self.spec.label(), value=self.value,
                       count=self.count, position=self.position))
        yield Input(placeholder=tr("import_wizard.value_filter"), id="value-filter")
        yield OptionList(*self._labels())

    def _labels(self) -> list[str]:
        out = []
        for how, value in self.options:
            if how == "add":
                out.append(tr("import_wizard.value_add", value=self.value, field=self.spec.label()))
            elif how == "empty":
                out.append(tr("import_wizard.value_empty", field=self.spec.label()))
            else:
                out.append(tr("import_wizard.value_map", choice=self.spec.choice(value).label()))
        return out

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_input_changed(self, event: Input.Changed) -> None:
        typed = event.value.strip()
        if not typed:
            self.options = list(self.all)
        else:
            ranked = []
            for i, (how, value) in enumerate(self.all[2:]):
                choice = self.spec.choice(value)
                rank = name_rank((choice.value, *choice.labels.values(), *choice.synonyms),
                                 {choice.value, *choice.labels.values()}, typed)
                if rank is not None:
                    ranked.append((rank, i, (how, value)))
            self.options = [option for _, _, option in sorted(ranked)]
        options = self.query_one(OptionList)
        options.clear_options()
        options.add_options(self._labels())
        if self.options:
            options.highlighted = 0

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.options:
            self.dismiss(self.options[self.query_one(OptionList).highlighted or 0])

    def on_key(self, event) -> None:
        options = self.query_one(OptionList)
        if self.query_one(Input).has_focus and event.key in ("down", "up"):
            options.action_cursor_down() if event.key == "down" else options.action_cursor_up()
            event.stop()

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(self.options[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class DateOrderPicker(ModalScreen):
    """How the file writes dates like 03/04/2021: day first, month first, or leave them."""

    BINDINGS = [Binding("escape", "cancel", tr("import_ui.cancel"), id="import.date_cancel")]
    DEFAULT_CSS = """
    DateOrderPicker { align: center middle; }
    DateOrderPicker > * { width: 70; max-width: 96%; }
    DateOrderPicker > Label { background: $panel; padding: 0 1; }
    DateOrderPicker > OptionList { height: auto; }
    """
    ORDERS = ("dmy", "mdy", "ymd")

    def __init__(self, example: str) -> None:
        super().__init__()
        self.example = example

    def compose(self) -> ComposeResult:
        yield Label(tr("import_wizard.date_question", value=self.example))
        yield OptionList(*[tr("import_wizard.date_" + order) for order in self.ORDERS])

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = 0

    def on_option_list_option_selected(self, event) -> None:
        self.dismiss(self.ORDERS[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


#: What a row matching a customer kehu has does, in the order o cycles through them.
DUPLICATE_ACTIONS = ("skip", "update", "create")
#: What the rows of the file become, in the order t cycles through them.
TARGETS = ("customers", "contacts", "timeline")


class ImportScreen(Screen):
    BINDINGS = [
        Binding("d", "dry_run", tr("import_ui.dry_run"), id="import.dry_run"),
        Binding("i", "run_import", tr("import_ui.run"), id="import.run"),
        Binding("o", "cycle_duplicates", tr("import_wizard.key_duplicates"), id="import.duplicates"),
        Binding("t", "cycle_target", tr("import_wizard.key_target"), id="import.target"),
        Binding("h", "pick_header", tr("import_wizard.key_header"), id="import.header_row"),
        Binding("c", "decide_values", tr("import_wizard.key_values"), id="import.values"),
        Binding("z", "undo_import", tr("import_wizard.key_undo"), id="import.undo"),
        Binding("p", "pick_profile", tr("import_ui.profiles"), id="import.profile"),
        Binding("s", "save_profile", tr("import_ui.save_profile"), id="import.save_profile"),
        Binding("escape", "close", tr("import_ui.close"), id="import.close"),
    ]
    DEFAULT_CSS = """
    #import-info { height: auto; max-height: 5; }
    #import-mapping { height: auto; max-height: 45%; }
    #import-update-row { height: 1; margin-top: 1; }
    #import-update-row > Label { padding: 0 1; }
    #import-update-by { width: 32; height: 1; border: none; padding: 0 1; }
    #import-options { padding: 0 1; width: 1fr; height: 1; }
    #import-progress { display: none; }
    #import-progress.running { display: block; }
    #import-result-box { height: 1fr; min-height: 3; }
    #import-result { height: auto; }
    """

    def __init__(self, path: str | None = None) -> None:
        super().__init__()
        self.initial = path
        self.source: importer.Source | None = None
        self.mapping: importer.Mapping | None = None
        self.samples: list[list[str]] = []
        self.profile: str | None = None  # the saved mapping applied, if any
        self.busy = False
        self.on_duplicate = "skip"
        self.target = "customers"
        self.last_batch: int | None = None   # the import made here, for z
        self.values = None          # import_values.ValueOptions: decisions for unmatched values
        self.unmatched: list = []   # what the last dry run found matching no choice

    def compose(self) -> ComposeResult:
        yield Header()
        yield PathInput(value=self.initial or "", placeholder=tr("import_ui.path_placeholder"),
                        id="import-path", suggester=PathSuggester())
        yield Static(tr("import_ui.hint"), id="import-info")
        yield DataTable(id="import-mapping", cursor_type="row")
        with Horizontal(id="import-update-row"):
            yield Label(tr("import_ui.update_by"))
            yield Input(placeholder=tr("import_wizard.update_by_placeholder"), id="import-update-by")
            yield Static(id="import-options")
        yield ProgressBar(id="import-progress", show_eta=False)
        with VerticalScroll(id="import-result-box"):   # a long result scrolls at 80x24
            yield Static(id="import-result")
        yield KehuFooter()

    def check_action(self, action: str, parameters) -> bool | None:
        """c and z are shown only when there is something to decide or undo."""
        if action == "decide_values":
            return bool(self.unmatched) or None
        if action == "undo_import":
            return self.last_batch is not None or None
        return True

    def on_mount(self) -> None:
        self._show_options()
        if self.initial:
            self._open(self.initial)
        else:
            self.set_focus(self.query_one("#import-path", Input))  # at once: the path may follow

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "import-path":
            self._open(event.value.strip())

    # --- the file and its mapping ------------------------------------------------

    def _schema(self):
        if self.target == "customers":
            return self.app.store.schema
        from kehu.models import import_sheets

        return import_sheets.target_schema(self.target)

    def _open(self, path: str, header_row: int | None = None) -> None:
        try:
            source = _open_source(Path(path).expanduser(), self.app.store.schema, header_row)
        except KehuError as exc:
            self.query_one("#import-info", Static).update(for_tui(str(exc)))
            self.source = self.mapping = None
            return
        self.source = source
        self.samples = column_samples(source)
        self.values, self.unmatched = _value_options(), []
        self._apply_profile(importer.matching_profile(source) if self.target == "customers" else None)
        self.query_one(DataTable).focus()

    def _apply_profile(self, name: str | None) -> None:
        """Map the columns automatically, then by the saved profile ``name``."""
        schema = self._schema()
        try:
            profile = importer.load_profile(name) if name else None
            self.mapping = importer.auto_mapping(schema, self.source, profile=profile)
        except importer.ImportFailed as exc:
            self.notify(for_tui(str(exc)), severity="error")
            if self.mapping is None:
                self.mapping = importer.auto_mapping(schema, self.source)
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
        header_row = getattr(src, "header_row", None)
        if header_row:
            titles = getattr(src, "titles", None) or getattr(src, "title_rows", None) or []
            lines.append(tr("import_wizard.header_at", row=header_row)
                         + (" " + tr("import_wizard.above_header", text=" / ".join(titles)[:60])
                            if titles else ""))
        if self.profile:
            lines.append(tr("import_ui.profile_applied", name=self.profile))
        lines.append(tr("import_wizard.confirm_hint"))
        self.query_one("#import-info", Static).update("\n".join(lines))

    def _show_options(self) -> None:
        self.query_one("#import-options", Static).update(tr(
            "import_wizard.options", duplicates=tr("import_wizard.dup_" + self.on_duplicate),
            target=tr("import_wizard.target_" + self.target)))

    def action_pick_profile(self) -> None:
        if self.source is None or self.busy or self.target != "customers":
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
        if self.mapping is None or self.busy or self.target != "customers":
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
        wide = self.app.size.width >= 110
        widths = (20, 34, 18) if wide else (14, 22, 12)
        table.add_column(tr("import.report_column"), key="column", width=widths[0])
        table.add_column(tr("import_wizard.samples"), key="samples", width=widths[1])
        table.add_column(tr("import.report_field"), key="field", width=widths[2])
        table.add_column(tr("import_ui.note"), key="note",   # the rest of the width
                         width=max(16, self.app.size.width - sum(widths) - 12))
        for i, (header, label, note) in enumerate(
                importer.mapping_summary(self.mapping, self._schema())):
            samples = " | ".join(self.samples[i]) if i < len(self.samples) else ""
            table.add_row(header, samples, label and f"→ {label}", note, key=str(i))
        table.move_cursor(row=min(row, max(table.row_count - 1, 0)))

    def on_data_table_row_selected(self, event) -> None:
        if self.mapping is None or self.busy:
            return
        column = int(event.row_key.value)
        schema = self._schema()
        used = {k: self.mapping.headers[i] for i, k in self.mapping.mapped if i != column}

        def picked(result) -> None:
            if result is None:
                return
            self._assign(column, result[1])

        samples = self.samples[column] if column < len(self.samples) else []
        self.app.push_screen(FieldPicker(schema, self.mapping.headers[column], samples, used), picked)

    def _assign(self, column: int, key: str | None) -> None:
        """Map ``column`` to ``key``; a column that had ``key`` takes this column's old
        field (a swap), or is left out, and the user is told which."""
        schema = self._schema()
        mapping = self.mapping
        before = mapping.fields[column]
        other = mapping.column_of(key) if key is not None else None
        try:
            mapping.set(column, key, schema)
            if other is not None and other != column:
                if before is not None:
                    mapping.set(other, before, schema)
                    self.notify(tr("import_wizard.swapped", field=schema[key].label(),
                                   column=mapping.headers[column], other=mapping.headers[other],
                                   old=schema[before].label()))
                else:
                    self.notify(tr("import_wizard.moved", field=schema[key].label(),
                                   column=mapping.headers[column], other=mapping.headers[other]),
                                severity="warning")
        except importer.ImportFailed as exc:
            self.notify(for_tui(str(exc)), severity="error")
        self._fill_mapping()

    def action_pick_header(self) -> None:
        if self.source is None or self.busy:
            return
        try:
            from kehu.models import import_read

            rows = import_read.preview_rows(self.source, 20)
        except (ImportError, AttributeError):
            self.notify(tr("import_wizard.header_unavailable"), severity="warning")
            return
        except KehuError as exc:
            self.notify(for_tui(str(exc)), severity="error")
            return

        def picked(number) -> None:
            if number is not None:
                self._open(str(self.source.path), header_row=number)

        self.app.push_screen(HeaderRowPicker(rows, getattr(self.source, "header_row", None)), picked)

    def action_cycle_duplicates(self) -> None:
        if self.busy:
            return
        self.on_duplicate = DUPLICATE_ACTIONS[(DUPLICATE_ACTIONS.index(self.on_duplicate) + 1)
                                              % len(DUPLICATE_ACTIONS)]
        self._show_options()

    def action_cycle_target(self) -> None:
        if self.busy:
            return
        self.target = TARGETS[(TARGETS.index(self.target) + 1) % len(TARGETS)]
        self._show_options()
        if self.source is not None:
            self.mapping = None
            self._apply_profile(None)

    # --- values that match no choice ------------------------------------------------

    def action_decide_values(self) -> None:
        if self.busy or not self.unmatched or self.values is None:
            return
        schema = self.app.store.schema
        todo = [u for u in self.unmatched if getattr(u, "kind", "choice") == "choice"]
        dates = [u for u in self.unmatched if getattr(u, "kind", "choice") == "date"]

        def ask(index: int) -> None:
            if index >= len(todo):
                self.unmatched = []
                self.query_one("#import-result", Static).update(tr("import_wizard.values_decided"))
                self.action_dry_run()
                return
            item = todo[index]
            spec = schema[item.field]

            def decided(choice) -> None:
                if choice is None:
                    return
                how, value = choice
                try:
                    if how == "add":
                        self.values.add_choice(item.field, item.value)
                    elif how == "map":
                        self.values.map_choice(schema, item.field, item.value, value)
                    # "empty": as undecided values are: the field empty, the value in the report
                except KehuError as exc:
                    self.notify(for_tui(str(exc)), severity="error")
                ask(index + 1)

            self.app.push_screen(ValueDecision(spec, item.value, item.count,
                                               f"{index + 1}/{len(todo)}"), decided)

        if not dates:
            ask(0)
            return

        def ordered(order) -> None:   # dates like 03/04/2021 first: one answer for them all
            if order is None:
                return
            self.values.date_order = order
            ask(0)

        self.app.push_screen(DateOrderPicker(dates[0].value), ordered)

    # --- running ---------------------------------------------------------------------

    def action_dry_run(self) -> None:
        self._start(dry_run=True)

    def action_run_import(self) -> None:
        self._start(dry_run=False)

    def _start(self, dry_run: bool) -> None:
        if self.source is None or self.busy:
            return
        update_by = self.query_one("#import-update-by", Input).value.strip() or None
        refusal = self._check(update_by)
        if refusal:
            self.query_one("#import-result", Static).update(refusal)
            return
        self.busy = True
        self.query_one(ProgressBar).add_class("running")
        self.query_one("#import-result", Static).update(tr("io.importing") + "…")
        self.run_worker(lambda: self._work(dry_run, update_by), thread=True, exclusive=True)

    def _check(self, update_by: str | None) -> str | None:
        """What stops the import, said with the wizard's keys (not the CLI's flags)."""
        schema = self._schema()
        missing = importer.missing_required(schema, self.mapping)
        if missing:
            return tr("import_wizard.required_unmapped", fields=", ".join(s.label() for s in missing))
        if update_by and self.target == "customers":
            spec = schema.get(update_by) or schema.resolve(update_by)
            if spec is None:
                return tr("import_wizard.update_by_unknown", field=update_by)
            if self.mapping.column_of(spec.key) is None:
                return tr("import_wizard.update_by_unmapped", field=spec.label())
        return None

    def _work(self, dry_run: bool, update_by: str | None) -> None:
        bar = self.query_one(ProgressBar)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(bar.update, total=max(total, 1), progress=done)

        try:
            if self.target != "customers":
                from kehu.models import import_sheets

                result = import_sheets.run_import(self.app.store, self.source, self.mapping,
                                                  self.target, dry_run=dry_run)
            else:
                extra = {"values": self.values} if self.values is not None else {}
                result = importer.run_import(self.app.store, self.source, self.mapping,
                                             update_by=update_by, dry_run=dry_run, progress=progress,
                                             on_duplicate=self.on_duplicate, **extra)
        except KehuError as exc:   # a bad file, a refused right: its sentence
            self.app.call_from_thread(self._done, for_tui(str(exc)))
            return
        except Exception as exc:  # noqa: BLE001 - a bug: logged by the app's one handler
            self.app.call_from_thread(self._done, self.app.call_from_thread(self.app.report_error, exc))
            return
        self.app.call_from_thread(self._finished, result)

    def _finished(self, result) -> None:
        if self.target != "customers":   # contacts or timeline entries: added, as the CLI says
            key = "import_sheets.dry_summary" if result.dry_run else "import_sheets.summary"
            lines = [tr(key, target=tr("import_sheets.target_" + self.target), rows=result.rows,
                        created=result.created, rejected=result.rejected, empty=result.empty)]
        else:
            key = "io.dry_run_summary" if result.dry_run else "io.import_summary"
            lines = [tr(key, rows=result.rows, created=result.created, updated=result.updated,
                        unchanged=result.unchanged, rejected=result.rejected, empty=result.empty,
                        repeated=result.repeated, batch=result.batch_id)]
        dupes = getattr(result, "duplicates", None)
        if dupes is not None and dupes.matched:
            lines.append(dupes.summary() + " " + tr("import_wizard.dup_hint"))
            lines += ["  " + line for line in dupes.example_lines()[:3]]
        lines += [for_tui(tr("io.problem", row=p.row, field=p.field, value=p.value, reason=p.reason))
                  for p in result.problems[:4]]
        if self.values is not None and getattr(result, "unmatched", None):
            # values the user chose to add (the dry run adds nothing): said as decided
            adding = [u for u in result.unmatched if self.values.adds(u.field, u.value)]
            result.unmatched = [u for u in result.unmatched if u not in adding]
            if adding and result.dry_run:
                lines.append(tr("import_wizard.will_add", values=", ".join(
                    tr("import_wizard.field_value", field=u.label, value=u.value) for u in adding)))
        lines += [line for line in map(strip_cli, _value_lines(result, self.values)) if line.strip()]
        self.unmatched = [u for u in getattr(result, "unmatched", None) or []
                          if getattr(u, "kind", "choice") in ("choice", "date")]
        choices = [u for u in self.unmatched if getattr(u, "kind", "choice") == "choice"]
        if choices:   # right under the summary: at 80x24 the box shows its first 4 lines
            lines.insert(1, tr("import_wizard.unmatched", count=len(choices)))
        if len(choices) < len(self.unmatched):
            lines.append(tr("import_wizard.dates_hint"))
        if result.report:
            lines.append(tr("io.report_at", path=result.report))
        if not result.dry_run:
            self.last_batch = result.batch_id
            if result.batch_id is not None:
                lines.append(tr("import_wizard.undo_hint", batch=result.batch_id))
        self._done("\n".join(lines))

    def _done(self, text: str) -> None:
        self.busy = False
        self.query_one(ProgressBar).remove_class("running")
        self.query_one("#import-result", Static).update(text)
        self.refresh_bindings()

    def action_undo_import(self) -> None:
        if self.busy or self.last_batch is None:
            return
        from kehu.tui.screens.confirm import ConfirmScreen

        batch = self.last_batch

        def answered(answer) -> None:
            if answer != "yes":
                return
            try:
                done = importer.revert_import(self.app.store, batch)
            except KehuError as exc:
                self.query_one("#import-result", Static).update(for_tui(str(exc)))
                return
            self.last_batch = None
            self.refresh_bindings()
            self.query_one("#import-result", Static).update(tr(
                "io.reverted", batch=done.batch_id, deleted=done.deleted, hidden=done.hidden,
                restored=done.restored, skipped=len(done.skipped)))

        self.app.push_screen(ConfirmScreen(tr("import_wizard.undo_question", batch=batch)), answered)

    def action_close(self) -> None:
        if not self.busy:
            self.dismiss()


def _open_source(path: Path, schema, header_row: int | None):
    """``importer.open_source`` with the header row detected by the schema's names, or
    the row the user chose (where the reader offers them)."""
    params = inspect.signature(importer.open_source).parameters
    kwargs = {}
    if "schema" in params:
        kwargs["schema"] = schema
    if header_row is not None and "header_row" in params:
        kwargs["header_row"] = header_row
    return importer.open_source(path, **kwargs)


def _value_lines(result, options) -> list[str]:
    """What became of values (choices added, values matching none, contacts, purchases)."""
    if options is None or not hasattr(result, "unmatched"):
        return []
    from kehu.models import import_values

    return import_values.report_lines(result, options)


def _value_options():
    """The decisions for values matching no choice (None where the importer has none)."""
    try:
        from kehu.models import import_values
    except ImportError:
        return None
    if "values" not in inspect.signature(importer.run_import).parameters:
        return None
    return import_values.ValueOptions()


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
