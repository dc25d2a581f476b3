"""Bulk changes: one change to many customers at once, undoable as a whole.

A *selection* is kept the way the workbench has it, never as loaded rows: the
query the table shows (view filter + search text) with the rows toggled off,
or an explicit set of ids (rows toggled on one by one). ``selected_ids`` turns
it into ids in SQL, within the user's row scope.

``apply`` makes the change — set fields, add or remove a tag, log the same
timeline entry, or delete — in one transaction: one UPDATE per chunk of rows
(search text rebuilt, so the index finds the new values), one audit entry per
customer, all tied to one batch in the import journal (``import_batch``, with
``file_format='bulk'``), so ``undo`` can put the batch back as a whole, as
``kehu imports revert`` does for an import. What the role may not change is
counted and skipped: fields it may not edit, customers outside its row scope,
a customer given away by a role that keeps only its own.
"""
from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import peewee

from . import search
from .audit import plain
from .errors import KehuError
from .i18n import tr
from .io_tables import from_json, io_models, to_json
from .results import ResultSet
from .store import NotFound, Store, now
from .validate import split_tags

CHUNK = 2000
BULK_FORMAT = "bulk"
LOGGED = "__interaction__"   # ImportChange.before key: the timeline entry a batch added
DELETED = "__deleted__"      # ImportChange.before key: the batch soft-deleted the customer


class BulkError(KehuError):
    """A bulk change that cannot be made (nothing selected, bad field, unknown batch)."""


@dataclass(frozen=True)
class Selection:
    """Which customers: everything ``query``/``search`` match minus ``excluded``
    (``all_matching``), or just ``ids``."""
    query: str = ""            # the view's filter
    search: str = ""           # what is typed in the search box
    all_matching: bool = False
    ids: frozenset[int] = frozenset()
    excluded: frozenset[int] = frozenset()

    @classmethod
    def of_query(cls, query: str) -> "Selection":
        return cls(search=query, all_matching=True)

    def contains(self, customer_id: int) -> bool:
        if self.all_matching:
            return customer_id not in self.excluded
        return customer_id in self.ids

    def toggle(self, customer_id: int) -> "Selection":
        if self.all_matching:
            return _replace(self, excluded=self.excluded ^ {customer_id})
        return _replace(self, ids=self.ids ^ {customer_id})

    def count(self, matching: int) -> int:
        """How many are selected, given how many the query matches."""
        return max(matching - len(self.excluded), 0) if self.all_matching else len(self.ids)

    @property
    def empty(self) -> bool:
        return not self.all_matching and not self.ids


def _replace(selection: Selection, **changes) -> Selection:
    from dataclasses import replace

    return replace(selection, **changes)


def selected_ids(store: Store, selection: Selection) -> list[int]:
    """The selected customers' ids, in id order, within the user's row scope."""
    C = store.Customer
    if selection.all_matching:
        result = ResultSet(store, selection.search, base_filter=selection.query or None)
        query = result._select(C.id)
        if selection.excluded:
            query = query.where(C.id.not_in(sorted(selection.excluded)))
        return [row[0] for row in store.db.execute(query.order_by(C.id))]
    ids = sorted(selection.ids)
    out: list[int] = []
    for start in range(0, len(ids), 900):
        part = ids[start:start + 900]
        out += [r[0] for r in store.customers().select(C.id).where(C.id.in_(part)).tuples()]
    return sorted(out)


@dataclass
class Change:
    """What to do to every selected customer."""
    set: dict[str, Any] = field(default_factory=dict)      # field key or label → raw value
    add_tags: list[str] = field(default_factory=list)
    remove_tags: list[str] = field(default_factory=list)
    tag_field: str = "tags"
    log: dict[str, Any] | None = None   # a timeline entry: kind, summary, details …
    delete: bool = False

    @property
    def empty(self) -> bool:
        return not (self.set or self.add_tags or self.remove_tags or self.log or self.delete)


