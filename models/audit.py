"""The audit trail: who changed what, when, and each field's value before and after.

Every write of the store (and of the chain, timeline, importer and merge)
calls ``store.audit.record(...)`` inside its own transaction, so a change and
its audit row are saved together or not at all. There is no API to edit or
delete an audit row, and the database refuses it too (a trigger on
``kehu_audit`` aborts any UPDATE or DELETE).

``history(customer_id)`` lists the changes of one customer (its contacts and
timeline included), newest first; ``revert(entry_id)`` undoes one change if
no later change touched the same fields, and is itself audited (``revert``).

Tamper evidence: each entry carries ``hash = sha256(prev_hash ‖ canonical
entry)`` (the canonical entry is its JSON with sorted keys, id left out, so a
moved entry is told from an edited one), and ``prev_hash``, the hash of the entry
before it. Entries are appended app-side, in the transaction of the change
(there are no triggers that write audit rows; the only triggers refuse UPDATE
and DELETE): computing the hash in Python keeps one canonical form for both
databases and for ``verify``. Appends are serialized so two writers never fork
the chain: PostgreSQL takes a transaction-scoped advisory lock before reading
the head; SQLite holds its write lock (kehu begins transactions IMMEDIATE; a
no-op write makes sure of it). ``verify()`` walks the chain and names the first
entry that was edited, deleted, moved or written without a hash, and gives the
head hash to note elsewhere. Entries written before the chain existed are
hashed once when the database is migrated; the meta key ``audit_chain`` and an
entry ``chain`` record how many and up to which entry.

Reading is masked at the boundary: ``entries``, ``get`` and ``history`` hand out
values as the user's role may see them, within the user's row scope.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import peewee

from .errors import KehuError
from .db import is_postgres
from .i18n import tr

ACTIONS = ("create", "update", "delete", "restore", "merge", "import", "revert",
           "export", "backup", "restore_backup", "encrypt", "decrypt", "recompute", "chain")
#: PostgreSQL advisory lock key that serializes appends to the chain (any constant).
CHAIN_LOCK = 0x6B656875   # "kehu"
GENESIS = ""              # the previous hash of the first entry


class RevertError(KehuError):
    """A change that cannot be undone; ``str()`` says why (names the fields)."""


def plain(value: Any) -> Any:
    """A value as it is kept in the audit JSON (dates ISO, decimals as text)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, float):
        return plain(Decimal(str(value)))
    if isinstance(value, peewee.Model):
        return value.get_id()
    return str(value)


def diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, list]:
    """``{field: [before, after]}`` for every field whose value differs."""
    before, after = before or {}, after or {}
    out = {}
    for key in list(before) + [k for k in after if k not in before]:
        old, new = plain(before.get(key)), plain(after.get(key))
        if old != new:
            out[key] = [old, new]
    return out


def _row_values(row) -> dict[str, Any]:
    """A contact's or entry's own values (not its bookkeeping columns)."""
    return {k: v for k, v in row.__data__.items()
            if k not in ("id", "created_at", "updated_at", "version")}


@dataclass(frozen=True)
class Change:
    """One audit row as screens and the CLI show it."""
    id: int
    at: dt.datetime
    user: str
    action: str
    table: str
    record_id: int | None
    customer_id: int | None
    fields: dict[str, list]
    batch: int | None
    note: str | None
    reverts: int | None


def build_audit_model(db: peewee.Database) -> type[peewee.Model]:
    return type("AuditEntry", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "kehu_audit",
                                  "indexes": ((("customer_id", "id"), False),
                                              (("login", "at"), False))}),
        "at": peewee.DateTimeField(default=dt.datetime.now, index=True),
        "login": peewee.TextField(),
        "action": peewee.TextField(),
        "table_name": peewee.TextField(),
        "record_id": peewee.BigIntegerField(null=True),
        "customer_id": peewee.BigIntegerField(null=True),
        "batch": peewee.BigIntegerField(null=True, index=True),
        "changes": peewee.TextField(),
        "note": peewee.TextField(null=True),
        "reverts": peewee.BigIntegerField(null=True),
        "prev_hash": peewee.TextField(null=True),
        "hash": peewee.TextField(null=True),
    })


