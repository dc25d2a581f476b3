"""Importing the spreadsheets people keep today: CSV and XLSX into customers.

1. ``open_source(path)`` reads the header row of a CSV (encoding — UTF-8, GBK,
   GB18030, Big5 … — and delimiter detected) or an XLSX sheet, the header found
   below a title row (``import_read``), and recognises Google Contacts and Outlook
   exports (``import_formats.yaml``).
2. ``auto_mapping(schema, source)`` maps each column to a customer field by the
   schema's names (key, zh/en label, aliases); a saved profile or explicit
   overrides change it.
3. ``run_import(store, source, mapping)`` validates every value through
   ``validate.clean``, creates or (``update_by``) updates customers in one
   transaction, writes the rejected rows as they were, with the reason, to a
   rejects file (``import_read.RejectsFile``; columns no field takes are kept in
   the customer's ``extra``) and records the import so ``revert_import`` can undo it.
"""
from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import os
import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import peewee
import yaml

from .errors import KehuError
from . import search
from .exporter import csv_text, csv_unquote
from .config import config_dir, data_dir
from . import i18n, import_read, validate
from . import import_values
from .i18n import label as pick_label
from .i18n import tr
from .io_tables import from_json, io_models, to_json
from .schema import FieldSpec, Schema, _fold
from .store import InsertPlan, Store, _chunks, now
from .validate import MINUTES, FieldError, clean, default_value, is_empty
from .workers import WorkerFailed, ordered_stream
from .workers import start as start_workers

FORMATS_PATH = Path(__file__).with_name("import_formats.yaml")
DELIMITERS = (",", "\t", ";", "|")
CHUNK = 5000
#: From this many rows an import into a smaller table builds the indexes once at the end.
BULK_ROWS = 20_000
#: From this many rows the values are cleaned in worker processes (starting one takes ~1 s).
PARALLEL_ROWS = 50_000
#: Rows cleaned per chunk (a worker streams chunks; at most workers.OUTBOX_FRAMES wait).
WORKER_CHUNK = 2000
Progress = Callable[[int, int], None]


class ImportFailed(KehuError):
    """An import that cannot start or a revert that cannot run; ``str()`` is one sentence."""


# --- reading the file -----------------------------------------------------

def _formats() -> dict[str, Any]:
    return yaml.safe_load(FORMATS_PATH.read_text(encoding="utf-8"))


def detect_encoding(path: Path) -> str:
    """utf-8-sig, utf-16, utf-8, gbk, gb18030, big5 or charset-normalizer's guess — one that
    decodes the whole file (``import_read.detect_encoding``)."""
    encoding = import_read.detect_encoding(path)
    if encoding is None:
        raise ImportFailed(tr("import_read.unknown_encoding", path=path))
    return encoding


def detect_delimiter(first_line: str) -> str:
    """The delimiter the given lines use most (a comma when none appears)."""
    return import_read.detect_delimiter([first_line], DELIMITERS)


def _cell(value: Any) -> Any:
    """An XLSX cell as import wants it: whole floats as int (phones typed as numbers)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


@dataclass
class Source:
    """A file to import: its header row and how its rows are read."""
    path: Path
    kind: str  # "csv" or "xlsx"
    headers: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    format: str | None = None  # a key of import_formats.yaml when recognised
    estimated_rows: int = 0
    _skip: int = 0  # rows (CSV records) before the header row
    epoch: Any = None  # an XLSX workbook's date system (1900 or 1904), for serial dates
    titles: list[str] = field(default_factory=list)  # the text of the rows above the header

    @property
    def header_row(self) -> int:
        """The header's row number as a spreadsheet shows it (1 = the first row)."""
        return self._skip + 1

    def with_header_row(self, number: int, schema: Schema | None = None) -> "Source":
        """This file read again with row ``number`` (1-based) as its header."""
        return open_source(self.path, encoding=self.encoding if self.kind == "csv" else None,
                           delimiter=self.delimiter, sheet=self.sheet, header_row=number,
                           schema=schema)

    @property
    def format_label(self) -> str:
        if not self.format:
            return self.kind.upper()
        return pick_label(_formats()["formats"][self.format]["label"])

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as a spreadsheet shows it, cells) for every row below the header."""
        if self.kind == "xlsx":
            yield from self._xlsx_rows()
            return
        csv.field_size_limit(sys.maxsize)  # also in a worker process
        number = 0
        try:
            with open(self.path, encoding=self.encoding, newline="") as fh:
                reader = csv.reader(fh, delimiter=self.delimiter or ",")
                for number, cells in enumerate(reader, start=1):
                    if number <= self._skip + 1:
                        continue
                    yield number, cells
        except UnicodeDecodeError as exc:  # a bad byte far into a file given --encoding (text is
            # decoded in blocks: the row is the last one read whole)
            raise ImportFailed(tr("import.wrong_encoding_row", path=self.path, encoding=self.encoding,
                                  row=number, error=exc.reason)) from None

    def _xlsx_rows(self):
        wb = _open_workbook(self.path)
        try:
            ws = wb[self.sheet] if self.sheet else wb.worksheets[0]
            for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
                if number <= self._skip + 1:
                    continue
                yield number, [_cell(v) for v in values]
        finally:
            wb.close()


def _open_workbook(path: Path):
    import openpyxl

    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
        raise ImportFailed(tr("import.bad_xlsx", path=path, error=str(exc) or type(exc).__name__)) from None


def open_source(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None,
                sheet: str | None = None, header_row: int | None = None,
                schema: Schema | None = None) -> Source:
    """Read the header row of ``path`` and detect what can be detected: the header is
    row ``header_row`` (1-based) if given, else the row of the first ones naming most
    fields of ``schema`` (default: kehu's default schema) — see ``import_read``."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(tr("import.no_file", path=path))
    suffix = path.suffix.lower()
    if suffix in (".vcf", ".vcard"):  # vCard: its own reader (models/vcard.py)
        from .vcard import open_vcard
        return open_vcard(path)
    if suffix == ".xls":
        raise ImportFailed(tr("import.old_xls", path=path))
    if suffix in (".xlsx", ".xlsm"):
        source = _open_xlsx(path, sheet, header_row, schema)
    else:
        source = _open_csv(path, encoding, delimiter, header_row, schema)
    if not any(h for h in source.headers):
        raise ImportFailed(tr("import.no_header", path=path))
    source.format = recognise_format(source.headers)
    return source


def _header_names(schema: Schema | None) -> set[str]:
    if schema is None:
        from .schema import load_schema

        schema = load_schema()
    return import_read.known_names(schema)


def _open_csv(path: Path, encoding: str | None, delimiter: str | None,
              header_row: int | None = None, schema: Schema | None = None) -> Source:
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise ImportFailed(tr("import.bad_encoding_name", encoding=encoding)) from None
    else:
        encoding = detect_encoding(path)
    csv.field_size_limit(sys.maxsize)
    sep_line = 0
    try:
        with open(path, encoding=encoding, newline="") as fh:
            first = fh.readline()
            if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
                delimiter, sep_line = delimiter or first.strip()[4], 1  # Excel's "sep=;" line
            head = [first] + [fh.readline() for _ in range(import_read.SCAN_ROWS)]
        delimiter = delimiter or import_read.detect_delimiter(head[sep_line:], DELIMITERS)
        rows = import_read.first_rows_csv(path, encoding, delimiter,   # a header given: as far
                                          max(import_read.SCAN_ROWS, (header_row or 0) + 1))
    except UnicodeDecodeError as exc:
        raise ImportFailed(tr("import.wrong_encoding", path=path, encoding=encoding,
                              error=exc.reason)) from None
    if sep_line:   # a spreadsheet does not show the "sep=" line: its row 1 is the next
        rows[0] = []
    skip = (import_read.check_header_row(path, header_row + sep_line, rows) if header_row
            else import_read.detect_header_row(rows, _header_names(schema)))
    headers = rows[skip] if rows else []
    with open(path, "rb") as fh:
        lines = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))
    headers = [h.strip().lstrip("\ufeff") for h in headers]
    return Source(path, "csv", headers, encoding=encoding, delimiter=delimiter,
                  estimated_rows=max(lines - skip - 1, 0), _skip=skip,
                  titles=import_read.title_rows(rows, skip))