@dataclass
class BulkResult:
    selected: int = 0
    changed: int = 0
    unchanged: int = 0            # already had the values
    skipped_rows: int = 0         # outside the role's rights (row scope, owner)
    skipped_fields: list[str] = field(default_factory=list)   # labels the role may not edit
    batch_id: int | None = None
    dry_run: bool = False
    description: str = ""

    def sentence(self, undo_hint: bool = True) -> str:
        """What happened, in one sentence; ``undo_hint``: end with the command that
        undoes it (the CLI; a screen names its own key instead)."""
        key = "bulk.would_change" if self.dry_run else "bulk.changed"
        parts = [tr(key, changed=self.changed, selected=self.selected, what=self.description)]
        if self.unchanged:
            parts.append(tr("bulk.unchanged", count=self.unchanged))
        if self.skipped_rows:
            parts.append(tr("bulk.skipped_rows", count=self.skipped_rows))
        if self.skipped_fields:
            parts.append(tr("bulk.skipped_fields", fields=", ".join(self.skipped_fields)))
        if self.batch_id is not None and not self.dry_run and undo_hint:
            parts.append(tr("bulk.undo_hint", batch=self.batch_id))
        return "; ".join(parts)


def _resolve(store: Store, name: str):
    spec = store.schema.get(name) or store.schema.resolve(name)
    if spec is None:
        raise BulkError(tr("bulk.unknown_field", field=name))
    return spec


def describe(store: Store, change: Change) -> str:
    """The change in words, for the confirmation and the result line."""
    parts = []
    for name, raw in change.set.items():
        spec = _resolve(store, name)
        parts.append(tr("bulk.desc_set", field=spec.label(), value=raw if raw not in (None, "")
                        else tr("bulk.empty_value")))
    for tag in change.add_tags:
        parts.append(tr("bulk.desc_add_tag", tag=tag))
    for tag in change.remove_tags:
        parts.append(tr("bulk.desc_remove_tag", tag=tag))
    if change.log:
        parts.append(tr("bulk.desc_log", kind=change.log.get("kind", ""),
                        summary=change.log.get("summary") or ""))
    if change.delete:
        parts.append(tr("bulk.desc_delete"))
    return ", ".join(parts)


def _clean_values(store: Store, change: Change, result: BulkResult) -> dict[str, Any]:
    """The set values cleaned once (the same for every row); fields the role may not
    edit are dropped and named in ``result.skipped_fields``."""
    guard = store.guard
    raw = {}
    for name, value in change.set.items():
        spec = _resolve(store, name)
        if not (guard.role.allows("edit", spec) and guard.may_see(spec)):
            result.skipped_fields.append(spec.label())
            continue
        raw[spec.key] = value
    if change.add_tags or change.remove_tags:
        spec = _resolve(store, change.tag_field)
        if not (guard.role.allows("edit", spec) and guard.may_see(spec)):
            result.skipped_fields.append(spec.label())
    return store.validate(raw, partial=True) if raw else {}


FTS_UPDATE_TRIGGER = "customer_fts_au"
FTS_PENDING = "kehu_bulk_fts"


class _DeferredIndex:
    """The SQLite search index kept right for a bulk change with two statements
    instead of two per row.

    The per-row update trigger rewrites a row's index entries in statements of
    their own, and FTS5 flushes its pending terms at each statement's savepoint:
    ~1 ms a row at 1M rows (100,000 tag changes ≈ 100 s). Inside the caller's
    transaction the trigger is dropped (and made again at the end: SQLite's DDL is
    transactional, a rollback brings it back), each row whose search text changes
    is noted with the text the index holds for it (None: not indexed, a deleted
    row), and ``finish`` deletes the old texts in one statement and indexes the
    live rows' new ones in another. PostgreSQL's trigram index needs none of it."""

    def __init__(self, store: Store):
        self.store = store
        self.on = not store.is_postgres and not getattr(store, "_search_bulk", False)
        self.pending: list[tuple[int, str | None, str | None]] = []
        if self.on:
            db = store.db
            db.execute_sql(f"DROP TRIGGER IF EXISTS {FTS_UPDATE_TRIGGER}")
            db.execute_sql(f"DROP TABLE IF EXISTS temp.{FTS_PENDING}")
            db.execute_sql(f"CREATE TEMP TABLE {FTS_PENDING} "
                           "(id INTEGER PRIMARY KEY, old TEXT, added TEXT)")

    def note(self, row_id: int, old_text: str | None, new_text: str | None = None) -> None:
        """Row ``row_id`` is about to change its search text (to ``new_text``) or be
        deleted or restored; the index holds ``old_text`` for it (None: nothing).

        When the new text only adds words to a live row (a tag added), just those
        words are indexed for it: the index (FTS5 ``detail='none'``) keeps only which
        rows hold a word, so a row indexed as old words + added words is indexed as
        the new text, and a later delete of the new text removes both."""
        if not self.on:
            return
        if old_text is not None and new_text is not None:
            old, new = set(old_text.split()), set(new_text.split())
            if new >= old:
                self.pending.append((row_id, None, " ".join(sorted(new - old))))
                return
        self.pending.append((row_id, old_text, None))

    def flush(self) -> None:
        if self.pending:
            self.store.db.cursor().executemany(
                f"INSERT OR IGNORE INTO temp.{FTS_PENDING} (id, old, added) VALUES (?, ?, ?)",
                self.pending)
            self.pending = []

    def finish(self) -> None:
        if not self.on:
            return
        self.flush()
        db, fts = self.store.db, search.FTS_TABLE
        db.execute_sql(f"INSERT INTO {fts}({fts}, rowid, search_text) SELECT 'delete', id, old "
                       f"FROM temp.{FTS_PENDING} WHERE old IS NOT NULL ORDER BY id")
        db.execute_sql(f"INSERT INTO {fts}(rowid, search_text) SELECT c.id, "
                       "COALESCE(p.added, c.search_text) "
                       f"FROM customer c JOIN temp.{FTS_PENDING} p ON p.id = c.id "
                       "WHERE c.deleted_at IS NULL AND (p.added IS NULL OR p.added != '') "
                       "ORDER BY c.id")
        db.execute_sql(f"DELETE FROM temp.{FTS_PENDING}")
        db.execute_sql(search.trigger_sql(FTS_UPDATE_TRIGGER))


