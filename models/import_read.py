"""Reading a spreadsheet for import: its encoding, which row is the header, cell
values as a spreadsheet holds them, the columns no field takes (kept in the
customer's ``extra``) and the file of rejected rows.

Part of the split of ``importer.py`` (issue 19): reading here, mapping,
cleaning and loading in ``importer.py`` for now.

- ``detect_encoding``: UTF-8 (with or without BOM), UTF-16 with BOM, then GBK /
  GB18030 / Big5, each tried strictly on the whole file; when more than one of
  them reads it (Big5 bytes often are valid GBK), charset-normalizer chooses on
  a sample; when none does, charset-normalizer guesses (Shift-JIS, cp1252 …)
  and the guess must read the whole file.
- ``detect_header_row``: the usual Chinese office sheet has a title
  (``2026年客户信息管理表``) and a blank row above its header. The header is the
  row (of the first ``SCAN_ROWS``) with the most cells naming a field — by key,
  label or alias, Traditional folded to Simplified (``客戶名稱`` → 客户名称).
- ``xlsx_date``: an XLSX number in a date column (a serial such as 44270 in a
  cell formatted General) → the date it stands for, in the workbook's epoch.
- ``RejectsFile``: the rejected rows as they were (original header, original
  cells) with a reason and the original row number in front, to fix in a
  spreadsheet and import again — those two columns are known and left out then.
"""
from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import json
import sys
from pathlib import Path
from typing import Any, Iterable

from .i18n import tr
from .schema import Schema, _fold

#: Rows looked at for the header (a title, notes and blank rows come before it).
SCAN_ROWS = 20
#: Bytes charset-normalizer looks at when the strict tries leave a choice.
SAMPLE_BYTES = 256 * 1024
#: Message keys of the two columns a rejects file puts in front of the original ones.
REASON_KEY, ROW_KEY = "import_read.rejects_reason", "import_read.rejects_row"
#: The extra column of the customer table (JSON text {column header: cell text}).
EXTRA = "extra"
#: The earliest and latest serial taken for a date (1900-01-01 … 2173-10-14); a bigger
#: number in a date column is not a date written as a number.
SERIAL_RANGE = (1, 100_000)
#: What charset-normalizer may pick when no Chinese encoding reads a file: the encodings
#: of the exports kehu's users get (a guess outside these — text of a few odd bytes looks
#: like Cyrillic or Greek as easily — is an unknown encoding, to give with --encoding).
GUESSES = frozenset({"cp1252", "cp932", "shift_jis", "euc_jp", "euc_kr", "cp949", "utf-16",
                     "utf-16-le", "utf-16-be", "utf-32"})
WESTERN = frozenset({"cp1252", "cp1250", "iso8859-15", "iso8859-1"})


# --- encoding ------------------------------------------------------------------------------

def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _sample(path: Path) -> bytes:
    with open(path, "rb") as fh:
        data = fh.read(SAMPLE_BYTES)
    cut = data.rfind(b"\n")
    return data[:cut + 1] if len(data) == SAMPLE_BYTES and cut > 0 else data


def _python_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