def canonical(at, login, action, table, record_id, customer_id, batch, changes, note,
              reverts) -> str:
    """One entry as the text its hash covers: JSON, sorted keys, no spaces."""
    if isinstance(at, dt.datetime):
        at = at.isoformat(sep=" ")
    return json.dumps({"at": at, "login": login, "action": action, "table": table,
                       "record_id": record_id, "customer_id": customer_id, "batch": batch,
                       "changes": changes, "note": note, "reverts": reverts},
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def chain_hash(prev: str | None, text: str) -> str:
    return hashlib.sha256(((prev or GENESIS) + text).encode("utf-8")).hexdigest()


def _row_canonical(row) -> str:
    return canonical(row.at, row.login, row.action, row.table_name, row.record_id,
                     row.customer_id, row.batch, row.changes, row.note, row.reverts)


@dataclass(frozen=True)
class ChainReport:
    """What ``AuditLog.verify`` found. ``problem``: None (intact), 'edited',
    'deleted' (an entry before ``entry`` is missing), 'moved' or 'unhashed'."""
    entries: int
    head: str | None
    problem: str | None = None
    entry: int | None = None
    previous: int | None = None       # the entry before the break
    migrated_upto: int | None = None  # entries up to this id were hashed at migration
    noted_head_found: bool | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None and self.noted_head_found is not False

    def sentence(self) -> str:
        if self.problem is not None:
            return tr(f"audit_chain.{self.problem}", id=self.entry,
                      previous=self.previous if self.previous is not None else "-",
                      entries=self.entries)
        if self.noted_head_found is False:
            return tr("audit_chain.noted_head_missing", entries=self.entries)
        return tr("audit_chain.ok", entries=self.entries, head=self.head or "-")


_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER IF NOT EXISTS kehu_audit_no_{op.lower()} BEFORE {op} ON kehu_audit "
    "BEGIN SELECT RAISE(ABORT, 'kehu audit rows are read-only'); END"
    for op in ("UPDATE", "DELETE")
]
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION kehu_audit_read_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'kehu audit rows are read-only'; END $$ LANGUAGE plpgsql"
)
_PG_TRIGGER = ("CREATE TRIGGER kehu_audit_read_only BEFORE UPDATE OR DELETE ON kehu_audit "
               "FOR EACH ROW EXECUTE FUNCTION kehu_audit_read_only()")
#: Takes the append lock, then reads the chain's head, in one round trip (VOLATILE:
#: the read sees what was committed while it waited for the lock). SECURITY DEFINER:
#: a role that reads the trail through a scoped view (models.team) must still link
#: its entry to the true last entry, or the chain would fork. It reveals one hash.
_PG_HEAD_FUNCTION = (
    "CREATE OR REPLACE FUNCTION kehu_audit_lock_head() RETURNS text LANGUAGE plpgsql "
    "VOLATILE SECURITY DEFINER SET search_path = public AS $$ BEGIN "
    "PERFORM pg_advisory_xact_lock({lock}); "
    "RETURN (SELECT hash FROM public.kehu_audit ORDER BY id DESC LIMIT 1); END $$"
)


def create_table(store) -> None:
    """The audit table and the triggers that keep its rows as written."""
    db = store.db
    db.create_tables([store.audit.Entry], safe=True)
    if is_postgres(db):
        exists = db.execute_sql("SELECT 1 FROM pg_trigger WHERE tgname = 'kehu_audit_read_only' "
                                "AND NOT tgisinternal").fetchone()
        if not exists:
            db.execute_sql(_PG_FUNCTION)
            db.execute_sql(_PG_TRIGGER)
    else:
        for sql in _SQLITE_TRIGGERS:
            db.execute_sql(sql)
    _add_chain(store)
    if is_postgres(db):
        db.execute_sql(_PG_HEAD_FUNCTION.format(lock=CHAIN_LOCK))