def apply(store: Store, selection: Selection, change: Change, *, dry_run: bool = False,
          progress: Callable[[int, int], None] | None = None) -> BulkResult:
    """Make ``change`` to every selected customer the user may change (see module doc)."""
    if change.empty:
        raise BulkError(tr("bulk.nothing_to_do"))
    guard = store.guard
    guard.require("delete" if change.delete else "edit")
    result = BulkResult(dry_run=dry_run, description=describe(store, change))
    values = _clean_values(store, change, result)
    tag_key = None
    if change.add_tags or change.remove_tags:
        tag_key = _resolve(store, change.tag_field).key
        if store.schema[tag_key].label() in result.skipped_fields:
            tag_key = None
    log = _clean_log(store, change.log) if change.log else None
    if not (values or tag_key or log or change.delete):
        ids = selected_ids(store, selection)
        result.selected = len(ids)
        result.skipped_rows = len(ids)
        return result
    C = store.Customer
    models = io_models(store)
    ImportBatch, ImportChange = models["ImportBatch"], models["ImportChange"]
    owner_field = guard.roles.owner_field
    own_only = guard.role.rows == "own"
    stamp = now()
    with store.db.atomic() as txn, \
            (contextlib.nullcontext() if dry_run else search.fast_fill(store)):
        ids = selected_ids(store, selection)
        if not selection.all_matching:
            result.skipped_rows += len(selection.ids) - len(ids)   # out of scope or gone
        result.selected = len(selection.ids) if not selection.all_matching else len(ids)
        if not dry_run:
            batch = ImportBatch.create(source=tr("bulk.source", what=result.description)[:500],
                                       file_format=BULK_FORMAT, user=store.user,
                                       mapping=json.dumps({"query": selection.query,
                                                           "search": selection.search},
                                                          ensure_ascii=False))
            result.batch_id = batch.id
        keys = list(values) + ([tag_key] if tag_key and tag_key not in values else [])
        # read only what the change needs: the fields it writes, and those the search
        # text is built from when it writes one of them (an owner change needs neither)
        searched = {key for key, *_ in search._search_plan(store.schema)} | {"customer_type"}
        rebuild = bool(searched & set(keys))
        wanted = {"id", "version", *keys, owner_field if owner_field in store.schema else "id"}
        if rebuild:
            wanted |= {k for k in searched if k in store.schema} | {"search_text"}
        if change.delete:
            wanted.add("search_text")
        index = None if dry_run or not (rebuild or change.delete) else _DeferredIndex(store)
        audits: list[dict[str, Any]] = []
        columns = [C._meta.fields[k] for k in sorted(wanted)]
        journal: list[tuple] = []   # (batch, customer, values before, version after)
        done = 0
        for start in range(0, len(ids), CHUNK):
            part = ids[start:start + CHUNK]
            query = store.customers().select(*columns).where(C.id.in_(part))
            rows = _read_rows(store, query.for_update() if store.is_postgres and not dry_run
                              else query, columns)
            updates: list[tuple] = []
            same_text: list[tuple] = []
            for before in rows:
                row_id, version = before["id"], before["version"]
                if own_only and owner_field in values and \
                        values[owner_field] not in guard.me.names:
                    result.skipped_rows += 1
                    continue
                if change.delete:
                    if not dry_run:
                        updates.append((stamp, row_id, version))
                        index.note(row_id, before["search_text"])
                        journal.append((result.batch_id, row_id, json.dumps({DELETED: True}),
                                        version + 1))
                        audits.append(dict(action="delete", table="customer", record_id=row_id,
                                           batch=result.batch_id,
                                           fields={"deleted_at": [None,
                                                                  stamp.isoformat(sep=" ")]}))
                    result.changed += 1
                    continue
                new = dict(values)
                if tag_key:
                    tags = split_tags(before.get(tag_key) or "")
                    tags += [t for t in change.add_tags if t not in tags]
                    tags = [t for t in tags if t not in change.remove_tags]
                    new[tag_key] = ",".join(tags) or None
                differs = {k: v for k, v in new.items() if plain(before.get(k)) != plain(v)}
                if not differs and not log:
                    result.unchanged += 1
                    continue
                result.changed += 1
                if dry_run:
                    continue
                entry: dict[str, Any] = {}
                if differs:
                    merged = before | new
                    text = search.build_search_text(store.schema, merged) if rebuild else None
                    # a change the search text does not show (owner, grade …) leaves the
                    # index alone: rewriting a row's index entries is most of the cost
                    if rebuild and text != before["search_text"]:
                        updates.append((*[merged[k] for k in keys], stamp, text, row_id, version))
                        index.note(row_id, before["search_text"], text)
                    else:
                        same_text.append((*[merged[k] for k in keys], stamp, text, row_id,
                                          version))
                    audits.append(dict(action="update", table="customer", record_id=row_id,
                                       batch=result.batch_id,
                                       fields={k: [plain(before.get(k)), plain(v)]
                                               for k, v in differs.items()}))
                    entry = {k: before.get(k) for k in differs}
                if log:
                    interaction = store.Interaction.create(customer=row_id, **log)
                    audits.append(dict(action="create", table="interaction",
                                       record_id=interaction.id, customer_id=row_id,
                                       batch=result.batch_id,
                                       after={k: v for k, v in log.items()}))
                    entry = {**entry, LOGGED: interaction.id}
                journal.append((result.batch_id, row_id, to_json(entry),
                                version + (1 if differs else 0)))
            if index is not None:
                index.flush()
            if updates:
                _write(store, keys, updates, change.delete)
            if same_text:
                _write(store, keys, same_text, change.delete, search_text=False)
            if audits:
                store.audit.record_many(audits)
                audits = []
            done += len(part)
            if progress:
                progress(done, len(ids))
        if index is not None:
            index.finish()
        if not dry_run:   # the journal for undo, one prepared INSERT for all its rows
            p = store.db.param
            store.db.cursor().executemany(
                f'INSERT INTO "{ImportChange._meta.table_name}" ("batch_id", "customer_id", '
                f'"before", "after_version") VALUES ({p}, {p}, {p}, {p})', journal)
            ImportBatch.update(updated=result.changed, unchanged=result.unchanged,
                               rejected=result.skipped_rows).where(
                ImportBatch.id == result.batch_id).execute()
            if log and log.get("kind") == "purchase":
                store.refresh_purchase_totals()
        else:
            txn.rollback()
    if not dry_run:   # the rules on what it changed (models.automations)
        from .automations import after_bulk
        after_bulk(store, result.batch_id)
    return result