def detect_encoding(path: str | Path) -> str | None:
    """The encoding that reads the whole file (see the module docstring), or None."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    # GBK reads most GB18030 files; GB18030 the rest; Big5 (Taiwan, Hong Kong) as Windows
    # writes it is cp950, a superset of big5 — named big5 when plain big5 reads it
    chinese = "gbk" if _decodes(path, "gbk") else "gb18030" if _decodes(path, "gb18030") else None
    big5 = "big5" if _decodes(path, "big5") else "cp950" if _decodes(path, "cp950") else None
    candidates = [e for e in (chinese, big5) if e]
    if len(candidates) == 1:
        return candidates[0]
    import charset_normalizer

    sample = _sample(path)
    if candidates:
        best = charset_normalizer.from_bytes(sample, cp_isolation=["gb18030", "big5"]).best()
        if best is not None and _python_name(best.encoding) in ("big5", "cp950"):
            return big5
        return chinese
    best = charset_normalizer.from_bytes(sample).best()
    guess = _python_name(best.encoding) if best is not None else None
    if guess in WESTERN and _decodes(path, "cp1252"):
        return "cp1252"   # Windows' Western Europe: an Outlook or Excel export in English, German …
    if guess in GUESSES and _decodes(path, guess):
        return guess
    return None


# --- Traditional → Simplified for header names ------------------------------------------------

def simplified(text: str) -> str:
    """Traditional Chinese folded to Simplified (``客戶名稱`` → ``客户名称``); a text without a
    Traditional character comes back as it is. One shared helper: ``models.dedupe.simplified``
    (zhconv: MediaWiki's tables, pure Python; OpenCC's Python port gives the same folding
    3x slower, see there). A header within GB2312 (Simplified and the characters both
    scripts share) is returned at once: zhconv's tables (~0.3 s to load) are read only
    for a header with a Traditional character; then ~15 µs a header."""
    try:
        text.encode("gb2312")
        return text
    except UnicodeEncodeError:
        pass
    from .dedupe import simplified as fold

    return fold(text)


def resolve_header(schema: Schema, header: str):
    """The field a column header names (key, label or alias), a Traditional spelling too."""
    spec = schema.resolve(header)
    if spec is None and header and not header.isascii():
        folded = simplified(header)
        if folded != header:
            spec = schema.resolve(folded)
    return spec


# --- the header row ---------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        value = int(value)
    return str(value).strip().lstrip("\ufeff")


def _looks_like_data(text: str) -> bool:
    """A cell that is a value rather than a column name: a number, date, phone, e-mail."""
    bare = text.replace(" ", "").replace("-", "").replace("/", "").replace(".", "").replace(":", "")
    return bare.isdigit() or "@" in text or bare.startswith("+") and bare[1:].isdigit()


def known_names(schema: Schema | None) -> set[str]:
    """Folded names a header cell may have: the schema's keys, labels and aliases, the
    columns of the recognised contact formats, and a rejects file's own two columns."""
    import yaml

    from .importer import FORMATS_PATH

    names: set[str] = set()
    if schema is not None:
        names.update(schema._by_name)
    formats = yaml.safe_load(FORMATS_PATH.read_text(encoding="utf-8")) or {}
    for fmt in (formats.get("formats") or {}).values():
        for group in fmt.get("detect") or []:
            names.update(_fold(h) for h in group)
    for group in (formats.get("name_parts") or {}).values():
        names.update(_fold(h) for h in group)
    names.update(rejects_headers())
    return names


def header_score(cells: list[Any], names: set[str]) -> tuple[int, int]:
    """(cells naming a known column, cells that look like names rather than values)."""
    matched = wordy = 0
    for cell in cells:
        text = _text(cell)
        if not text:
            continue
        folded = _fold(text)
        if folded in names or (not text.isascii() and _fold(simplified(text)) in names):
            matched += 1
        elif not _looks_like_data(text) and len(text) <= 30:
            wordy += 1
    return matched, wordy


def detect_header_row(rows: list[list[Any]], names: set[str]) -> int:
    """The index (0-based) in ``rows`` of the header: the row with the most cells naming a
    known column (the first of equals); when no row names one, the first row with at
    least two cells that look like names (a title row has one), else the first non-empty
    row, else 0."""
    best, best_matched = None, 0
    for i, cells in enumerate(rows):
        matched, _ = header_score(cells, names)
        if matched > best_matched:
            best, best_matched = i, matched
    if best is not None:
        return best
    for i, cells in enumerate(rows):
        if header_score(cells, names)[1] >= 2:
            return i
    return next((i for i, cells in enumerate(rows) if any(_text(c) for c in cells)), 0)


def first_rows_csv(path: Path, encoding: str, delimiter: str, count: int = SCAN_ROWS
                   ) -> list[list[str]]:
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding=encoding, newline="") as fh:
        return [row for row in itertools.islice(csv.reader(fh, delimiter=delimiter), count)]


def detect_delimiter(lines: Iterable[str], delimiters: Iterable[str]) -> str:
    """The delimiter most used in the first lines (a comma when none appears)."""
    text = "".join(lines)
    counts = {d: text.count(d) for d in delimiters}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def check_header_row(path: Path, number: int, rows: list[list[Any]]) -> int:
    """``number`` (1-based, as a spreadsheet shows it) as an index into ``rows``, or a
    sentence saying why it cannot be the header."""
    if number < 1 or number > len(rows):
        raise _failed(tr("import_read.header_row_out", path=path, row=number, rows=len(rows)))
    if not any(_text(c) for c in rows[number - 1]):
        raise _failed(tr("import_read.header_row_empty", path=path, row=number))
    return number - 1