def _add_chain(store) -> None:
    """An audit table from before the chain: add its columns and hash its entries
    once, in id order (recorded in the meta key ``audit_chain`` and an entry
    ``chain``). Entries without a hash that come after hashed ones are left as
    they are: ``verify`` reports them."""
    db, E = store.db, store.audit.Entry
    columns = {c.name for c in db.get_columns("kehu_audit")}
    missing = [name for name in ("prev_hash", "hash") if name not in columns]
    if missing:
        from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate
        migrator = PostgresqlMigrator(db) if is_postgres(db) else SqliteMigrator(db)
        migrate(*[migrator.add_column("kehu_audit", name, peewee.TextField(null=True))
                  for name in missing])
    if E.select().where(E.hash.is_null(False)).exists() or not E.select().exists():
        return
    with db.atomic():
        if is_postgres(db):
            db.execute_sql("ALTER TABLE kehu_audit DISABLE TRIGGER kehu_audit_read_only")
        else:
            db.execute_sql("DROP TRIGGER IF EXISTS kehu_audit_no_update")
        prev, count, last = GENESIS, 0, None
        for row in E.select().order_by(E.id).iterator():
            digest = chain_hash(prev, _row_canonical(row))
            E.update(prev_hash=prev, hash=digest).where(E.id == row.id).execute()
            prev, count, last = digest, count + 1, row.id
        if is_postgres(db):
            db.execute_sql("ALTER TABLE kehu_audit ENABLE TRIGGER kehu_audit_read_only")
        else:
            db.execute_sql(_SQLITE_TRIGGERS[0])
        stamp = dt.datetime.now()
        store.set_meta("audit_chain", {"since": stamp.isoformat(sep=" "), "hashed": count,
                                       "upto": last})
        store.audit.record("chain", "kehu_audit", None, note=tr(
            "audit_chain.migrated_note", entries=count, id=last))


