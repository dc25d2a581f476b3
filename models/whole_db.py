"""The whole database out and back in: ``kehu export --all`` / ``kehu import --all``.

One table per sheet of an XLSX workbook (``.xlsx``), or one CSV per table in a
folder (any other path): customers (every schema field, computed ones and the
deleted rows included), contacts (with ``reports_to_id``), timeline,
verifications, import history (``import_batch`` and ``import_change``, the values an
import's updates replaced, so that an import stays revertible after the move), what
the automation rules did (``automation_fired``: without it ``kehu automations run``
in the new database would fire every rule again — a second follow-up for the same
silence) and the user's saved views.
Every value is written as text in one exact form — ``2026-03-15 10:30:00.123456``,
``12000.00``, ``true`` — so nothing is rounded by a spreadsheet's number or date
cells; an empty cell is no value.

Import adds every row to the open database (SQLite or PostgreSQL) with new ids,
and every link follows its row: a contact's customer and manager, an entry's
customer and contact, a verification's customer, a customer's import batch.
Moving from SQLite to the team's PostgreSQL is ``export --all`` then
``import --all`` into the new database. A column the target database does not
have (a field its schema lacks) is reported, not silently dropped.

Left out on purpose — bookkeeping of one database, not data: ``kehu_meta`` (schema
types, migration marks: the target has its own), the audit trail ``kehu_audit`` (a
hash chain of what happened *in that database*: copied rows would be a second, false
history; the export and the import each get an entry instead), ``merge_record``
(undoing a merge of the old database: its JSON lists ids of the old database), the
agenda's done/snoozed marks (short-lived reminders of one user) and the team's users
and roles (PostgreSQL roles, made with ``kehu user``/``kehu roles``).
"""
from __future__ import annotations

import csv
import datetime as dt
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import peewee
import yaml

from .errors import KehuError
from .exporter import value_text
from .i18n import tr
from .io_tables import io_models
from .store import MoneyField, Store

#: sheet/file name → model name, in the order they are written and read back
TABLES = ("customers", "contacts", "timeline", "verifications", "imports", "import_changes",
          "automation_fired", "views")
XLSX_MAX_ROWS = 1_048_575   # a sheet's rows less the header


class WholeDbError(KehuError):
    """An --all export or import that cannot run; ``str()`` is one sentence."""


@dataclass
class WholeResult:
    path: Path
    counts: dict[str, int] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)   # "table.column" the target cannot hold

    def summary(self) -> str:
        return ", ".join(f"{tr('whole.table.' + t)} {n}" for t, n in self.counts.items())


def _models(store: Store) -> dict[str, type[peewee.Model]]:
    from .automations import fired_model

    io = io_models(store)
    return {"customers": store.Customer, "contacts": store.Contact,
            "timeline": store.Interaction, "verifications": store.Verification,
            "imports": io["ImportBatch"], "import_changes": io["ImportChange"],
            "automation_fired": fired_model(store)}


def _columns(model) -> list[peewee.Field]:
    fields = [f for f in model._meta.sorted_fields if f.column_name != "search_text"]
    return fields


def _text(value: Any) -> str | None:
    return None if value is None else value_text(value)


def _value(f: peewee.Field, text: Any) -> Any:
    """A cell back to the column's value (the inverse of ``_text``)."""
    if text is None or text == "":
        return None
    text = str(text)
    if isinstance(f, peewee.BooleanField):
        return text.strip().lower() in ("true", "1", "yes")
    if isinstance(f, peewee.DateTimeField):
        return dt.datetime.fromisoformat(text)
    if isinstance(f, peewee.DateField):
        return dt.date.fromisoformat(text[:10])
    if isinstance(f, (MoneyField, peewee.DecimalField)):
        return Decimal(text)
    if isinstance(f, (peewee.IntegerField, peewee.AutoField, peewee.ForeignKeyField)):
        return int(text)
    if isinstance(f, peewee.FloatField):
        return float(text)
    return text


# --- export ---------------------------------------------------------------------------