def _open_xlsx(path: Path, sheet: str | None, header_row: int | None = None,
               schema: Schema | None = None) -> Source:
    wb = _open_workbook(path)
    try:
        if sheet and sheet not in wb.sheetnames:
            raise ImportFailed(tr("import.no_sheet", sheet=sheet, sheets=", ".join(wb.sheetnames)))
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows = [list(r) for r in ws.iter_rows(max_row=max(import_read.SCAN_ROWS, header_row or 0),
                                              values_only=True)]
        skip = (import_read.check_header_row(path, header_row, rows) if header_row
                else import_read.detect_header_row(rows, _header_names(schema)))
        headers = ["" if v is None else str(_cell(v)) for v in rows[skip]] if rows else []
        total = max((ws.max_row or 0) - skip - 1, 0)
        name = ws.title
        epoch = wb.epoch
    finally:
        wb.close()
    while headers and not headers[-1]:
        headers.pop()
    return Source(path, "xlsx", headers, sheet=name, estimated_rows=total, _skip=skip,
                  epoch=epoch, titles=import_read.title_rows(rows, skip))


def recognise_format(headers: list[str]) -> str | None:
    """'google_contacts', 'outlook' or None, from the header names."""
    folded = {_fold(h) for h in headers}
    for key, fmt in _formats()["formats"].items():
        for required in fmt.get("detect", []):
            if all(_fold(h) in folded for h in required):
                return key
    return None


# --- mapping columns to fields -----------------------------------------------

@dataclass
class Mapping:
    """Which field each column goes to; ``notes`` say why a column is not imported."""
    headers: list[str]
    fields: list[str | None]
    notes: dict[int, str] = field(default_factory=dict)
    name_parts: dict[str, int] = field(default_factory=dict)
    #: columns left out for good (skipped by the user, ignored by the file's format, a
    #: rejects file's own columns); every other unmapped column is kept in ``extra``
    dropped: set[int] = field(default_factory=set)
    keep_extra: bool = True  # False: --skip-unmapped, nothing kept in extra
    #: columns that are not customer fields: "contact.name", "purchase.total", "phone:N" …
    #: (models/import_values.py)
    roles: dict[int, str] = field(default_factory=dict)

    @property
    def extra_columns(self) -> list[int]:
        """The columns kept in the customer's Other columns (``extra``)."""
        if not self.keep_extra:
            return []
        parts = set(self.name_parts.values())
        return [i for i, k in enumerate(self.fields)
                if k is None and i not in self.dropped and i not in parts]

    def by_header(self) -> dict[str, str | None]:
        """Header → field key ('@contact.name' for a role, import_values), as profiles save it."""
        return {h: import_values.as_target(self, i) for i, h in enumerate(self.headers) if h}

    @property
    def mapped(self) -> list[tuple[int, str]]:
        return [(i, k) for i, k in enumerate(self.fields) if k]

    def column_of(self, key: str) -> int | None:
        return next((i for i, k in enumerate(self.fields) if k == key), None)

    def set(self, column: int, key: str | None, schema: Schema) -> None:
        """Map one column (the TUI wizard and ``--map``): a field another column had is moved."""
        if key is not None:
            spec = schema.get(key)
            if spec is None or spec.computed:
                raise ImportFailed(tr("import.map_unknown_field", field=key,
                                      header=self.headers[column]))
            for i, other in enumerate(self.fields):
                if other == key and i != column:
                    self.fields[i] = None
                    self.notes[i] = tr("import.note_duplicate", field=spec.label())
        self.fields[column] = key
        self.notes.pop(column, None)
        self.dropped.discard(column)
        self.roles.pop(column, None)
        if key is None:
            self.notes[column] = tr("import.note_skipped")
            self.dropped.add(column)


def _resolve_user_field(schema: Schema, name: str | None) -> str | None:
    if name is None or str(name).strip() in ("", "-"):
        return None
    spec = schema.get(str(name)) or schema.resolve(str(name))
    if spec is None:
        raise ImportFailed(tr("import.unknown_field", field=name))
    return spec.key


