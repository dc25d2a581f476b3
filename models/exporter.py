"""Exporting customers: any view or query to CSV or XLSX.

The columns are the view's (or every field for a plain query) with their
labels in the user's language as the header; values are written the way a
person reads them (choice labels, formatted phones) except numbers and dates,
which stay numbers and dates. CSV is UTF-8 with a BOM so Excel shows Chinese
correctly. A file written here imports back with every value the same. The
user's role decides which fields are exported and which values are masked.

Text is never run as a formula by the spreadsheet that opens the file: XLSX
text cells are text cells (quote-prefixed when they start like a formula), and
a CSV text cell starting with = + - @, a tab or a carriage return gets a
leading ' (OWASP "CSV injection"), which kehu's import takes off again.
Numbers and dates are written as such (-12.50 is a number, not a formula).
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .errors import KehuError
from . import import_read
from .i18n import tr
from .results import ResultSet
from .schema import FieldSpec
from .store import Store
from .validate import display

XLSX_MAX_ROWS = 1_048_575
FORMATS = (".csv", ".xlsx")
#: How a cell a spreadsheet would take for a formula starts (OWASP's list).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: A text kehu writes to CSV with one more leading quote: a formula start after
#: any quotes ("'=x" is written "''=x", so that the import gives back "'=x").
_NEEDS_QUOTE_RE = re.compile("'*[=+\\-@\t\r]")
#: The largest whole number every spreadsheet keeps exactly (a double has 53 bits).
EXACT_IN_A_DOUBLE = 2 ** 53
#: Characters an XLSX file (XML 1.0) cannot hold at all.
_XLSX_ILLEGAL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def csv_text(text: str) -> str:
    """A text as a CSV cell a spreadsheet shows and does not run: a leading ' before
    ``=SUM(…)``, ``+1 202…``, ``-x``, ``@x`` (``csv_unquote`` undoes it)."""
    return "'" + text if _NEEDS_QUOTE_RE.match(text) else text


def csv_unquote(text: str) -> str:
    """The text of a CSV cell ``csv_text`` wrote (or a spreadsheet user typed the same
    way): one leading ' taken off when a formula start follows it."""
    return text[1:] if text[:1] == "'" and _NEEDS_QUOTE_RE.match(text, 1) else text


def csv_value(value: Any) -> Any:
    """A cell value for ``csv.writer``: text made safe, numbers and dates as they are."""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return "" if value is None else value


def value_text(value: Any, *, true: str = "true", false: str = "false") -> str:
    """A stored value as text the importer reads back to the same value: dates ISO,
    decimals without exponent, booleans as ``true`` / ``false`` (vCard and the
    whole-database export share it; each names its own yes/no words)."""
    if isinstance(value, bool):
        return true if value else false
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def xlsx_cell(sheet, value: Any):
    """A write-only XLSX cell of ``value``: text is a text cell, never a formula (and
    quote-prefixed when it starts like one, so that editing it in Excel keeps it text);
    characters XLSX cannot hold are left out instead of failing the whole file."""
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT_IN_A_DOUBLE:
        value = str(value)  # a spreadsheet number is a double: 2**53 + 1 would come back as 2**53
    if not isinstance(value, str):
        return WriteOnlyCell(sheet, value=value)
    value = _XLSX_ILLEGAL_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    if value.startswith(FORMULA_START):
        cell.quotePrefix = True
    return cell


