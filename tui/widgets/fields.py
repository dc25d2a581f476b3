"""The form widgets of customer fields: one ``FieldSpec`` → one widget.

``make_widget`` picks the widget fitting a field's type, ``to_raw`` /
``read_raw`` / ``write_raw`` move values in and out of it, and ``FieldRow``
adds the label (required ``*``, sensitive ``◆``), the message under the field
and a hint. ``FieldForm`` lays rows out by schema group and validates through
``models.validate.clean`` as the user types (lightly debounced), on leaving a
field and on save. Nothing here lists fields: everything comes from the specs.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.suggester import Suggester
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Checkbox, Input, Label, Select, Static, TextArea

from kehu.models.i18n import tr
from kehu.models.schema import FieldSpec, Schema
from kehu.models.validate import MINUTES, TAG_SPLIT_RE, FieldError, clean, display

#: What may be typed into a field of a given type (the validator has the last word).
RESTRICT = {
    "integer": r"[-+0-9.,，\s万亿kK]*",
    "money": r"[-+0-9.,，\s万亿kKmM¥￥$€£元]*",
    "decimal": r"[-+0-9.,，\s万亿kKmM]*",
    "date": r"[0-9\-/.]*",
    "datetime": r"[0-9\-/.: T]*",
    "phone": r"[-+0-9()\s#转xX.]*",
}
PLACEHOLDER = {"date": "YYYY-MM-DD", "datetime": "YYYY-MM-DD HH:MM", "email": "name@example.com",
               "url": "https://", "phone": "138 0013 8000 / 010-12345678"}
REQUIRED_MARK = " *"
SENSITIVE_MARK = " ◆"


class TagSuggester(Suggester):
    """Completes the tag being typed (after the last comma) from the field's choices."""

    def __init__(self, spec: FieldSpec):
        super().__init__(use_cache=False, case_sensitive=True)
        self.labels = [c.label() for c in spec.choices]

    async def get_suggestion(self, value: str) -> str | None:
        parts = TAG_SPLIT_RE.split(value)
        typed = parts[-1].lstrip()
        if not typed:
            return None
        already = {p.strip().casefold() for p in parts[:-1]}
        for label in self.labels:
            if label.casefold().startswith(typed.casefold()) and label.casefold() not in already:
                return value + label[len(typed):]
        return None


def field_label(spec: FieldSpec) -> str:
    return (spec.label() + (REQUIRED_MARK if spec.required and not spec.computed else "")
            + (SENSITIVE_MARK if spec.sensitive else ""))


def field_hint(spec: FieldSpec) -> str:
    """The line shown under a focused field: its help, else what it accepts."""
    if spec.help:
        from kehu.models.i18n import label

        return label(spec.help)
    if spec.type == "tags" and spec.choices:
        return tr("detail.choices_hint", choices=", ".join(c.label() for c in spec.choices))
    if spec.type == "phone":
        return tr("detail.phone_hint")
    return ""


def to_raw(spec: FieldSpec, value: Any) -> Any:
    """A stored value as its widget holds it (text for inputs, value for selects)."""
    if spec.type == "boolean":
        return bool(value)
    if spec.type == "choice":
        return None if value in (None, "") else value
    if value is None:
        return ""
    if spec.type == "longtext":
        return str(value)
    if spec.type == "datetime" and isinstance(value, dt.datetime):
        return value.strftime(MINUTES)
    return display(spec, value)


def make_widget(spec: FieldSpec, value: Any, *, id: str) -> Widget:
    """The widget fitting the field's type, holding ``value``."""
    raw = to_raw(spec, value)
    if spec.computed:
        return Static(display(spec, value) or tr("detail.blank"), id=id, classes="computed")
    if spec.type == "longtext":
        return TextArea(raw, id=id, soft_wrap=True, tab_behavior="focus", compact=True,
                        show_line_numbers=False, highlight_cursor_line=False)
    if spec.type == "choice":
        options = [(c.label(), c.value) for c in spec.choices]
        if raw is not None and spec.choice(raw) is None:
            options.append((str(raw), raw))  # a value from before the choices changed: kept
        return Select(options, value=Select.NULL if raw is None else raw, prompt=tr("detail.blank"),
                      allow_blank=True, compact=True, id=id)
    if spec.type == "boolean":
        return Checkbox(display(spec, raw), raw, compact=True, id=id)  # label says yes / no
    return Input(raw, placeholder=PLACEHOLDER.get(spec.type, ""), restrict=RESTRICT.get(spec.type),
                 suggester=TagSuggester(spec) if spec.type == "tags" and spec.choices else None,
                 compact=True, id=id, select_on_focus=False)


def read_raw(widget: Widget) -> Any:
    if isinstance(widget, Input):
        return widget.value
    if isinstance(widget, TextArea):
        return widget.text
    if isinstance(widget, Select):
        return None if widget.is_blank() else widget.value
    if isinstance(widget, Checkbox):
        return widget.value
    return None