def auto_mapping(schema: Schema, source: Source, *, profile: dict[str, Any] | None = None,
                 overrides: dict[str, str | None] | None = None) -> Mapping:
    """Columns mapped by the schema's names, then a saved profile, then overrides.

    ``profile`` and ``overrides`` map a header to a field name (key, label or
    alias) or to None/'' to leave the column out.
    """
    fmt = _formats()["formats"].get(source.format or "", {})
    ignored = {_fold(h) for h in fmt.get("ignore", [])}
    mapping = Mapping(list(source.headers), [None] * len(source.headers))
    taken: dict[str, int] = {}
    own_columns = import_read.rejects_headers()
    for i, header in enumerate(source.headers):
        if not header:
            continue
        if _fold(header) in own_columns:   # a rejects file imported again: its reason and row
            mapping.notes[i] = tr("import_read.note_rejects_column")
            mapping.dropped.add(i)
            continue
        if _fold(header) in ignored:
            mapping.notes[i] = tr("import.note_format_ignores", format=source.format_label)
            mapping.dropped.add(i)
            continue
        spec = import_read.resolve_header(schema, header)
        if spec is None:
            mapping.notes[i] = tr("import.note_unknown")
        elif spec.computed:
            mapping.notes[i] = tr("import.note_computed", field=spec.label())
        elif spec.key in taken:
            mapping.notes[i] = tr("import.note_duplicate", field=spec.label())
        else:
            mapping.fields[i] = spec.key
            taken[spec.key] = i
    import_values.refine_mapping(schema, source, mapping)   # contacts, purchases, typed phones
    for extra in (profile or {}), (overrides or {}):
        by_fold = {_fold(h): i for i, h in enumerate(source.headers) if h}
        for header, name in extra.items():
            column = by_fold.get(_fold(header))
            if column is None:
                if extra is overrides:
                    raise ImportFailed(tr("import.no_such_column", header=header,
                                          headers=", ".join(h for h in source.headers if h)))
                continue
            if import_values.apply_target(mapping, column, name):
                continue   # '@contact.name' …: a role, not a field
            key = _resolve_user_field(schema, name)
            if key is None and extra is profile and mapping.fields[column] is None:
                continue   # a profile's unmapped column: kept in extra as auto-mapping has it
            mapping.set(column, key, schema)
    parts = _formats().get("name_parts", {})
    for part, names in parts.items():
        folded = {_fold(n) for n in names}
        column = next((i for i, h in enumerate(source.headers)
                       if _fold(h) in folded and mapping.fields[i] is None), None)
        if column is not None:
            mapping.name_parts[part] = column
            mapping.notes[column] = tr("import.note_name_part")
    return mapping


def missing_required(schema: Schema, mapping: Mapping) -> list[FieldSpec]:
    """Required fields no column provides (and no default fills)."""
    have = {k for _, k in mapping.mapped}
    if mapping.name_parts:
        have.add("name")
    return [s for s in schema.fields
            if s.required and not s.computed and s.key not in have and s.default is None]


# --- saved mapping profiles ---------------------------------------------------

def profiles_path() -> Path:
    return config_dir() / "import_profiles.yaml"


def load_profiles() -> dict[str, dict[str, str | None]]:
    path = profiles_path()
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ImportFailed(tr("import.bad_profiles", path=path, error=exc)) from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ImportFailed(tr("import.bad_profiles", path=path, error=tr("import.profiles_shape")))
    return data


def load_profile(name: str) -> dict[str, str | None]:
    profiles = load_profiles()
    if name not in profiles:
        raise ImportFailed(tr("import.no_profile", name=name,
                              known=", ".join(profiles) or tr("import.none")))
    return profiles[name]


def matching_profile(source: Source) -> str | None:
    """The saved profile made for files like this one: every column it names is a
    column of the file (the one naming most columns; a broken profiles file: none)."""
    try:
        profiles = load_profiles()
    except ImportFailed:
        return None
    headers = {_fold(h) for h in source.headers if h}
    fits = [(len(columns), name) for name, columns in profiles.items()
            if columns and all(_fold(str(h)) in headers for h in columns)]
    return min(fits, key=lambda f: (-f[0], f[1]))[1] if fits else None