class AuditLog:
    """The audit trail of one store: append and read, nothing else."""

    def __init__(self, store):
        self.store = store
        self.Entry = build_audit_model(store.db)
        self._acting: tuple[str, int | None] | None = None
        self._note: str | None = None   # noted on every entry (``noting``): a rule's change
        self._pg_head: bool | None = None   # PostgreSQL: kehu_audit_head() exists

    # -- writing -----------------------------------------------------------
    def record(self, action: str, table: str, record_id: int | None, *,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
               customer_id: int | None = None, batch: int | None = None,
               note: str | None = None, fields: dict[str, list] | None = None) -> int | None:
        """Append one audit row; call it inside the transaction of the change.

        ``before``/``after`` are the record's values (only differing fields are
        kept) or ``fields`` gives ``{field: [before, after]}`` directly. An update
        that changes nothing is not recorded (returns None).
        """
        built = self._entry(action, table, record_id, before=before, after=after,
                            customer_id=customer_id, batch=batch, note=note, fields=fields)
        if built is None:
            return None
        db = self.store.db
        if db.in_transaction():   # the caller's transaction (the usual case): no savepoint
            return self._append(*built)
        with db.atomic():
            return self._append(*built)

    def record_many(self, entries: list[dict[str, Any]]) -> int:
        """Append many rows at once (a bulk change), inside the caller's transaction:
        the head is read once, the chain hashed here, one prepared INSERT run for all.
        Each entry holds ``record``'s arguments (``action``, ``table``, ``record_id``
        and its keywords). Returns how many rows were appended."""
        rows = [built for e in entries if (built := self._entry(**e)) is not None]
        if not rows:
            return 0
        db = self.store.db
        prev = self._head_locked()
        params = []
        for values, text in rows:
            digest = chain_hash(prev, text)
            params.append(self._params(values, prev, digest))
            prev = digest
        db.cursor().executemany(self._insert_sql(), params)
        return len(params)

    def _entry(self, action: str, table: str, record_id: int | None, *,
               before: dict[str, Any] | None = None, after: dict[str, Any] | None = None,
               customer_id: int | None = None, batch: int | None = None,
               note: str | None = None, fields: dict[str, list] | None = None):
        """(values, canonical text) of one entry; None for an update that changes nothing."""
        changes = fields if fields is not None else diff(before, after)
        if action == "update" and not changes:
            return None
        reverts = None
        if note is None:
            note = self._note
        if self._acting is not None:
            action, reverts = self._acting
        if customer_id is None and table == "customer":
            customer_id = record_id
        values = dict(at=dt.datetime.now(), login=self.store.user, action=action,
                      table_name=table, record_id=record_id, customer_id=customer_id,
                      batch=batch, changes=json.dumps(changes, ensure_ascii=False, default=str),
                      note=note, reverts=reverts)
        text = canonical(values["at"], values["login"], action, table, record_id, customer_id,
                         batch, values["changes"], note, reverts)
        return values, text

    _COLUMNS = ("at", "login", "action", "table_name", "record_id", "customer_id", "batch",
                "changes", "note", "reverts", "prev_hash", "hash")

    def _insert_sql(self) -> str:
        db = self.store.db
        names = ", ".join(f'"{c}"' for c in self._COLUMNS)
        marks = ", ".join([db.param] * len(self._COLUMNS))
        return f'INSERT INTO "kehu_audit" ({names}) VALUES ({marks})'

    def _params(self, values: dict[str, Any], prev_hash: str | None, digest: str) -> list:
        row = dict(values, prev_hash=prev_hash, hash=digest)
        if not is_postgres(self.store.db):
            row["at"] = row["at"].isoformat(sep=" ")   # what peewee stores, read back the same
        return [row[c] for c in self._COLUMNS]

    def _append(self, values: dict[str, Any], text: str) -> int:
        """One prepared INSERT (peewee's query building cost more than the rest of an
        append; an import that updates rows appends one entry per row)."""
        prev = self._head_locked()
        db = self.store.db
        params = self._params(values, prev, chain_hash(prev, text))
        if is_postgres(db):
            return db.execute_sql(self._insert_sql() + ' RETURNING "id"', params).fetchone()[0]
        return db.execute_sql(self._insert_sql(), params).lastrowid

    def _head_locked(self) -> str:
        """The head hash, read once no other writer can append before this
        transaction ends (call inside a transaction)."""
        db = self.store.db
        if is_postgres(db):
            if self._pg_head is None:
                self._pg_head = bool(db.execute_sql(
                    "SELECT to_regprocedure('public.kehu_audit_lock_head()') IS NOT NULL"
                ).fetchone()[0])
            if self._pg_head:   # lock + the true head, whatever part of the trail this role reads
                return db.execute_sql("SELECT public.kehu_audit_lock_head()").fetchone()[0] or GENESIS
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (CHAIN_LOCK,))
        else:   # takes SQLite's write lock if the transaction does not hold it yet
            db.execute_sql("UPDATE kehu_audit SET id = id WHERE 0")
        row = db.execute_sql("SELECT hash FROM kehu_audit ORDER BY id DESC LIMIT 1").fetchone()
        return (row[0] if row else None) or GENESIS

    def head(self) -> str | None:
        E = self.Entry
        return E.select(E.hash).order_by(E.id.desc()).limit(1).scalar()

    def verify(self, noted_head: str | None = None, batch: int = 5000) -> ChainReport:
        """Walk the whole chain in id order (needs the ``audit`` right); the first
        entry that was edited, deleted, moved or written without a hash is named.
        ``noted_head``: a head hash noted earlier must still be in the chain (a
        rewrite of the whole tail from some entry on would keep it consistent)."""
        self.store.guard.require("audit")
        E = self.Entry
        meta = self.store.get_meta("audit_chain") or {}
        upto = meta.get("upto")
        hashes: dict[str, int] = {}
        prev, prev_id, count, last = GENESIS, None, 0, 0
        problem: tuple[str, int, int | None] | None = None
        noted_found = None if not noted_head else False
        while problem is None:
            rows = list(E.select().where(E.id > last).order_by(E.id).limit(batch))
            if not rows:
                break
            for row in rows:
                count += 1
                if row.hash is None:
                    problem = ("unhashed", row.id, prev_id)
                elif row.hash != chain_hash(row.prev_hash, _row_canonical(row)):
                    problem = ("edited", row.id, prev_id)
                elif (row.prev_hash or GENESIS) != prev:
                    # its own hash is right, its link is not: something before it went
                    moved = row.prev_hash in hashes or row.hash in hashes
                    problem = ("moved" if moved or self._later_has(row.prev_hash, row.id)
                               else "deleted", row.id, prev_id)
                if problem:
                    break
                hashes[row.hash] = row.id
                if noted_head and row.hash == noted_head:
                    noted_found = True
                prev, prev_id = row.hash, row.id
            last = rows[-1].id
        if problem:
            kind, entry, before = problem
            return ChainReport(count, None, kind, entry, before, upto, noted_found)
        return ChainReport(count, prev or None, None, None, None, upto, noted_found)

    def _later_has(self, digest: str | None, after_id: int) -> bool:
        """An entry after ``after_id`` has this hash (the link points forward: moved)."""
        if not digest:
            return False
        E = self.Entry
        return E.select().where(E.id > after_id, E.hash == digest).exists()

    @contextmanager
    def acting(self, action: str, reverts: int | None = None):
        """Record every change made inside the block as ``action`` (e.g. a revert)."""
        previous, self._acting = self._acting, (action, reverts)
        try:
            yield
        finally:
            self._acting = previous

    @contextmanager
    def noting(self, note: str):
        """Every entry recorded inside the block carries ``note`` unless it has its
        own (``rule:<name>``: the automation rule that made the change)."""
        previous, self._note = self._note, note
        try:
            yield
        finally:
            self._note = previous

    @contextmanager
    def child_change(self, model, row_id: int, action: str = "update"):
        """Guard and record a change to a customer's contact or timeline entry::

            with store.db.atomic(), store.audit.child_change(store.Contact, contact_id):
                ...update the row...

        The user must be allowed to edit the customer the row belongs to; the
        row's fields before and after the block are recorded (nothing if the
        block raises). A missing row is left to the block to report."""
        row = model.get_or_none(model.id == row_id)
        if row is None:
            yield
            return
        customer_id = row.__data__.get("customer")
        self.store.guard.require("edit", self.store.get_customer(customer_id, include_deleted=True))
        before = _row_values(row)
        yield
        after = _row_values(model.get_by_id(row_id))
        self.record(action, model._meta.table_name, row_id, customer_id=customer_id,
                    before=before, after=after)

    def child_created(self, row) -> None:
        """Record a new contact or timeline entry (the guard ran before it was made)."""
        values = _row_values(row)
        self.record("create", type(row)._meta.table_name, row.id,
                    customer_id=values.pop("customer", None), after=values)

    # -- reading -----------------------------------------------------------
    def _change(self, row) -> Change:
        try:
            fields = json.loads(row.changes or "{}")
        except ValueError:
            fields = {}
        return Change(row.id, row.at, row.login, row.action, row.table_name, row.record_id,
                      row.customer_id, fields, row.batch, row.note, row.reverts)

    def entries(self, *, customer: int | None = None, user: str | None = None,
                since: dt.datetime | dt.date | None = None, action: str | None = None,
                limit: int | None = None) -> list[Change]:
        """The trail, newest first, filtered (needs the ``audit`` right), values
        masked for the user's role."""
        self.store.guard.require("audit")
        E = self.Entry
        query = E.select().order_by(E.id.desc())
        if customer is not None:
            query = query.where(E.customer_id == customer)
        if user:
            query = query.where(E.login == user)
        if since is not None:
            if not isinstance(since, dt.datetime):
                since = dt.datetime.combine(since, dt.time())
            query = query.where(E.at >= since)
        if action:
            query = query.where(E.action == action)
        if limit:
            query = query.limit(limit)
        return [self.masked(self._change(row)) for row in query]

    def _get(self, entry_id: int) -> Change:
        """One entry as written (the model layer's own use: revert)."""
        row = self.Entry.get_or_none(self.Entry.id == entry_id)
        if row is None:
            raise RevertError(tr("audit.no_such_entry", id=entry_id))
        return self._change(row)

    def get(self, entry_id: int) -> Change:
        """One entry as the user may see it: with the ``audit`` right any entry,
        otherwise only an entry of a customer in their row scope (``history``
        right); values masked for their role. Anything else reads as missing."""
        change = self._get(entry_id)
        guard = self.store.guard
        if not guard.can("audit"):
            guard.require("history")
            if change.customer_id is None:
                raise RevertError(tr("audit.no_such_entry", id=entry_id))
            try:
                self.store.get_customer(change.customer_id, include_deleted=True)
            except LookupError:
                raise RevertError(tr("audit.no_such_entry", id=entry_id)) from None
        return self.masked(change)

    def history(self, customer_id: int) -> list[Change]:
        """Every change of one customer the user may see, newest first (the import
        that created it included); sensitive values masked for the user's role.
        Needs the ``history`` right (or ``audit``) and the customer in row scope."""
        guard = self.store.guard
        if not guard.can("audit"):
            guard.require("history")
        row = self.store.get_customer(customer_id, include_deleted=True)   # row scope applies
        E = self.Entry
        cond = E.customer_id == customer_id
        if getattr(row, "import_batch", None) is not None:
            cond |= (E.action == "import") & (E.batch == row.import_batch)
        changes = [self._change(r) for r in E.select().where(cond).order_by(E.id.desc())]
        return [self.masked(c) for c in changes]

    #: contact fields masked like the customer field of the same kind
    _CONTACT_LIKE = {"phone": "phone", "email": "email"}

    def masked(self, change: Change) -> Change:
        """``change`` with every value the user's role may not see masked: customer
        fields by their schema spec, a contact's phone/email like the customer's,
        and notes that quote a value (merges, restores) left as they are."""
        guard, schema = self.store.guard, self.store.schema
        role = guard.role
        if role.grants.get("view") is True and role.grants.get("sensitive") is True:
            return change
        fields = {}
        for key, pair in change.fields.items():
            if change.table == "customer":
                spec = schema.get(key)
            elif change.table == "contact":
                spec = schema.get(self._CONTACT_LIKE.get(key, ""))
            else:
                spec = None
            if spec is not None and isinstance(pair, list) and len(pair) == 2:
                fields[key] = [guard.mask(spec, pair[0]), guard.mask(spec, pair[1])]
            else:
                fields[key] = pair
        return Change(**{**change.__dict__, "fields": fields})

    # -- revert ------------------------------------------------------------
    def revert(self, entry_id: int) -> int | None:
        """Undo one change of a customer; the undo is audited as ``revert``.

        Refuses (``RevertError``) when a later change touched the same fields,
        naming them, so nothing newer is lost silently.
        """
        change = self._get(entry_id)
        store = self.store
        if change.table != "customer" or change.record_id is None:
            raise RevertError(tr("audit.cannot_revert_kind", id=entry_id, action=change.action,
                                 table=change.table))
        customer_id = change.record_id
        current = store.get_customer(customer_id, include_deleted=True)
        with self.acting("revert", entry_id):
            if change.action in ("update", "revert"):
                fields = {k: v for k, v in change.fields.items() if k in store.schema}
                raw = store.raw_record(current)
                stale = [store.schema[k].label() for k, (_old, new) in fields.items()
                         if plain(raw.get(k)) != new]
                if stale:
                    raise RevertError(tr("audit.revert_stale", id=entry_id,
                                         fields=", ".join(stale)))
                if current.deleted_at is not None:
                    raise RevertError(tr("audit.revert_deleted", id=customer_id))
                store.update_customer(customer_id, {k: old for k, (old, _new) in fields.items()},
                                      expected_version=current.version)
            elif change.action == "create" or (change.action == "restore"):
                if current.deleted_at is not None:
                    raise RevertError(tr("audit.already_deleted", id=customer_id))
                store.delete_customer(customer_id)
            elif change.action == "delete":
                if current.deleted_at is None:
                    raise RevertError(tr("audit.not_deleted", id=customer_id))
                store.restore_customer(customer_id)
            else:
                raise RevertError(tr("audit.cannot_revert_kind", id=entry_id,
                                     action=change.action, table=change.table))
        last = self.Entry.select(peewee.fn.MAX(self.Entry.id)).where(
            self.Entry.reverts == entry_id).scalar()
        return last