def _table_rows(store: Store, name: str) -> tuple[list[str], Iterator[list[str | None]]]:
    if name == "views":
        from .views import _user_raws, user_views_path

        raws = _user_raws(user_views_path())
        rows = ([str(r.get("key", "")), yaml.safe_dump(r, allow_unicode=True, sort_keys=False)]
                for r in raws if isinstance(r, dict))
        return ["key", "definition"], rows
    model = _models(store)[name]
    fields = _columns(model)
    query = model.select(*fields).order_by(model._meta.primary_key).tuples()
    return ([f.column_name for f in fields],
            ([_text(v) for v in row] for row in query.iterator()))


def export_all(store: Store, path: str | Path, *,
               progress: Callable[[str, int], None] | None = None) -> WholeResult:
    """Every table to ``path``: an XLSX workbook (``.xlsx``) or a folder of CSVs."""
    store.guard.require("export")
    store.guard.require("import")   # the whole database, deleted rows and all: an admin's job
    store.guard.require("backup")   # unmasked, like a backup: a role that may not back up may not
    path = Path(path)
    result = WholeResult(path)
    xlsx = path.suffix.lower() == ".xlsx"
    try:
        if xlsx:
            _export_xlsx(store, path, result, progress)
        else:
            if (path.exists() and not path.is_dir()) or path.suffix.lower() in (
                    ".csv", ".xls", ".xlsm", ".json", ".vcf", ".txt"):
                raise WholeDbError(tr("whole.not_a_folder", path=path))
            path.mkdir(parents=True, exist_ok=True)
            for name in TABLES:
                headers, rows = _table_rows(store, name)
                count = 0
                with open(path / f"{name}.csv", "w", encoding="utf-8-sig", newline="") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(headers)
                    for row in rows:
                        writer.writerow(["" if v is None else v for v in row])
                        count += 1
                result.counts[name] = count
                if progress:
                    progress(name, count)
    except OSError as exc:
        raise WholeDbError(tr("whole.cannot_write", path=path, error=exc.strerror or exc)) from None
    store.audit.record("export", "customer", None,
                       fields={"rows": [None, result.counts.get("customers", 0)]},
                       note=tr("whole.audit_export", path=path.resolve(), tables=result.summary()))
    return result


def _export_xlsx(store: Store, path: Path, result: WholeResult, progress) -> None:
    import os

    from openpyxl import Workbook

    from .exporter import xlsx_cell

    wb = Workbook(write_only=True)
    partial = path.with_name(path.name + ".partial")
    for name in TABLES:
        ws = wb.create_sheet(name)
        headers, rows = _table_rows(store, name)
        ws.append(headers)
        count = 0
        for row in rows:
            count += 1
            if count > XLSX_MAX_ROWS:
                wb.close()
                raise WholeDbError(tr("whole.too_many_for_xlsx", table=name, max=XLSX_MAX_ROWS))
            ws.append([None if v is None else xlsx_cell(ws, v) for v in row])
        result.counts[name] = count
        if progress:
            progress(name, count)
    wb.save(partial)
    os.replace(partial, path)


# --- import ---------------------------------------------------------------------------

def _read_tables(path: Path) -> dict[str, tuple[list[str], list[list[Any]]]]:
    tables: dict[str, tuple[list[str], list[list[Any]]]] = {}
    if path.is_dir():
        csv.field_size_limit(sys.maxsize)
        for name in TABLES:
            file = path / f"{name}.csv"
            if not file.exists():
                continue
            with open(file, encoding="utf-8-sig", newline="") as fh:
                rows = list(csv.reader(fh))
            if rows:
                tables[name] = (rows[0], rows[1:])
    elif path.suffix.lower() == ".xlsx" and path.is_file():
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
            raise WholeDbError(tr("import.bad_xlsx", path=path,
                                  error=str(exc) or type(exc).__name__)) from None
        try:
            for name in TABLES:
                if name not in wb.sheetnames:
                    continue
                rows = [list(r) for r in wb[name].iter_rows(values_only=True)]
                if rows:
                    tables[name] = ([str(h) for h in rows[0] if h is not None], rows[1:])
        finally:
            wb.close()
    else:
        raise WholeDbError(tr("whole.no_source", path=path))
    if "customers" not in tables:
        raise WholeDbError(tr("whole.no_customers", path=path))
    return tables


