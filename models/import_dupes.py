"""Rows of an import that are customers kehu already has (issue 16).

Importing the same sheet twice used to create every customer twice. Before the
rows of a chunk are inserted, ``Duplicates.sift`` looks them up among the live
customers — by phone (any phone field of the row against any phone field of a
customer), by e-mail, then by name and company — with a few indexed ``IN``
queries per chunk, not one query per row. What happens to a row that matches is
the user's choice (``ACTIONS``):

* ``skip`` (the default of the CLI and the wizard): the row is left out and
  counted;
* ``update``: the row's non-empty values are saved into the matched customer
  through the import's guarded update path (the role's rights, the audit trail,
  the import's history, so ``kehu imports revert`` puts the old values back);
* ``create``: a new customer anyway (what imports did before).

A row matching several customers is skipped (``skip``), created (``create``) or
rejected with the ids it matches (``update``: which one to change is not clear).
The dry run reports the same counts and a few examples.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import peewee

from .dedupe import _norm
from .errors import KehuError
from .i18n import tr

ACTIONS = ("skip", "update", "create")
#: Values per IN (...) query: far below SQLite's and PostgreSQL's bound-parameter limits.
IN_BATCH = 500
#: Up to this many live customers (or fewer than the file's rows) are read into memory
#: once for the lookups instead of queried per chunk.
PRELOAD = 200_000
#: Matches kept to show (the CLI and the wizard show the first few).
EXAMPLES = 5


class DuplicateChoiceError(KehuError):
    """An unknown --on-duplicate value."""


def check_action(action: str | None) -> str | None:
    if action is None or action in ACTIONS:
        return action
    raise DuplicateChoiceError(tr("import_dupes.bad_action", value=action,
                                  choices=", ".join(ACTIONS)))


@dataclass
class Example:
    row: int
    customer_id: int
    name: str
    company: str
    by: str   # the field labels the row matched by


@dataclass
class Duplicates:
    """What the rows matching existing customers came to (``ImportResult.duplicates``)."""
    action: str
    matched: int = 0      # rows matching one customer or more
    skipped: int = 0      # left out (skip, or a row matching several customers)
    updated: int = 0      # rows given to the update path (the customers changed: result.updated)
    created: int = 0      # created anyway
    ambiguous: int = 0    # rows matching more than one customer
    examples: list[Example] = field(default_factory=list)
    #: row numbers left out (skip, or ambiguous) and row number → the customer it updates
    skipped_rows: set[int] = field(default_factory=set)
    updated_rows: dict[int, int] = field(default_factory=dict)

    def summary(self) -> str:
        key = {"skip": "import_dupes.summary_skip", "update": "import_dupes.summary_update",
               "create": "import_dupes.summary_create"}[self.action]
        text = tr(key, matched=self.matched, skipped=self.skipped, updated=self.updated,
                  created=self.created)
        if self.ambiguous:
            text += " " + tr("import_dupes.summary_ambiguous", count=self.ambiguous)
        return text

    def example_lines(self) -> list[str]:
        return [tr("import_dupes.example", row=e.row, id=e.customer_id, name=e.name,
                   company=f" · {e.company}" if e.company and e.company != e.name else "", by=e.by)
                for e in self.examples]


class Finder:
    """Looks the rows of a chunk up among the live customers (see the module docstring)."""

    def __init__(self, store, action: str, expected_rows: int = 0):
        self.store = store
        self.action = check_action(action) or "skip"
        schema = store.schema
        live = [s for s in schema.fields if not s.computed]
        self.phones = [s.key for s in live if s.type == "phone"]
        self.emails = [s.key for s in live if s.type == "email"]
        self.by_name = "name" in schema
        self.company = "company" if "company" in schema else None
        self.labels = {s.key: s.label() for s in live}
        self.result = Duplicates(self.action)
        #: the columns of a customer row as the rules read it: (id, *columns)
        self.columns = self.phones + self.emails + (["name"] if self.by_name else []) + (
            [self.company] if self.company else [])
        self.at = {k: i + 1 for i, k in enumerate(self.columns)}
        C = store.Customer
        count = C.select().where(C.deleted_at.is_null()).count()
        #: rows this import creates come after this id: not matched (as in memory)
        self.last_id = C.select(peewee.fn.MAX(C.id)).scalar() or 0
        self.memory: dict[str, dict[Any, list[tuple]]] | None = None
        self.indexed_by: dict[str, str] = {}
        if count <= PRELOAD or count < expected_rows:
            self._preload()
        elif not store.is_postgres:
            have = {i.name for i in store.db.get_indexes("customer")}
            self.indexed_by = {k: f"customer_{k}" for k in self.columns if f"customer_{k}" in have}

    # --- looking up --------------------------------------------------------------

    def _preload(self) -> None:
        """The live customers' phones, e-mails and names in memory, read in one pass:
        for a table smaller than PRELOAD rows or than the file (whose import may build
        the table's indexes only at its end, so a lookup could not use them)."""
        self.memory = {k: {} for k in self.columns}
        wanted = ", ".join(f'"{k}"' for k in ["id", *self.columns])
        cursor = self.store.db.execute_sql(
            f'SELECT {wanted} FROM "customer" WHERE "deleted_at" IS NULL')
        emails = set(self.emails)
        while rows := cursor.fetchmany(10_000):
            for row in rows:
                for k, i in self.at.items():
                    value = row[i]
                    if value and k != self.company:
                        self.memory[k].setdefault(value.casefold() if k in emails else value,
                                                  []).append(row)

    def _rows(self, key: str, values: set) -> list[tuple]:
        """Rows (id, *self.columns) of live customers whose ``key`` is one of ``values``
        (e-mails compared case-folded). Without the rows in memory: one IN query per
        batch of values, written as SQL (peewee took longer to build a query of 500
        values than the database to answer it); the deleted rows are left out here,
        not in SQL (``deleted_at IS NULL`` let SQLite walk the index of deleted_at,
        where every live row is), and SQLite is told to use the column's index
        (statistics of a column still empty would make it read the whole table)."""
        if self.memory is not None:
            index = self.memory[key]
            fold = str.casefold if key in self.emails else None
            return [row for v in values for row in index.get(fold(v) if fold else v, ())]
        if key in self.emails:
            values = values | {v.lower() for v in values}   # a local part typed in capitals
        db = self.store.db
        wanted = ", ".join(f'"{k}"' for k in ["id", *self.columns, "deleted_at"])
        hint = f' INDEXED BY "{self.indexed_by[key]}"' if key in self.indexed_by else ""
        values = sorted(values, key=str)
        out = []
        for start in range(0, len(values), IN_BATCH):
            part = values[start:start + IN_BATCH]
            marks = ", ".join([db.param] * len(part))
            cursor = db.execute_sql(f'SELECT {wanted} FROM "customer"{hint} WHERE "{key}" IN ({marks})',
                                    part)
            out += [row[:-1] for row in cursor.fetchall() if row[-1] is None and row[0] <= self.last_id]
        return out

    def lookup(self, records: list[dict[str, Any]]) -> list[tuple[list[int], str] | None]:
        """Per record: (the ids of the customers it matches, the labels it matched by), or None."""
        found: list[tuple[list[int], str] | None] = [None] * len(records)
        todo = list(range(len(records)))
        for keys in (self.phones, self.emails):
            if todo and keys:
                todo = self._rule(keys, records, todo, found)
        if todo and self.by_name:
            todo = self._by_name(records, todo, found)
        return found

    def _rule(self, keys: list[str], records, todo: list[int], found) -> list[int]:
        """Any of ``keys`` of a record equal to any of ``keys`` of a customer."""
        fold = str.casefold if keys is self.emails else str
        wanted = {records[i][k] for i in todo for k in keys if records[i].get(k)}
        if not wanted:
            return todo
        index: dict[Any, set[int]] = {}
        for key in keys:
            for row in self._rows(key, wanted):
                for k in keys:
                    if row[self.at[k]]:
                        index.setdefault(fold(row[self.at[k]]), set()).add(row[0])
        left = []
        for i in todo:
            ids: set[int] = set()
            by = []
            for k in keys:
                v = records[i].get(k)
                hit = index.get(fold(v)) if v else None
                if hit:
                    ids |= hit
                    by.append(self.labels[k])
            if ids:
                found[i] = (sorted(ids), "/".join(by))
            else:
                left.append(i)
        return left

    def _by_name(self, records, todo: list[int], found) -> list[int]:
        """Same name and the same company (both empty counts), unless a phone or
        e-mail both have says they are different people."""
        names = {records[i]["name"] for i in todo if records[i].get("name")}
        if not names:
            return todo
        checks = self.phones + self.emails
        by_name: dict[str, list[tuple]] = {}
        for row in self._rows("name", names):
            by_name.setdefault(row[self.at["name"]], []).append(row)
        left = []
        label = self.labels["name"] + ("+" + self.labels[self.company] if self.company else "")
        for i in todo:
            record = records[i]
            ids = []
            for row in by_name.get(record.get("name"), []):
                if self.company and _norm(row[self.at[self.company]] or "") != _norm(
                        record.get(self.company) or ""):
                    continue
                if any(row[self.at[k]] and record.get(k) and str(row[self.at[k]]).casefold()
                       != str(record[k]).casefold() for k in checks):
                    continue
                ids.append(row[0])
            if ids:
                found[i] = (sorted(set(ids)), label)
            else:
                left.append(i)
        return left

    # --- deciding ----------------------------------------------------------------

    def sift(self, records: list[dict[str, Any]], rows: list[tuple[int, dict[str, Any]]],
             updates: dict[int, dict[str, Any]], update_rows: dict[int, int],
             reject: Callable[[int, str, str, str], None]) -> None:
        """Take the rows matching customers out of ``records`` (the new customers of a
        chunk, in place), by the action: ``rows`` are (row number, values from the file)
        beside them; ``update`` puts the values into ``updates`` (customer id → values)
        and ``update_rows`` (customer id → row); ``reject(row, field, value, reason)``
        refuses a row matching several customers when updating."""
        matches = self.lookup(records)
        if not any(matches):
            return
        keep_records, keep_rows = [], []
        out = self.result
        for record, (number, values), match in zip(records, rows, matches):
            if match is None:
                keep_records.append(record)
                keep_rows.append((number, values))
                continue
            ids, by = match
            out.matched += 1
            if len(out.examples) < EXAMPLES:
                self._example(number, ids[0], by)
            if len(ids) > 1:
                out.ambiguous += 1
            if self.action == "create":
                out.created += 1
                keep_records.append(record)
                keep_rows.append((number, values))
            elif self.action == "update" and len(ids) == 1:
                out.updated += 1
                out.updated_rows[number] = ids[0]
                updates.setdefault(ids[0], {}).update(values)
                update_rows[ids[0]] = number
            elif self.action == "update":
                out.skipped_rows.add(number)
                reject(number, by, str(record.get("name", "")),
                       tr("import_dupes.ambiguous", count=len(ids),
                          ids=", ".join(f"#{i}" for i in ids[:5])))
            else:
                out.skipped += 1
                out.skipped_rows.add(number)
        records[:] = keep_records
        rows[:] = keep_rows

    def _example(self, number: int, cid: int, by: str) -> None:
        """A match to show, as the user may see that customer: one outside their rows
        (another owner's) is named by its number only, a value they may not view is
        masked — the rows are still matched against every customer."""
        from .security import PermissionDenied

        store = self.store
        row = store.Customer.get_or_none(store.Customer.id == cid)
        if row is None:
            return
        guard, schema = store.guard, store.schema
        try:
            mine = guard.owns(row)
            name = guard.mask(schema["name"], row.name) if mine else None
            company = (guard.mask(schema[self.company], getattr(row, self.company))
                       if mine and self.company else None)
        except PermissionDenied:
            name = company = None
        self.result.examples.append(Example(number, cid, name or tr("import_dupes.not_yours"),
                                            company or "", by))


def finder_for(store, action: str | None, expected_rows: int = 0) -> Finder | None:
    """A finder when ``action`` is given and there are live customers to match."""
    if check_action(action) is None:
        return None
    C = store.Customer
    if not C.select(C.id).where(C.deleted_at.is_null()).exists():
        return None
    return Finder(store, action, expected_rows)