def write_raw(widget: Widget, spec: FieldSpec, value: Any) -> None:
    raw = to_raw(spec, value)
    if isinstance(widget, Input):
        widget.value = raw
    elif isinstance(widget, TextArea):
        widget.load_text(raw)
    elif isinstance(widget, Select):
        if raw is None:
            widget.clear()
        else:
            widget.value = raw
    elif isinstance(widget, Checkbox):
        widget.value = raw
    elif isinstance(widget, Static):
        widget.update(display(spec, value) or tr("detail.blank"))


def same_value(spec: FieldSpec, a: Any, b: Any) -> bool:
    """Equal as stored (a boolean never set counts as no)."""
    if spec.type == "boolean":
        return bool(a) == bool(b)
    if a in (None, "") and b in (None, ""):
        return True
    return a == b


class FieldRow(Vertical):
    """Label and widget side by side; under them, the field's message (an error,
    or a hint while the field has focus), mounted only when there is one."""

    DEFAULT_CSS = """
    FieldRow { height: auto; }
    FieldRow > .field-line { height: auto; }
    FieldRow .field-label { width: 22; padding-right: 1; color: $text-muted; }
    FieldRow:focus-within .field-label { color: $text; text-style: bold; }
    FieldRow Input, FieldRow Select, FieldRow .computed { width: 1fr; }
    FieldRow Checkbox { width: 1fr; }
    FieldRow .computed { color: $text-muted; text-style: italic; }
    FieldRow TextArea { height: 4; width: 1fr; }
    FieldRow Input, FieldRow TextArea { background: $boost; }
    FieldRow Input:focus, FieldRow TextArea:focus { background: $primary 25%; }
    FieldRow > .field-note { padding-left: 22; height: auto; color: $text-muted; }
    FieldRow > .field-note.-error { color: $error; }
    FieldRow.-invalid .field-label { color: $error; }
    """

    def __init__(self, spec: FieldSpec, value: Any = None, *, original: Any = None):
        """``value`` is shown; ``original`` is what counts as unchanged (the stored
        value when editing, the default for a new customer)."""
        super().__init__(id=f"row-{spec.key}")
        self.spec = spec
        self.shown = value
        self.original = original
        self.initial_raw = to_raw(spec, original)
        self.error: str | None = None
        self.hint = "" if spec.computed else field_hint(spec)

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-line"):
            yield Label(field_label(self.spec), classes="field-label")
            yield make_widget(self.spec, self.shown, id=f"field-{self.spec.key}")

    @property
    def note(self) -> str:
        """The text under the field now ('' when none)."""
        notes = self.query(".field-note")
        return str(notes.first().render()) if notes and notes.first().display else ""

    def _show_note(self) -> None:
        text = self.error or (self.hint if self.has_focus_within else "")
        notes = self.query(".field-note")
        if not text:
            if notes:
                notes.first().display = False
            return
        if notes:
            note = notes.first()
            note.update(text)
        else:
            note = Static(text, classes="field-note")
            self.mount(note)
        note.display = True
        note.set_class(self.error is not None, "-error")

    def on_descendant_focus(self) -> None:
        self._show_note()

    def on_descendant_blur(self) -> None:
        self.call_after_refresh(self._show_note)

    @property
    def widget(self) -> Widget:
        return self.query_one(f"#field-{self.spec.key}")

    @property
    def raw(self) -> Any:
        return read_raw(self.widget)

    @property
    def touched(self) -> bool:
        """The user changed what the field shows since it was loaded."""
        return not self.spec.computed and self.raw != self.initial_raw

    @property
    def changed(self) -> bool:
        """Touched, and the value to store differs (or does not validate)."""
        if not self.touched:
            return False
        try:
            return not same_value(self.spec, self.check(), self.original)
        except FieldError:
            return True

    def check(self) -> Any:
        """The value to store, or ``FieldError``."""
        return clean(self.spec, self.raw)

    def validate(self) -> bool:
        try:
            self.check()
        except FieldError as exc:
            self.set_error(exc.message)
            return False
        self.set_error(None)
        return True

    def set_error(self, message: str | None) -> None:
        self.error = message
        self.set_class(message is not None, "-invalid")
        self._show_note()

    def tidy(self) -> None:
        """Show a valid typed value the way it is read: formatted phone, ISO date, 1,234.00."""
        if not isinstance(self.widget, Input) or self.spec.type == "text":
            return
        try:
            value = self.check()
        except FieldError:
            return
        tidy = to_raw(self.spec, value)
        if tidy != self.raw:
            self.widget.value = tidy

    def load(self, value: Any) -> None:
        self.original = value
        write_raw(self.widget, self.spec, value)
        self.initial_raw = to_raw(self.spec, value)
        self.set_error(None)

    def focus_widget(self) -> None:
        # at once, not deferred: keys typed right after the key that got here go in
        self.screen.set_focus(self.widget)
        self.scroll_visible()