def title_rows(rows: list[list[Any]], header_index: int) -> list[str]:
    """The text of the non-empty rows above the header (a sheet's title, notes)."""
    out = []
    for cells in rows[:header_index]:
        text = " ".join(t for t in (_text(c) for c in cells) if t)
        if text:
            out.append(text)
    return out


def _failed(message: str):
    from .importer import ImportFailed

    return ImportFailed(message)


def preview_rows(source, count: int = SCAN_ROWS) -> list[tuple[int, list[str]]]:
    """(row number as a spreadsheet shows it, cell texts) of the first rows of the file,
    header and title included: for choosing the header row."""
    if source.kind == "csv":
        rows = first_rows_csv(source.path, source.encoding, source.delimiter or ",", count)
    elif source.kind == "xlsx":
        rows = first_rows_xlsx(source.path, source.sheet, count)
    else:
        return [(1, list(source.headers))]
    return [(i, [_text(c) for c in cells]) for i, cells in enumerate(rows, start=1)]


def first_rows_xlsx(path: Path, sheet: str | None, count: int = SCAN_ROWS) -> list[list[Any]]:
    from .importer import _open_workbook

    wb = _open_workbook(path)
    try:
        ws = wb[sheet] if sheet else wb.worksheets[0]
        return [list(r) for r in ws.iter_rows(max_row=count, values_only=True)]
    finally:
        wb.close()


# --- XLSX cells -------------------------------------------------------------------------

def xlsx_date(value: Any, epoch: dt.datetime | None, with_time: bool) -> Any:
    """An XLSX number in a date or datetime column as the date (or date and time) its
    serial stands for (44270 → 2021-03-15; 44270.4375 → 2021-03-15 10:30); any other value
    as it is. A number out of ``SERIAL_RANGE`` is left to the field's own check."""
    if value.__class__ not in (int, float) or not SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
        return value
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

    moment = from_excel(value, epoch or CALENDAR_WINDOWS_1900)
    if not with_time:
        return moment.date() if isinstance(moment, dt.datetime) else moment
    return moment.replace(microsecond=0) if isinstance(moment, dt.datetime) else moment


# --- the columns no field takes: kept in ``extra`` ----------------------------------------

def extra_headers(headers: list[str], columns: list[int]) -> list[tuple[int, str]]:
    """(column, name it is kept under) for the kept columns: a column without a header is
    named by its letter (Column F), a repeated header gets its column letter too."""
    from openpyxl.utils import get_column_letter

    counts: dict[str, int] = {}
    for h in headers:
        counts[h] = counts.get(h, 0) + 1
    out = []
    for i in columns:
        h = headers[i] if i < len(headers) else ""
        letter = get_column_letter(i + 1)
        if not h:
            h = tr("import_read.column_letter", letter=letter)
        elif counts[h] > 1:
            h = f"{h} ({letter})"
        out.append((i, h))
    return out


def _shown(value: Any) -> str:
    from .importer import shown

    return shown(value)


def cell_text(value: Any) -> str:
    """A cell as text as the file holds it (a whole number without '.0', a date ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def extra_json(kept: list[tuple[int, str]], cells: list[Any]) -> str | None:
    """The kept cells of one row as the JSON the ``extra`` column holds (None: all empty)."""
    width = len(cells)
    values = {}
    for i, name in kept:
        if i < width:
            text = cell_text(cells[i]).strip()
            if text:
                values[name] = text
    return json.dumps(values, ensure_ascii=False) if values else None


def extra_items(row_or_text: Any) -> list[tuple[str, str]]:
    """(column, text) pairs of a customer's ``extra`` (a row or the JSON text), in file order."""
    text = getattr(row_or_text, EXTRA, row_or_text) if not isinstance(row_or_text, str) else row_or_text
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        return [("", str(text))]
    if not isinstance(data, dict):
        return [("", str(text))]
    return [(str(k), "" if v is None else str(v)) for k, v in data.items()]