def set_text(cell, value: Any) -> None:
    """Give a cell of an ordinary (not write-only) sheet ``value``, text as text."""
    if isinstance(value, str):
        value = _XLSX_ILLEGAL_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"
        if value.startswith(FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value


class ExportFailed(KehuError):
    """An export that cannot run; ``str()`` is one sentence."""


@dataclass
class ExportResult:
    path: Path
    rows: int
    columns: list[str]


def cell_text(spec: FieldSpec, value: Any) -> Any:
    """A stored value for a spreadsheet cell: numbers, dates and datetimes as such, the
    rest as displayed (choice labels, phones formatted, yes/no)."""
    if value is None or value == "":
        return None
    if spec.type in ("money", "decimal"):
        return Decimal(str(value)).quantize(Decimal(1).scaleb(-spec.decimals))
    if spec.type == "integer":
        return int(value)
    if spec.type == "datetime" and isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if spec.type == "date" and isinstance(value, dt.datetime):
        return value.date()
    if spec.type == "date" and isinstance(value, dt.date):
        return value
    return display(spec, value)


def _fields(store: Store, keys: list[str] | None) -> list[FieldSpec]:
    guard = getattr(store, "guard", None)
    specs = [store.schema[k] for k in keys] if keys else list(store.schema.fields)
    if guard is not None:
        guard.require("export")
        specs = [s for s in specs if guard.role.allows("export", s)]
    return specs


def export(store: Store, path: str | Path, *, rows: ResultSet | None = None,
           columns: list[str] | None = None, progress: Callable[[int, int], None] | None = None
           ) -> ExportResult:
    """Write ``rows`` (default: every customer) to ``path`` (.csv or .xlsx) with
    ``columns`` (field keys; default every field)."""
    path = Path(path)
    kind = path.suffix.lower()
    if kind in (".vcf", ".vcard"):   # one vCard 3.0 per customer (models/vcard.py)
        from .vcard import export_vcards

        done = export_vcards(store, path, rows=rows)
        return ExportResult(done.path, done.rows, [])
    if kind not in FORMATS:
        raise ExportFailed(tr("export.bad_suffix", path=path))
    if not path.parent.is_dir():
        raise ExportFailed(tr("export.no_folder", path=path.parent))
    rows = rows if rows is not None else ResultSet(store)
    specs = _fields(store, columns)
    # every field asked for: the columns imports kept (customer.extra) follow, one each
    kept = import_read.export_extra_keys(store, rows) if columns is None else []
    total = rows.count()
    if kind == ".xlsx" and total > XLSX_MAX_ROWS:
        raise ExportFailed(tr("export.too_many_for_xlsx", count=total, max=XLSX_MAX_ROWS))
    guard = getattr(store, "guard", None)
    partial = path.with_name(path.name + ".partial")
    written = 0

    def records():
        nonlocal written
        query = rows.select().select_extend(store.Customer.extra) if kept else rows.select()
        for record in query.dicts().iterator():
            if guard is not None:
                record = guard.visible(record)
            written += 1
            if progress and written % 5000 == 0:
                progress(written, total)
            cells = [cell_text(s, record.get(s.key)) for s in specs]
            yield cells + import_read.extra_cells(record.get("extra"), kept) if kept else cells

    headers = [s.label() for s in specs] + kept
    try:
        if kind == ".csv":
            _write_csv(partial, headers, records())
        else:
            _write_xlsx(partial, headers, specs, records())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(tr("export.cannot_write", path=path, error=exc.strerror or exc)) from None
    if progress:
        progress(written, total)
    if getattr(store, "audit", None) is not None:   # who took which rows out, and where to
        with store.db.atomic():
            store.audit.record("export", "customer", None, fields={"rows": [None, written]},
                               note=tr("audit.export_note", rows=written, columns=len(specs),
                                       path=path.resolve()))
    return ExportResult(path, written, [s.key for s in specs])


def export_view(store: Store, path: str | Path, view_name: str, *, search: str = "",
                progress: Callable[[int, int], None] | None = None) -> ExportResult:
    """Export a saved or built-in view (by key or name), narrowed by ``search``,
    with the view's columns in the view's order."""
    from .views import load_views

    views = load_views(store.schema)
    view = views.find(view_name)
    if view is None:
        raise ExportFailed(tr("export.no_view", name=view_name,
                              known=", ".join(v.key for v in views)))
    return export(store, path, rows=view.result_set(store, search),
                  columns=view.column_keys(store.schema), progress=progress)


def _write_csv(path: Path, headers: list[str], records) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([csv_text(h) for h in headers])
        for values in records:
            writer.writerow([csv_value(v) for v in values])


def _write_xlsx(path: Path, headers: list[str], specs: list[FieldSpec], records) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(tr("export.sheet_title"))
    ws.freeze_panes = "A2"
    for i, spec in enumerate(specs, start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(spec.display_width,
                                                              len(headers[i - 1]) * 2) + 2
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = xlsx_cell(ws, text)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    formats = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
    money = {s.key: "#,##0." + "0" * s.decimals if s.decimals else "#,##0" for s in specs
             if s.type in ("money", "decimal")}
    for values in records:
        row = []
        for spec, value in zip(specs, values):
            if value is None:
                row.append(None)
                continue
            cell = xlsx_cell(ws, value)
            number_format = formats.get(spec.type) or money.get(spec.key)
            if number_format:
                cell.number_format = number_format
            row.append(cell)
        for value in values[len(specs):]:   # the kept columns of imports: text
            row.append(None if value is None else xlsx_cell(ws, value))
        ws.append(row)
    wb.save(path)