def _read_rows(store: Store, query, columns: list) -> list[dict[str, Any]]:
    """The rows of ``query`` as dicts by field key, through the bare cursor: only the
    columns whose stored form differs from Python's are converted (peewee converting
    every value of every row was a fifth of a tag change)."""
    keys = [c.name for c in columns]
    plain_types = (peewee.TextField, peewee.CharField, peewee.IntegerField,
                   peewee.BigIntegerField, peewee.AutoField)   # exact: money is a BigInteger
    convert = [(i, c.python_value) for i, c in enumerate(columns)
               if type(c) not in plain_types]
    out = []
    for raw in store.db.execute(query):
        if convert:
            raw = list(raw)
            for i, fn in convert:
                raw[i] = fn(raw[i])
        out.append(dict(zip(keys, raw)))
    return out


def _clean_log(store: Store, log: dict[str, Any]) -> dict[str, Any]:
    data = dict(log)
    kind = store._check_list("interaction_kinds", "kind", data.pop("kind", None) or "note")
    data.setdefault("user", store.user)
    data.setdefault("occurred_at", now())
    return {"kind": kind, **data}


def _write(store: Store, keys: list[str], updates: list[tuple], delete: bool, *,
           search_text: bool = True) -> None:
    """One prepared UPDATE run for every row of a chunk (version-checked)."""
    db = store.db
    p = db.param
    C = store.Customer
    if delete:
        sql = (f'UPDATE "customer" SET "deleted_at" = {p}, "version" = "version" + 1 '
               f'WHERE "id" = {p} AND "version" = {p}')
        params = updates
    else:
        sets = ", ".join(f'"{C._meta.fields[k].column_name}" = {p}' for k in keys)
        text = f'"search_text" = {p}, ' if search_text else ""
        sql = (f'UPDATE "customer" SET {sets}, "updated_at" = {p}, {text}'
               f'"version" = "version" + 1 WHERE "id" = {p} AND "version" = {p}')
        fields = [C._meta.fields[k] for k in keys]
        stamp_field = C._meta.fields["updated_at"]
        n = len(keys)
        params = [tuple(f.db_value(v) for f, v in zip(fields, u[:n]))
                  + (stamp_field.db_value(u[n]),) + (u[n + 1:] if search_text else u[n + 2:])
                  for u in updates]
    _run(store, sql, params)