def _records(model, headers: list[str], rows, table: str, result: WholeResult
             ) -> Iterator[tuple[int, dict[str, Any]]]:
    """(old id, {column name: value}) per row, the columns the target has."""
    by_column = {f.column_name: f for f in model._meta.sorted_fields}
    known = [(i, by_column[h]) for i, h in enumerate(headers) if h in by_column]
    result.left_out += [f"{table}.{h}" for h in headers if h not in by_column and h != "search_text"]
    for number, row in enumerate(rows, start=2):
        if not any(c not in (None, "") for c in row):
            continue
        try:
            values = {f.column_name: _value(f, row[i] if i < len(row) else None) for i, f in known}
        except (ValueError, ArithmeticError) as exc:
            raise WholeDbError(tr("whole.bad_value", table=table, row=number, error=exc)) from None
        yield values.pop("id"), values


class _Inserter:
    """Rows of one table inserted in batches with ids chosen here (the next free ones,
    the tables held meanwhile), so every link is remapped before it is written."""

    BATCH = 1000

    def __init__(self, store: Store, model):
        self.store, self.model = store, model
        self.table = model._meta.table_name
        self.fields = {f.column_name: f for f in model._meta.sorted_fields}
        top = store.db.execute_sql(f'SELECT MAX("id") FROM "{self.table}"').fetchone()[0]
        self.next_id = (top or 0) + 1
        self.pending: list[dict[str, Any]] = []

    def add(self, values: dict[str, Any]) -> int:
        new = self.next_id
        self.next_id += 1
        self.pending.append({"id": new, **values})
        if len(self.pending) >= self.BATCH:
            self.flush()
        return new

    def flush(self) -> None:
        if not self.pending:
            return
        columns = list(dict.fromkeys(c for row in self.pending for c in row))
        fields = [self.fields[c] for c in columns]
        tuples = [tuple(None if row.get(c) is None else f.db_value(row[c])
                        for c, f in zip(columns, fields)) for row in self.pending]
        names = ", ".join(f'"{c}"' for c in columns)
        db = self.store.db
        cursor = db.cursor()
        if self.store.is_postgres:   # psycopg2's executemany is a round trip per row
            from psycopg2.extras import execute_values

            execute_values(cursor, f'INSERT INTO "{self.table}" ({names}) VALUES %s', tuples,
                           page_size=self.BATCH)
        else:
            marks = ", ".join([db.param] * len(columns))
            cursor.executemany(f'INSERT INTO "{self.table}" ({names}) VALUES ({marks})', tuples)
        self.pending = []

    def done(self) -> None:
        self.flush()
        if self.store.is_postgres:   # the serial goes on after the ids given here
            self.store.db.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{self.table}\"', 'id'), "
                f'(SELECT MAX("id") FROM "{self.table}"))')