class FieldForm(VerticalScroll):
    """Rows for ``specs``, in sections by schema group; validation as you type."""

    DEBOUNCE_SECONDS = 0.3
    DEFAULT_CSS = """
    FieldForm { height: 1fr; padding: 0 1; }
    FieldForm > .form-section { margin-top: 1; padding: 0 1; background: $boost;
                                color: $accent; text-style: bold; }
    FieldForm > .form-section.-first { margin-top: 0; }
    """

    def __init__(self, schema: Schema, specs: Iterable[FieldSpec], values: dict[str, Any],
                 *, originals: dict[str, Any] | None = None, sections: bool = True,
                 id: str | None = None):
        """``values`` are shown; ``originals`` (default: ``values``) count as unchanged."""
        super().__init__(id=id)
        self.schema = schema
        self.specs = list(specs)
        self.values = values
        self.originals = values if originals is None else originals
        self.sections = sections
        self._debounce: dict[str, Timer] = {}

    def compose(self) -> ComposeResult:
        if not self.sections:
            for spec in self.specs:
                yield self._row(spec)
            return
        first = True
        for group in self.schema.groups:
            specs = [s for s in self.specs if s.group == group.key]
            if not specs:
                continue
            yield Static(group.label(), classes="form-section" + (" -first" if first else ""),
                         id=f"section-{group.key}")
            first = False
            for spec in specs:
                yield self._row(spec)

    def _row(self, spec: FieldSpec) -> FieldRow:
        return FieldRow(spec, self.values.get(spec.key), original=self.originals.get(spec.key))

    @property
    def rows(self) -> list[FieldRow]:
        return list(self.query(FieldRow))

    def row(self, key: str) -> FieldRow:
        return self.query_one(f"#row-{key}", FieldRow)

    def _row_of(self, widget: Widget) -> FieldRow | None:
        for node in widget.ancestors_with_self:
            if isinstance(node, FieldRow):
                return node
        return None

    # -- validation as you type -------------------------------------------
    def _validate_soon(self, widget: Widget) -> None:
        row = self._row_of(widget)
        if row is None or not row.is_mounted:
            return
        old = self._debounce.pop(row.spec.key, None)
        if old is not None:
            old.stop()
        if row.raw == row.initial_raw and row.error is None:
            return
        self._debounce[row.spec.key] = self.set_timer(self.DEBOUNCE_SECONDS, row.validate)

    def _validate_now(self, widget: Widget) -> None:
        row = self._row_of(widget)
        if row is not None and row.is_mounted and (row.touched or row.error):
            row.validate()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._validate_soon(event.input)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        self._validate_soon(event.text_area)

    def on_select_changed(self, event: Select.Changed) -> None:
        self._validate_now(event.select)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        row = self._row_of(event.checkbox)
        if row is not None:
            event.checkbox.label = display(row.spec, event.value)
        self._validate_now(event.checkbox)

    def on_input_blurred(self, event: Input.Blurred) -> None:
        row = self._row_of(event.input)
        if row is not None and (row.touched or row.error) and row.validate():
            row.tidy()

    # -- the whole form ---------------------------------------------------
    def collect(self, *, only_touched: bool) -> tuple[dict[str, Any], list[FieldRow]]:
        """Values to store and the rows that refuse theirs (messages shown).

        ``only_touched`` (editing): only what the user changed is checked and
        returned, so an old value the rules no longer accept does not block a save.
        """
        values: dict[str, Any] = {}
        bad: list[FieldRow] = []
        for row in self.rows:
            if row.spec.computed or (only_touched and not row.touched):
                continue
            try:
                value = row.check()
            except FieldError as exc:
                row.set_error(exc.message)
                bad.append(row)
                continue
            row.set_error(None)
            if not only_touched or not same_value(row.spec, value, row.original):
                values[row.spec.key] = value
        return values, bad

    @property
    def dirty(self) -> bool:
        return any(row.changed for row in self.rows)

    def raw_values(self) -> dict[str, Any]:
        """What the user typed, cleaned where it validates (to carry to another form)."""
        out = {}
        for row in self.rows:
            try:
                out[row.spec.key] = row.check()
            except FieldError:
                out[row.spec.key] = row.raw
        return out

    def load(self, values: dict[str, Any]) -> None:
        for row in self.rows:
            row.load(values.get(row.spec.key))

    def focus_field(self, key: str | None = None) -> None:
        rows = [r for r in self.rows if not r.spec.computed]
        target = next((r for r in rows if r.spec.key == key), rows[0] if rows else None)
        if target is not None:
            target.focus_widget()

    def focused_row(self) -> FieldRow | None:
        focused = self.screen.focused
        return self._row_of(focused) if focused is not None else None