def merge_extra(old: str | None, new: str | None) -> str | None:
    """An update's kept columns over those a customer has (a column in both: the new text)."""
    if not new:
        return old
    if not old:
        return new
    merged = dict(extra_items(old)) | dict(extra_items(new))
    return json.dumps(merged, ensure_ascii=False)


# --- the file of rejected rows -----------------------------------------------------------

def rejects_headers() -> set[str]:
    """The folded headers of a rejects file's own two columns, in every language."""
    from . import i18n

    out: set[str] = set()
    for key in (REASON_KEY, ROW_KEY):
        for lang in i18n.LANGS:
            out.add(_fold(tr(key, lang)))
    return out


class RejectsFile:
    """Rejected rows written as they are found to a CSV a spreadsheet opens (UTF-8 with
    BOM): the reason and the original row number, then the original cells under the
    original header (a control character written as its code, <U+001B>, as the import
    shows it: the row was rejected for it, and a spreadsheet would hide it). Rows whose cells are not at hand (rejected after cleaning: an
    update refused, an ambiguous match) are read again from the file at ``close``."""

    def __init__(self, path: Path, headers: list[str]):
        self.path, self.headers = path, headers
        self._fh = self._writer = None
        self.later: dict[int, str] = {}  # row number → reason, cells still to read

    def _open(self) -> None:
        from .exporter import csv_text

        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._fh)
        self._writer.writerow([tr(REASON_KEY), tr(ROW_KEY), *(csv_text(h) for h in self.headers)])

    def add(self, number: int, reason: str, cells: list[Any] | None) -> None:
        if cells is None:
            self.later[number] = (self.later[number] + "; " + reason) if number in self.later else reason
            return
        if self._fh is None:
            self._open()
        from .exporter import csv_text

        self._writer.writerow([reason, number, *(csv_text(_shown(cell_text(c))) for c in cells)])

    def close(self, source=None) -> Path | None:
        if self.later and source is not None:
            if self._fh is None:
                self._open()
            from .exporter import csv_text

            for number, cells in source.rows():
                reason = self.later.pop(number, None)
                if reason is not None:
                    self._writer.writerow([reason, number, *(csv_text(_shown(cell_text(c))) for c in cells)])
                    if not self.later:
                        break
            for number, reason in sorted(self.later.items()):   # not in the file (row 0)
                self._writer.writerow([reason, number or ""])
            self.later = {}
        if self._fh is None:
            return None
        self._fh.close()
        self._fh = None
        return self.path


def reason_text(problems) -> str:
    """One cell naming every field of a row that was refused and why."""
    return tr("import_read.reason_separator").join(
        tr("import_read.reason_item", field=p.field, reason=p.reason) if p.field else p.reason
        for p in problems)


# --- the kept columns elsewhere: the customer page, the export ---------------------------

def may_read_extra(store) -> bool:
    """The kept columns hold anything a file had (an ID number, a salary): only a role that
    sees every field in clear reads them (as it reads the full search text)."""
    guard = getattr(store, "guard", None)
    if guard is None:
        return True
    return all(guard.role.allows("view", s) and guard.may_see(s) for s in store.schema.fields)


def extra_for(store, customer_id: int) -> list[tuple[str, str]]:
    """(column, text) of one customer's kept columns, for the customer page ([] when none
    or the user's role may not read them)."""
    if not may_read_extra(store):
        return []
    C = store.Customer
    return extra_items(C.select(C.extra).where(C.id == customer_id).scalar())


def export_extra_keys(store, rows) -> list[str]:
    """The kept column names of the customers of ``rows`` (a ResultSet), in the order
    they first appear: the export writes each as a column after the fields."""
    if not may_read_extra(store):
        return []
    C = store.Customer
    keys: dict[str, None] = {}
    query = rows.select().select(C.extra).where(C.extra.is_null(False)).order_by().tuples()
    for (text,) in query.iterator():
        for key, _ in extra_items(text):
            keys.setdefault(key, None)
    return list(keys)


def extra_cells(text: str | None, keys: list[str]) -> list[str | None]:
    """One customer's kept columns in the order of ``keys`` (None where it has none)."""
    if not text:
        return [None] * len(keys)
    values = dict(extra_items(text))
    return [values.get(k) or None for k in keys]