# --- privileged operations on a whole database ----------------------------------------

def _open_for(url: str, user: str | None, schema=None):
    """The database at ``url`` opened as ``user`` without migrating it (a check or an
    entry must not change its columns); a trail from before the chain gets its
    columns first."""
    from .store import Store

    store = Store.open(url, schema, user=user, migrate=False)
    if store.db.table_exists("kehu_audit"):
        _add_chain(store)
    return store


def require_right(url: str, right: str, *, user: str | None = None, store=None,
                  schema=None) -> None:
    """``PermissionDenied`` (one sentence) unless the user's role in the database at
    ``url`` has ``right`` (backup, restore, encrypt …). ``store``: that database
    already open (it is used, not closed)."""
    if store is not None:
        store.guard.require(right)
        return
    opened = _open_for(url, user, schema)
    try:
        opened.guard.require(right)
    finally:
        opened.close()


def record_operation(url: str, action: str, *, note: str | None = None,
                     rows: int | None = None, user: str | None = None, store=None,
                     schema=None) -> int | None:
    """Append one entry for an operation on the whole database (backup, encrypt …):
    who, when, what (``note``) and how many rows (``rows``; default: the customers
    the database holds)."""
    target = store if store is not None else _open_for(url, user, schema)
    try:
        if rows is None and target.db.table_exists("customer"):
            C = target.Customer
            rows = C.select().where(C.deleted_at.is_null()).count()
        with target.db.atomic():
            return target.audit.record(action, "database", None, note=note,
                                       fields={"rows": [None, rows]})
    finally:
        if store is None:
            target.close()


def convert_database(url: str, action: str, key: str, *, user: str | None = None) -> None:
    """Encrypt (``action`` 'encrypt', with the new ``key``) or decrypt (with the
    database's ``key``) the SQLite file at ``url``: needs the ``encrypt`` right in
    that database (a key of one's own would lock everyone else out) and is audited
    — in the database as it is afterwards, so the entry travels with it."""
    from . import crypto
    from .db import sqlite_path

    path = sqlite_path(url)
    if action == "decrypt":
        crypto._opened_with[path.resolve()] = key   # checking the right opens it: no 2nd prompt
    require_right(url, "encrypt", user=user)
    if action == "encrypt":
        crypto.encrypt(path, key)
        crypto._opened_with[path.resolve()] = key   # the entry below opens it with its new key
    else:
        crypto.decrypt(path, key)
        crypto._opened_with.pop(path.resolve(), None)
    record_operation(url, action, note=tr(f"audit.{action}_note"), user=user)