@dataclass
class UndoResult:
    batch_id: int
    restored: int = 0
    skipped: list[int] = field(default_factory=list)   # changed again since: left alone

    def sentence(self) -> str:
        text = tr("bulk.undone", batch=self.batch_id, restored=self.restored)
        if self.skipped:
            text += "; " + tr("bulk.undo_skipped", count=len(self.skipped),
                              ids=", ".join(f"#{i}" for i in self.skipped[:20]))
        return text


def list_batches(store: Store) -> list:
    ImportBatch = io_models(store)["ImportBatch"]
    return list(ImportBatch.select().where(ImportBatch.file_format == BULK_FORMAT)
                .order_by(ImportBatch.id.desc()))


def last_batch(store: Store) -> int | None:
    """The newest bulk change of this user not undone yet."""
    ImportBatch = io_models(store)["ImportBatch"]
    row = (ImportBatch.select(ImportBatch.id)
           .where(ImportBatch.file_format == BULK_FORMAT, ImportBatch.reverted_at.is_null(),
                  ImportBatch.user == store.user)
           .order_by(ImportBatch.id.desc()).first())
    return row.id if row else None


def undo(store: Store, batch_id: int) -> UndoResult:
    """Put back what bulk change ``batch_id`` did; customers changed since are left
    alone and listed."""
    models = io_models(store)
    ImportBatch, ImportChange = models["ImportBatch"], models["ImportChange"]
    batch = ImportBatch.get_or_none(ImportBatch.id == batch_id)
    if batch is None or batch.file_format != BULK_FORMAT:
        raise BulkError(tr("bulk.no_batch", id=batch_id))
    if batch.reverted_at is not None:
        raise BulkError(tr("bulk.already_undone", id=batch_id,
                           when=batch.reverted_at.strftime("%Y-%m-%d %H:%M")))
    store.guard.require("edit")
    C = store.Customer
    result = UndoResult(batch_id)
    stamp = now()
    changes = list(ImportChange.select().where(ImportChange.batch == batch_id)
                   .order_by(ImportChange.customer_id))
    searched = {key for key, *_ in search._search_plan(store.schema)} | {"customer_type"}
    with store.db.atomic(), search.fast_fill(store):
        index = _DeferredIndex(store)
        for start in range(0, len(changes), CHUNK):
            _undo_chunk(store, batch_id, changes[start:start + CHUNK], stamp, searched, index,
                        result)
        index.finish()
        ImportBatch.update(reverted_at=stamp, reverted_by=store.user).where(
            ImportBatch.id == batch_id).execute()
    return result