def save_profile(name: str, mapping: Mapping) -> Path:
    name = name.strip()
    if not name:
        raise ImportFailed(tr("import.profile_name_empty"))
    profiles = load_profiles()
    profiles[name] = mapping.by_header()
    path = profiles_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(profiles, allow_unicode=True, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


# --- running the import --------------------------------------------------------

@dataclass
class Problem:
    row: int
    column: str
    field: str
    value: str  # as ``shown`` gives it
    reason: str


_HIDDEN_RE = re.compile("(?![\t\n])" + validate.CONTROL_RE.pattern)


def shown(value: Any) -> str:
    """A cell as a rejected row quotes it, to a terminal and in the report: a control
    character (which a terminal would obey, ESC) written as its code, <U+001B>."""
    return _HIDDEN_RE.sub(lambda m: f"<U+{ord(m.group()):04X}>", str(value))


@dataclass
class ImportResult:
    batch_id: int | None
    dry_run: bool
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    empty: int = 0
    repeated: int = 0  # rows whose update-by value repeated an earlier row of the file
    duplicates: Any = None  # import_dupes.Duplicates: rows matching existing customers
    problems: list[Problem] = field(default_factory=list)  # the first ones, for display
    report: Path | None = None
    # rows kept with a value left out (import_values): notes, and per value its count
    notes: list[Problem] = field(default_factory=list)
    unmatched: list = field(default_factory=list)  # import_values.Unmatched
    unmatched_index: dict = field(default_factory=dict, repr=False)
    contacts: int = 0  # decision-chain contacts created (import_values)
    purchases: int = 0  # opening purchases created (import_values)


class _Report:
    """Rejected rows: the first problems kept for display, and the rows themselves in
    a rejects file (``import_read.RejectsFile``: original header and cells, the reason
    and row number in front) when ``path`` is given."""
    KEEP = 200

    def __init__(self, path: Path | None, source: Source):
        self.source = source
        self.file = import_read.RejectsFile(path, source.headers) if path is not None else None
        self.first: list[Problem] = []

    def reject(self, problems: list[Problem], cells: list[Any] | None = None) -> None:
        for problem in problems:
            if len(self.first) < self.KEEP:
                self.first.append(problem)
        if self.file is not None and problems:
            self.file.add(problems[0].row, import_read.reason_text(problems), cells)

    def close(self) -> Path | None:
        return self.file.close(self.source) if self.file is not None else None


def default_report_path(source: Source) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    name = f"{source.path.stem}-rejected-{stamp}.csv"
    folder = source.path.resolve().parent   # said in full: the user opens it in a spreadsheet
    probe = folder / f".kehu-write-test-{stamp}"
    try:
        probe.touch()
        probe.unlink()
        return folder / name
    except OSError:
        return data_dir() / "imports" / name


#: Field types whose cleaned value depends on the cell alone and repeats across rows.
CACHED_TYPES = frozenset({"choice", "tags", "date", "datetime", "boolean", "integer", "money", "decimal"})
#: Distinct values remembered per column.
CACHE_VALUES = 20_000


class _Cleaner:
    """Turns the cells of one row into field values (or problems), per the mapping."""

    def __init__(self, schema: Schema, source: Source, mapping: Mapping,
                 values: "import_values.ValueOptions | None" = None):
        fmt = _formats()["formats"].get(source.format or "", {})
        self.sep = fmt.get("multi_value_separator")
        self.drop_prefix = fmt.get("drop_values_starting")
        self.empty_values = set(fmt.get("empty_values", []))
        self.date_formats = fmt.get("date_formats", [])
        self.headers = mapping.headers
        # empty cells are checked for required fields only when a row creates a customer;
        # a column whose values repeat (grades, stages, dates, tags) is cleaned once per
        # distinct value: a million rows hold a few thousand of them
        plain = not self.sep and not self.empty_values  # text cells need only a strip
        self.columns = [(i, replace(schema[k], required=False),
                         {} if schema[k].type in CACHED_TYPES else None,
                         plain and schema[k].type in ("text", "longtext") and not schema[k].pattern)
                        for i, k in mapping.mapped]
        self.name_parts = mapping.name_parts if "name" not in dict(
            (k, i) for i, k in mapping.mapped) else {}
        self.name_spec = schema.get("name")
        # a CSV cell written "'=SUM(…)" (as kehu's export and others keep a spreadsheet
        # from running it) is the text "=SUM(…)"
        self.unquote = source.kind == "csv"
        # the columns no field takes, kept in the customer's extra (import_read)
        self.extra = import_read.extra_headers(mapping.headers, mapping.extra_columns)
        self.xlsx_epoch = source.epoch if source.kind == "xlsx" else None
        self.xlsx = source.kind == "xlsx"
        # choices matched leniently, dates in the user's order, typed phones, company type
        self.values = import_values.RowValues.build(schema, source, mapping, values, self.sep)

    def _prepare(self, spec: FieldSpec, raw: Any) -> Any:
        if self.xlsx and spec.type in ("date", "datetime"):   # a serial number in a General cell
            raw = import_read.xlsx_date(raw, self.xlsx_epoch, spec.type == "datetime")
        if isinstance(raw, str):
            raw = raw.strip()
            if raw in self.empty_values:
                return None
            if self.sep and self.sep.strip() in raw:
                values = [v.strip() for v in raw.split(self.sep.strip()) if v.strip()]
                if self.drop_prefix:
                    values = [v for v in values if not v.startswith(self.drop_prefix)]
                raw = ",".join(values) if spec.type == "tags" else (values[0] if values else None)
            elif self.drop_prefix and spec.type == "tags" and raw.startswith(self.drop_prefix):
                return None
            if raw and self.date_formats and spec.type in ("date", "datetime"):
                for fmt in self.date_formats:
                    try:
                        parsed = dt.datetime.strptime(raw, fmt)
                        return parsed.date() if spec.type == "date" else parsed
                    except ValueError:
                        continue
        return raw

    def row(self, number: int, cells: list[Any]) -> tuple[dict[str, Any], list[Problem]]:
        values: dict[str, Any] = {}
        problems: list[Problem] = []
        kept_notes: list[Problem] = []   # values left out of a row that is kept (import_values)
        width = len(cells)
        unquote = self.unquote
        for i, spec, cache, plain in self.columns:
            raw = cells[i] if i < width else None
            if raw is None or raw == "":
                continue
            if unquote and raw[0] == "'":
                raw = csv_unquote(raw)
            if plain and raw.__class__ is str:  # text: what clean() would do, in short
                value = raw.strip()
                if value and (not spec.max_length or len(value) <= spec.max_length) and (
                        value.isprintable()):  # else clean() looks at its control characters
                    values[spec.key] = value
                    continue
            # an XLSX cell True, 1 and 1.0 are equal dict keys, not the same value to clean
            key = raw if raw.__class__ is str else (raw.__class__, raw)
            hit = cache.get(key) if cache is not None else None
            if hit is None:
                try:
                    prepared = self.values.prepare(spec, self._prepare(spec, raw))
                    try:
                        hit = (clean(spec, prepared), None, prepared)
                    except FieldError as exc:
                        rescued = self.values.rescue(spec, prepared)
                        hit = (None, exc.message, prepared) if rescued is None else (*rescued, prepared)
                except import_values.KeptValue as left_out:
                    hit = (None, left_out.kept, raw)
                if cache is not None and len(cache) < CACHE_VALUES:
                    cache[key] = hit
            value, error, prepared = hit
            if error is not None:
                (kept_notes if error.__class__ is import_values.Kept else problems).append(
                    Problem(number, self.headers[i], spec.label(), shown(prepared), error))
            if value is not None:
                values[spec.key] = value
        if self.name_parts:
            name = self._compose_name(cells)
            if name:
                try:
                    values["name"] = clean(replace(self.name_spec, required=False), name)
                except FieldError as exc:
                    problems.append(Problem(number, "+".join(
                        self.headers[i] for i in self.name_parts.values()),
                        self.name_spec.label(), shown(name), exc.message))
        self.values.finish(cells, values, problems, number, Problem)
        if self.extra and values and not problems:
            kept = import_read.extra_json(self.extra, cells)
            if kept is not None:
                values[import_read.EXTRA] = kept
        if kept_notes and values and not problems:
            self.values.keep_in_extra(values, kept_notes)   # a value no choice took: Other columns
        return values, problems + kept_notes

    def _compose_name(self, cells: list[Any]) -> str:
        def part(key):
            i = self.name_parts.get(key)
            if i is None or i >= len(cells) or not cells[i]:
                return ""
            text = str(cells[i]).strip()
            return csv_unquote(text) if self.unquote else text

        family, given, middle = part("family"), part("given"), part("middle")
        if search.CJK_RE.search(family + given):
            return import_values.cjk_name(family, given)   # the surname first
        return " ".join(p for p in (given, middle, family) if p)


# --- cleaning in worker processes ----------------------------------------------
# A big file's rows are cleaned and their search text built in worker processes
# (models/workers.py) while this process inserts the rows before them: the Python
# work per row and SQLite's overlap.

_worker: dict[str, Any] = {}


@dataclass
class _Creating:
    """A plain import (every good row becomes a new customer): good rows come back
    from the workers ready to insert, their required fields checked there."""
    plan: InsertPlan
    required: list[FieldSpec]


def _worker_init(source: Source, chunk: int, cleaner: "_Cleaner", schema: Schema,
                 defaults: dict[str, Any] | None, creating: _Creating | None,
                 language: str, region: str) -> None:
    i18n.set_lang(language)
    validate.set_phone_region(region)
    _worker.update(source=source, chunk=chunk, cleaner=cleaner, schema=schema, defaults=defaults,
                   creating=creating)


def _missing(number: int, record: dict[str, Any], required: list[FieldSpec]) -> list[Problem]:
    return [Problem(number, "", s.label(), "", tr("validate.required"))
            for s in required if is_empty(record.get(s.key))]


def _clean_rows(rows: list[tuple[int, list[Any]]], cleaner: "_Cleaner", schema: Schema,
                defaults: dict[str, Any] | None, creating: _Creating | None = None
                ) -> list[tuple[int, Any, list[Problem], str | None]]:
    """Per row: its number, values, problems and the search text it would have
    as a new customer (not built when ``defaults`` is None: a dry run). With
    ``creating``, the values of a good row are the tuple to insert instead (and
    no text); a row missing a required field has that problem."""
    out = []
    for number, cells in rows:
        values, problems = cleaner.row(number, cells)
        problems, kept = import_values.split_kept(problems)   # kept: notes of a kept row
        if not values or problems:   # a rejected row brings its cells for the rejects file
            out.append((number, None if creating else values, problems + kept,
                        cells if problems else None))
        elif creating is not None:
            record = defaults | values
            problems = _missing(number, record, creating.required)
            out.append((number, None if problems else creating.plan.row(
                record, search.build_search_text(schema, record)), problems + kept,
                cells if problems else None))
        else:
            out.append((number, values, kept, search.build_search_text(schema, defaults | values)
                        if defaults is not None else None))
    return out


def _worker_clean(share: tuple[int, int]) -> Iterator[list]:
    """Worker k of n reads the file itself and cleans chunks k, k + n, k + 2n …"""
    k, n = share
    for i, rows in enumerate(_chunks(_worker["source"].rows(), _worker["chunk"])):
        if i % n == k:
            yield _clean_rows(rows, _worker["cleaner"], _worker["schema"], _worker["defaults"],
                              _worker["creating"])


#: What a worker runs on each chunk ("module:function", importable in the worker).
WORKER_TASK = f"{__name__}:_worker_clean"


def workers_for(rows: int) -> int:
    """Worker processes for an import of about ``rows`` rows (0: clean in this process):
    one per core beside this process's, at most 3 (this process, which inserts, is
    the slower side from 2 workers on). ``KEHU_IMPORT_WORKERS`` sets the number."""
    if rows < PARALLEL_ROWS:
        return 0
    setting = os.environ.get("KEHU_IMPORT_WORKERS", "").strip()
    if setting.isdigit():
        return int(setting)
    return max(0, min((os.cpu_count() or 1) - 1, 3))


def _cleaned(source: Source, cleaner: "_Cleaner", schema: Schema, defaults: dict[str, Any] | None,
             workers: int, creating: _Creating | None = None
             ) -> Iterator[tuple[int, Any, list[Problem], str | None]]:
    pool = None
    if workers:
        try:
            pool = start_workers(WORKER_TASK, f"{__name__}:_worker_init",
                                 (source, WORKER_CHUNK, cleaner, schema, defaults, creating,
                                  i18n.get_lang(), validate.phone_region()), workers)
        except WorkerFailed:
            pool = None  # no second process here: clean in this one, slower but the same
    if pool is None:
        for rows in _chunks(source.rows(), WORKER_CHUNK):
            yield from _clean_rows(rows, cleaner, schema, defaults, creating)
        return
    try:
        for results in ordered_stream(pool):
            yield from results
    except WorkerFailed as exc:
        if exc.kind == "ImportFailed":  # what reading the file says, as it says it here
            raise ImportFailed(exc.message) from exc
        raise ImportFailed(tr("import.worker_failed", error=str(exc).strip().splitlines()[-1])) from exc


class _Ambiguous:
    def __init__(self, ids):
        self.ids = ids


_NEW = object()  # a key created earlier in this import (dry run: not yet in the database)


def _key(spec: FieldSpec, value: Any) -> Any:
    return value.casefold() if isinstance(value, str) and spec.type == "email" else value


def run_import(store: Store, source: Source, mapping: Mapping, *, update_by: str | None = None,
               dry_run: bool = False, report_path: str | Path | None = None,
               progress: Progress | None = None, chunk: int = CHUNK,
               on_duplicate: str | None = None,
               values: "import_values.ValueOptions | None" = None) -> ImportResult:
    """Import ``source``; see the module docstring. Nothing is written on ``dry_run``
    except the report of rejected rows. ``on_duplicate`` (skip, update, create; None:
    not looked for) is what a row matching an existing customer does (import_dupes).
    ``values``: the user's decisions on dates and on values no choice matches
    (import_values.ValueOptions)."""
    schema = store.schema
    missing = missing_required(schema, mapping)
    if missing:
        raise ImportFailed(tr("import.required_unmapped",
                              fields=", ".join(s.label() for s in missing)))
    key_spec = None
    if update_by:
        key_spec = schema.get(update_by) or schema.resolve(update_by)
        if key_spec is None:
            raise ImportFailed(tr("import.unknown_field", field=update_by))
        if mapping.column_of(key_spec.key) is None and not (key_spec.key == "name"
                                                              and mapping.name_parts):
            raise ImportFailed(tr("import.update_by_unmapped", field=key_spec.label()))
    if import_values.before_import(store, source, mapping, values, dry_run):
        schema = store.schema   # new choices added to the user schema
    cleaner = _Cleaner(schema, source, mapping, values)
    defaults = {s.key: default_value(s, store.user) for s in schema.fields
                if s.default is not None and not s.computed}
    required = [s for s in schema.fields if s.required and not s.computed]
    # the rejects file: where asked; a real import writes one beside the file by default
    report = _Report(Path(report_path) if report_path else None if dry_run
                     else default_report_path(source), source)
    result = ImportResult(None, dry_run)
    C = store.Customer
    models = io_models(store)
    ImportBatch, ImportChange = models["ImportBatch"], models["ImportChange"]

    existing: dict[Any, Any] = {}
    if key_spec is not None:
        column = getattr(C, key_spec.key)
        query = (C.select(C.id, column).where(C.deleted_at.is_null(), column.is_null(False))
                 .tuples().iterator())
        for cid, value in query:
            k = _key(key_spec, value)
            seen = existing.get(k)
            existing[k] = cid if seen is None else _Ambiguous(
                (seen.ids if isinstance(seen, _Ambiguous) else [seen]) + [cid])

    from .import_dupes import finder_for

    dupes = finder_for(store, on_duplicate, source.estimated_rows)
    result.duplicates = dupes.result if dupes is not None else None
    befores: dict[int, dict[str, Any]] = {}
    after_versions: dict[int, int] = {}
    pending_new: list[dict[str, Any]] = []
    pending_rows: list[tuple[int, dict[str, Any]]] = []  # (row, values) beside pending_new
    pending_by_key: dict[Any, dict[str, Any]] = {}
    pending_updates: dict[int, dict[str, Any]] = {}
    batch_id = None

    def reject(problems: list[Problem], cells: list[Any] | None = None) -> None:
        result.rejected += 1
        report.reject(problems, cells)

    update_rows: dict[int, int] = {}  # customer id -> the row of the file that updates it

    def refuse(cid: int, changes: dict[str, Any], reason: str) -> None:
        """An update the guard refused (not the user's customer, a field they may not edit)."""
        spec = key_spec or schema["name"]
        column = mapping.column_of(spec.key)
        reject([Problem(update_rows.get(cid, 0), source.headers[column] if column is not None else "",
                        spec.label(), str(changes.get(spec.key, "")),
                        tr("import_lock.refused", id=cid, reason=reason))])

    def flush() -> None:
        if dupes is not None and pending_new:   # rows that are customers kehu has
            dupes.sift(pending_new, pending_rows, pending_updates, update_rows,
                       lambda number, by, value, reason: reject([Problem(number, "", by, value, reason)]))
        if pending_new:
            result.created += len(pending_new)
            if not dry_run:
                store.bulk_insert_customers(pending_new, batch=chunk, import_batch=batch_id)
        if key_spec is not None and pending_by_key:
            if dry_run:
                existing.update(dict.fromkeys(pending_by_key, _NEW))
            else:
                column = getattr(C, key_spec.key)
                keys = list(pending_by_key)
                for start in range(0, len(keys), 500):
                    part = keys[start:start + 500]
                    for cid, value in (C.select(C.id, column)
                                       .where(C.import_batch == batch_id, column.in_(part))
                                       .tuples()):
                        existing[_key(key_spec, value)] = cid
        if pending_updates:
            _apply_updates(store, pending_updates, befores, after_versions, result, dry_run, refuse)
        pending_new.clear()
        pending_rows.clear()
        pending_by_key.clear()
        pending_updates.clear()
        report_progress()

    def report_progress() -> None:
        if progress:
            progress(result.rows, max(source.estimated_rows, result.rows))

    def create_all() -> None:
        """A plain import: rows come ready to insert, one insert call for them all."""
        keys = {k for _, k in mapping.mapped} | set(defaults) | ({"name"} if mapping.name_parts else set()) | (
            cleaner.values.keys())
        plan = InsertPlan(store, [s.key for s in schema.fields if s.key in keys], now(), batch_id)
        rows = _cleaned(source, cleaner, schema, defaults, workers_for(source.estimated_rows),
                        _Creating(plan, required))

        def good_rows():
            for number, row, problems, cells in rows:
                result.rows += 1
                problems = import_values.note_kept(result, problems)
                if problems:
                    reject(problems, cells)
                elif row is None:
                    result.empty += 1
                else:
                    yield row

        def batches():
            for ready in _chunks(good_rows(), chunk):
                result.created += len(ready)
                yield plan.keys, ready
                report_progress()
            report_progress()  # rows rejected after the last batch counted too

        store.insert_rows(batches(), import_batch=batch_id)

    def process() -> None:
        workers = workers_for(source.estimated_rows)
        for number, values, problems, text in _cleaned(source, cleaner, schema,
                                                       None if dry_run or dupes else defaults, workers):
            result.rows += 1
            problems = import_values.note_kept(result, problems)
            if problems:
                reject(problems, text)   # a rejected row's cells come in text's place
            elif not values:
                result.empty += 1
            else:
                _place(number, values, text)
            if len(pending_new) + len(pending_updates) >= chunk:
                flush()
        flush()

    def _place(number: int, values: dict[str, Any], text: str | None) -> None:
        k = _key(key_spec, values.get(key_spec.key)) if key_spec is not None else None
        if k is not None:
            if k in pending_by_key:
                pending_by_key[k].update(values)
                pending_by_key[k].pop("search_text", None)  # built again from the merged values
                result.repeated += 1
                return
            target = existing.get(k)
            if isinstance(target, _Ambiguous):
                reject([Problem(number, source.headers[mapping.column_of(key_spec.key) or 0],
                                key_spec.label(), str(values[key_spec.key]),
                                tr("import.ambiguous", count=len(target.ids), field=key_spec.label(),
                                   ids=", ".join(f"#{i}" for i in target.ids[:5])))])
                return
            if target is _NEW:
                result.repeated += 1
                return
            if target is not None:
                if target in pending_updates:
                    result.repeated += 1
                pending_updates.setdefault(target, {}).update(values)
                update_rows[target] = number
                return
        record = defaults | values
        absent = _missing(number, record, required)
        if absent:
            reject(absent)
            return
        if text:
            record["search_text"] = text
        pending_new.append(record)
        pending_rows.append((number, values))
        if k is not None:
            pending_by_key[k] = record

    if dry_run:
        process()
        import_values.after_rows(store, source, cleaner, mapping, result, None, key_spec, True, Problem)
    else:
        # into a table smaller than the file, indexes are faster built once afterwards
        big = source.estimated_rows >= BULK_ROWS
        first_load = (big and key_spec is None
                      and store.Customer.select().count() < source.estimated_rows)
        later = _indexes_afterwards(store) if first_load else contextlib.nullcontext()
        store.guard.require("import")
        with _big_load(store, first_load) if big else contextlib.nullcontext(), store.db.atomic(), later, (
                search.fast_fill(store) if big else contextlib.nullcontext()):
            batch = ImportBatch.create(
                user=store.user, source=str(source.path.resolve()), file_format=source.format or source.kind,
                encoding=source.encoding, mapping=to_json(mapping.by_header()),
                update_by=key_spec.key if key_spec else None)
            batch_id = batch.id
            create_all() if key_spec is None and dupes is None else process()
            # contacts and opening purchases of the rows (import_values)
            import_values.after_rows(store, source, cleaner, mapping, result, batch_id, key_spec,
                                     False, Problem)
            rows = [{"batch": batch_id, "customer_id": cid, "before": to_json(before),
                     "after_version": after_versions[cid]} for cid, before in befores.items()]
            for start in range(0, len(rows), 1000):
                ImportChange.insert_many(rows[start:start + 1000]).execute()
            result.report = report.close()
            ImportBatch.update(created=result.created, updated=result.updated,
                               unchanged=result.unchanged, rejected=result.rejected,
                               report=str(result.report) if result.report else None
                               ).where(ImportBatch.id == batch_id).execute()
        result.batch_id = batch_id
    result.report = report.close() or result.report
    result.problems = report.first
    return result


@contextlib.contextmanager
def _big_load(store: Store, first_load: bool, mib: int = 256):
    """SQLite settings for a big load, given back afterwards: a bigger page cache
    (the rows, the search index being merged and the index builds fit in it: at
    1M rows about twice as fast as the 32 MiB default) and two sort threads for
    the index builds. For a first load (more rows than the table has) the load
    also writes through a rollback journal instead of the WAL when no other
    connection has the file open: new pages go straight into the file instead
    of into the WAL and again into the file at the checkpoint (1M rows in bare
    SQLite: 44 s → 35 s). Meanwhile another process cannot open the file (kehu
    says it is busy); it is in WAL mode again afterwards."""
    if store.is_postgres:
        yield
        return
    db = store.db
    before = db.execute_sql("PRAGMA cache_size").fetchone()[0]
    threads = db.execute_sql("PRAGMA threads").fetchone()[0]
    db.execute_sql(f"PRAGMA cache_size = -{mib * 1024}")
    db.execute_sql("PRAGMA threads = 2")
    journal = _rollback_journal(store) if first_load else None
    try:
        yield
    finally:
        if journal is not None:
            _restore_journal(store, *journal)
        db.execute_sql(f"PRAGMA cache_size = {before}")
        db.execute_sql(f"PRAGMA threads = {threads}")


def _rollback_journal(store: Store) -> tuple[str, int] | None:
    """Switch a WAL file to a rollback journal if this is the only connection to
    it (without waiting: if another is open, the load stays in WAL mode).
    Returns the modes to restore, or None when nothing was changed."""
    db = store.db
    mode = db.execute_sql("PRAGMA journal_mode").fetchone()[0]
    if mode != "wal":  # e.g. "memory" for an in-memory database
        return None
    timeout = db.execute_sql("PRAGMA busy_timeout").fetchone()[0]
    sync = db.execute_sql("PRAGMA synchronous").fetchone()[0]
    db.execute_sql("PRAGMA busy_timeout = 0")
    try:
        if db.execute_sql("PRAGMA journal_mode = delete").fetchone()[0] != "delete":
            return None
    except peewee.OperationalError:  # "database is locked": someone else has it open
        return None
    finally:
        db.execute_sql(f"PRAGMA busy_timeout = {timeout}")
    db.execute_sql("PRAGMA synchronous = full")  # a rollback journal is only safe with FULL
    return mode, sync


def _restore_journal(store: Store, mode: str, sync: int) -> None:
    db = store.db
    try:
        db.execute_sql(f"PRAGMA journal_mode = {mode}")
    except peewee.OperationalError:  # another process opened it meanwhile; the next open sets WAL
        pass
    db.execute_sql(f"PRAGMA synchronous = {sync}")


@contextlib.contextmanager
def _indexes_afterwards(store: Store):
    """Drop the customer table's secondary indexes for a big load and build them
    again at its end. Use inside the import's transaction: if the load fails, the
    rollback brings the indexes back (DDL is transactional in SQLite and PostgreSQL)."""
    indexes = [i for i in store.db.get_indexes("customer") if not i.unique and i.sql]
    if store.is_postgres:
        from .team import may_migrate

        if not may_migrate(store.db):   # only the schema's owner may drop and build indexes
            indexes = []
    for index in indexes:
        store.db.execute_sql(f'DROP INDEX "{index.name}"')
    yield
    for index in indexes:
        store.db.execute_sql(index.sql)
    store.db.execute_sql('ANALYZE "customer"')  # the planner's statistics for the new rows


def _apply_updates(store: Store, updates: dict[int, dict[str, Any]], befores: dict, after_versions: dict,
                   result: ImportResult, dry_run: bool,
                   refuse: Callable[[int, dict[str, Any], str], None] | None = None) -> None:
    """Save the changed values of matched customers, remembering what they were.

    The rows are read locked (FOR UPDATE on PostgreSQL, in id order; the SQLite
    import transaction holds the file's write lock), so each update and its
    search text build on the row as it is, not as another writer left it a
    moment before. Each change goes through the guard as a form save does: a
    customer outside the user's rows, or a field their role may not edit, is
    not touched — ``refuse(customer_id, changes, reason)`` rejects that row."""
    from .security import PermissionDenied

    C = store.Customer
    ids = sorted(updates)
    current: dict[int, Any] = {}
    for start in range(0, len(ids), 500):
        query = C.select().where(C.id.in_(ids[start:start + 500]), C.deleted_at.is_null()).order_by(C.id)
        for row in (query.for_update() if store.is_postgres else query):
            current[row.id] = row
    stamp = now()
    for cid, changes in updates.items():
        row = current.get(cid)
        if row is None:   # deleted (or merged away) since the file's keys were looked up
            if refuse is not None:
                refuse(cid, changes, tr("import_lock.gone"))
            continue
        diff = {k: v for k, v in changes.items() if k != import_read.EXTRA
                and not store.schema[k].computed and not _same(getattr(row, k), v)}
        if changes.get(import_read.EXTRA):   # the kept columns join those the customer has
            kept = import_read.merge_extra(row.extra, changes[import_read.EXTRA])
            if kept != row.extra:
                diff[import_read.EXTRA] = kept
        try:
            diff = store.guard.check_update(row, diff)
        except PermissionDenied as exc:
            if refuse is None:
                raise
            refuse(cid, changes, str(exc))
            continue
        if not diff:
            if cid not in befores and cid not in after_versions:
                result.unchanged += 1
                after_versions[cid] = row.version
            continue
        if cid not in befores:
            result.updated += 1
            if cid in after_versions:  # counted as unchanged by an earlier row
                result.unchanged -= 1
        before = befores.setdefault(cid, {})
        for k in diff:
            before.setdefault(k, getattr(row, k))
        if dry_run:
            after_versions[cid] = row.version
            continue
        merged = store.raw_record(row) | diff
        C.update(**diff, updated_at=stamp, version=row.version + 1,
                 search_text=search.build_search_text(store.schema, merged)).where(C.id == cid).execute()
        store.audit.record("import", "customer", cid, before={k: getattr(row, k) for k in diff},
                           after=diff)
        after_versions[cid] = row.version + 1


def _same(old: Any, new: Any) -> bool:
    if old is None or new is None:
        return old is new
    if isinstance(old, dt.datetime) and not isinstance(new, dt.datetime):
        return False
    try:
        return old == new or str(old) == str(new)
    except TypeError:
        return False


# --- the journal: listing and reverting imports --------------------------------

def list_imports(store: Store) -> list:
    ImportBatch = io_models(store)["ImportBatch"]
    return list(ImportBatch.select().order_by(ImportBatch.id.desc()))


@dataclass
class RevertResult:
    batch_id: int
    deleted: int = 0  # created and untouched since: removed
    hidden: int = 0  # created, then edited: moved to the deleted customers (restorable)
    restored: int = 0  # updated: values put back
    skipped: list[int] = field(default_factory=list)  # updated and edited since: left alone


def revert_import(store: Store, batch_id: int) -> RevertResult:
    """Undo one import as a whole.

    Customers it created are deleted, except those someone has worked on since
    (edited, contacts or timeline entries added): those move to the deleted
    customers, where they can be restored. Customers it updated get their
    previous values back unless they were edited since (listed in ``skipped``).
    """
    models = io_models(store)
    ImportBatch, ImportChange = models["ImportBatch"], models["ImportChange"]
    batch = ImportBatch.get_or_none(ImportBatch.id == batch_id)
    if batch is None:
        raise ImportFailed(tr("import.no_batch", id=batch_id))
    if batch.reverted_at is not None:
        raise ImportFailed(tr("import.already_reverted", id=batch_id,
                              when=batch.reverted_at.strftime(MINUTES)))
    store.guard.require("import")
    C = store.Customer
    result = RevertResult(batch_id)
    dependants = [m for m in store.models.values()
                  if any(f.rel_model is C for f in m._meta.refs)]
    stamp = now()
    with store.db.atomic():
        import_values.before_revert(store, batch)   # its contacts and opening purchases first
        untouched = C.select(C.id).where(C.import_batch == batch_id, C.version == 1,
                                         C.deleted_at.is_null())
        for model in dependants:
            fk = next(f for f in model._meta.refs if f.rel_model is C)
            untouched = untouched.where(~peewee.fn.EXISTS(
                model.select(peewee.SQL("1")).where(fk == C.id)))
        ids = [cid for (cid,) in untouched.tuples()]
        for start in range(0, len(ids), 500):
            result.deleted += C.delete().where(C.id.in_(ids[start:start + 500]),  # still as
                                               C.version == 1).execute()  # imported, re-checked
        result.hidden = (C.update(deleted_at=stamp, version=C.version + 1)
                         .where(C.import_batch == batch_id, C.deleted_at.is_null()).execute())
        for change in ImportChange.select().where(ImportChange.batch == batch_id):
            row = C.get_or_none(C.id == change.customer_id)
            if row is None or row.version != change.after_version:
                result.skipped.append(change.customer_id)
                continue
            before = from_json(store, change.before)
            merged = store.raw_record(row) | before
            if not C.update(**before, updated_at=stamp, version=C.version + 1,
                            search_text=search.build_search_text(store.schema, merged)
                            ).where(C.id == row.id, C.version == row.version).execute():
                result.skipped.append(change.customer_id)   # saved by someone meanwhile
                continue
            store.audit.record("revert", "customer", row.id, batch=batch_id,
                               before={k: getattr(row, k) for k in before}, after=before)
            result.restored += 1
        ImportBatch.update(reverted_at=stamp, reverted_by=store.user).where(
            ImportBatch.id == batch_id).execute()
        store.audit.record("revert", "customer", None, batch=batch_id,
                           fields={"deleted": [None, result.deleted], "hidden": [None, result.hidden],
                                   "restored": [None, result.restored]})
    return result


def mapping_summary(mapping: Mapping, schema: Schema) -> list[tuple[str, str, str]]:
    """(column, field label or '', note) per column, for the CLI and the wizard."""
    out = []
    kept = set(mapping.extra_columns)
    for i, header in enumerate(mapping.headers):
        key = mapping.fields[i]
        label = schema[key].label() if key else ""
        note = mapping.notes.get(i, "")
        if i in kept and header:   # not a field, but not lost: the customer's Other columns
            note = tr("import_read.note_kept")   # (the note said: not imported)
        out.append((header, label, note))
    return out