def _hold(store: Store, tables: list[str]) -> None:
    """Keep other writers out until the end of the transaction, so the ids chosen
    here stay free (PostgreSQL: a table lock; SQLite: a first write takes the
    database's write lock)."""
    if store.is_postgres:
        names = ", ".join(f'"{t}"' for t in tables)
        store.db.execute_sql(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE")
    else:
        store.db.execute_sql('UPDATE "kehu_meta" SET "value" = "value" WHERE 0 = 1')


def import_all(store: Store, path: str | Path, *,
               progress: Callable[[str, int], None] | None = None) -> WholeResult:
    """Add every row of an ``export --all`` file or folder to this database."""
    from . import search

    store.guard.require("import")
    path = Path(path)
    tables = _read_tables(path)
    result = WholeResult(path)
    models = _models(store)
    ids: dict[str, dict[int, int]] = {t: {} for t in TABLES}

    def link(table: str, old: Any, where: str) -> int | None:
        if old is None:
            return None
        new = ids[table].get(old)
        if new is None:
            raise WholeDbError(tr("whole.broken_link", where=where, table=tr("whole.table." + table),
                                  id=old))
        return new

    with store.db.atomic():
        _hold(store, [m._meta.table_name for m in models.values()])
        if "imports" in tables:
            headers, rows = tables["imports"]
            out = _Inserter(store, models["imports"])
            for old, values in _records(models["imports"], headers, rows, "imports", result):
                ids["imports"][old] = out.add(values)
            out.done()
        headers, rows = tables["customers"]
        C = store.Customer
        schema_keys = [s.key for s in store.schema.fields]
        out = _Inserter(store, C)
        for old, values in _records(C, headers, rows, "customers", result):
            if values.get("import_batch") is not None:
                values["import_batch"] = ids["imports"].get(values["import_batch"])
            record = {k: values.get(k) for k in schema_keys}
            values["search_text"] = search.build_search_text(store.schema, record)
            ids["customers"][old] = out.add(values)
        out.done()
        if progress:
            progress("customers", len(ids["customers"]))
        if "import_changes" in tables:   # an import's updates: revertible after the move too
            headers, rows = tables["import_changes"]
            out = _Inserter(store, models["import_changes"])
            for old, values in _records(models["import_changes"], headers, rows, "import_changes",
                                        result):
                where = tr("whole.table.import_changes") + f" #{old}"
                values["batch_id"] = link("imports", values.get("batch_id"), where)
                values["customer_id"] = link("customers", values.get("customer_id"), where)
                ids["import_changes"][old] = out.add(values)
            out.done()
        managers: list[tuple[int, Any]] = []
        if "contacts" in tables:
            headers, rows = tables["contacts"]
            out = _Inserter(store, store.Contact)
            for old, values in _records(store.Contact, headers, rows, "contacts", result):
                values["customer_id"] = link("customers", values.get("customer_id"),
                                             tr("whole.table.contacts") + f" #{old}")
                manager = values.pop("reports_to_id", None)
                ids["contacts"][old] = out.add(values)
                if manager is not None:
                    managers.append((old, manager))
            out.done()
            # a manager may come after the contact in the file: linked once all are in
            pairs = [(link("contacts", manager, tr("whole.table.contacts") + f" #{old}"),
                      ids["contacts"][old]) for old, manager in managers]
            if pairs:
                p = store.db.param
                store.db.cursor().executemany(
                    f'UPDATE "contact" SET "reports_to_id" = {p} WHERE "id" = {p}', pairs)
        for table, model in (("timeline", store.Interaction), ("verifications", store.Verification)):
            if table not in tables:
                continue
            headers, rows = tables[table]
            out = _Inserter(store, model)
            for old, values in _records(model, headers, rows, table, result):
                where = tr("whole.table." + table) + f" #{old}"
                values["customer_id"] = link("customers", values.get("customer_id"), where)
                if "contact_id" in values:
                    values["contact_id"] = link("contacts", values["contact_id"], where)
                ids[table][old] = out.add(values)
            out.done()
        if "automation_fired" in tables:   # the rules' memory: a run fires nothing twice
            model = models["automation_fired"]
            headers, rows = tables["automation_fired"]
            out = _Inserter(store, model)
            for old, values in _records(model, headers, rows, "automation_fired", result):
                where = tr("whole.table.automation_fired") + f" #{old}"
                values["customer_id"] = link("customers", values.get("customer_id"), where)
                kind, _, entry = str(values.get("occasion") or "").partition(":")
                if kind == "purchase" and entry.isdigit():   # purchase:<timeline entry id>
                    values["occasion"] = f"purchase:{ids['timeline'].get(int(entry), entry)}"
                ids["automation_fired"][old] = out.add(values)
            out.done()
        store.audit.record("import", "customer", None,
                           fields={"rows": [None, len(ids["customers"])]},
                           note=tr("whole.audit_import", path=path.resolve()))
    if "views" in tables:
        ids["views"] = {i: i for i in range(_import_views(*tables["views"]))}
    result.counts = {t: len(ids[t]) for t in TABLES if t in tables}
    return result


def _import_views(headers: list[str], rows) -> int:
    """The saved views added to the user's views.yaml (a key already there with
    another definition is kept, and the imported one gets a new key)."""
    from .views import _user_raws, _write, new_view_key, user_views_path

    if "definition" not in headers:
        return 0
    column = headers.index("definition")
    path = user_views_path()
    raws = _user_raws(path)
    added = 0
    for row in rows:
        text = row[column] if column < len(row) else None
        if not text:
            continue
        view = yaml.safe_load(str(text))
        if not isinstance(view, dict):
            continue
        same = next((r for r in raws if isinstance(r, dict) and r.get("key") == view.get("key")), None)
        if same == view:
            added += 1
            continue
        if same is not None:
            view["key"] = new_view_key(str(view.get("name") or view.get("key")),
                                       [str(r.get("key")) for r in raws if isinstance(r, dict)])
        raws.append(view)
        added += 1
    _write(path, raws)
    return added