def _undo_chunk(store: Store, batch_id: int, changes: list, stamp, searched: set[str],
                index: _DeferredIndex, result: UndoResult) -> None:
    """Put back one chunk of a batch: its customers read in one query, then one
    prepared statement per kind of write (restore, put values back, drop the
    logged entries) and the audit rows in one go."""
    C = store.Customer
    raws = {c.customer_id: json.loads(c.before) for c in changes}
    # read only what is put back and what the search text is built from (whole rows of
    # ~50 columns as objects were half the undo's time)
    wanted = {"id", "version", "deleted_at", "search_text"} | {
        k for k in searched if k in C._meta.fields}
    for raw in raws.values():
        wanted |= {k for k in raw if k in C._meta.fields}
    query = store.customers(include_deleted=True).select(
        *[C._meta.fields[k] for k in sorted(wanted)]).where(C.id.in_(list(raws)))
    rows = {r.id: r for r in (query.for_update() if store.is_postgres else query)}
    restores: list[tuple] = []
    entries: list[int] = []
    puts: dict[tuple[str, ...], list[tuple]] = {}
    audits: list[dict[str, Any]] = []
    for change in changes:
        raw = raws[change.customer_id]
        row = rows.get(change.customer_id)
        if row is None or row.version != change.after_version:
            result.skipped.append(change.customer_id)
            continue
        result.restored += 1
        if raw.get(DELETED):
            restores.append((row.id, row.version))
            index.note(row.id, None)
            audits.append(dict(action="restore", table="customer", record_id=row.id,
                               batch=batch_id, fields={"deleted_at": [str(row.deleted_at), None]}))
            continue
        interaction = raw.pop(LOGGED, None)
        if interaction is not None:
            entries.append(interaction)
            audits.append(dict(action="delete", table="interaction", record_id=interaction,
                               customer_id=row.id, batch=batch_id))
        before = from_json(store, json.dumps(raw)) if raw else {}
        if not before:
            continue
        put = dict(before)
        if searched & set(before):   # only then can the search text change
            text = search.build_search_text(store.schema, store.raw_record(row) | before)
            if text != row.search_text:   # only then is the index rewritten
                put["search_text"] = text
                if row.deleted_at is None:
                    index.note(row.id, row.search_text)
        keys = tuple(put)
        puts.setdefault(keys, []).append((*[put[k] for k in keys], row.id, row.version))
        audits.append(dict(action="revert", table="customer", record_id=row.id, batch=batch_id,
                           before={k: getattr(row, k) for k in before}, after=before))
    index.flush()
    db, p = store.db, store.db.param
    if restores:
        _run(store, f'UPDATE "customer" SET "deleted_at" = NULL, "version" = "version" + 1 '
                    f'WHERE "id" = {p} AND "version" = {p}', restores)
    for keys, values in puts.items():
        fields = [C._meta.fields[k] for k in keys]
        stamp_value = C._meta.fields["updated_at"].db_value(stamp)
        sets = ", ".join(f'"{f.column_name}" = {p}' for f in fields)
        _run(store, f'UPDATE "customer" SET {sets}, "updated_at" = {p}, '
                    f'"version" = "version" + 1 WHERE "id" = {p} AND "version" = {p}',
             [tuple(f.db_value(v) for f, v in zip(fields, u[:-2])) + (stamp_value, *u[-2:])
              for u in values])
    if entries:
        I = store.Interaction
        I.update(deleted_at=stamp).where(I.id.in_(entries)).execute()
    if audits:
        store.audit.record_many(audits)


def _run(store: Store, sql: str, params: list[tuple]) -> None:
    """One prepared, version-checked statement for many rows; a row saved under us
    fails the whole change rather than being written blind."""
    cursor = store.db.cursor()
    cursor.executemany(sql, params)
    if cursor.rowcount not in (-1, len(params)):
        raise BulkError(tr("bulk.raced"))


def parse_assignments(store: Store, items: Iterable[str]) -> dict[str, Any]:
    """``field=value`` options (a label or alias names the field too)."""
    out = {}
    for item in items:
        if "=" not in item:
            raise BulkError(tr("bulk.bad_set", item=item))
        name, value = item.split("=", 1)
        out[_resolve(store, name.strip()).key] = value.strip() or None
    return out


__all__ = ["Selection", "Change", "BulkResult", "BulkError", "apply", "undo", "selected_ids",
           "describe", "list_batches", "last_batch", "parse_assignments", "NotFound",
           "peewee"]
