"""The audit trail: who changed what, when, and each field's value before and after.

Every write of the store (and of the chain, timeline, importer and merge)
calls ``store.audit.record(...)`` inside its own transaction, so a change and
its audit row are saved together or not at all. There is no API to edit or
delete an audit row, and the database refuses it too (a trigger on
``kehu_audit`` aborts any UPDATE or DELETE).

``history(customer_id)`` lists the changes of one customer (its contacts and
timeline included), newest first; ``revert(entry_id)`` undoes one change if
no later change touched the same fields, and is itself audited (``revert``).
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import peewee

from .errors import KehuError
from .db import is_postgres
from .i18n import tr

ACTIONS = ("create", "update", "delete", "restore", "merge", "import", "revert")


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
    })


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


class AuditLog:
    """The audit trail of one store: append and read, nothing else."""

    def __init__(self, store):
        self.store = store
        self.Entry = build_audit_model(store.db)
        self._acting: tuple[str, int | None] | None = None

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
        changes = fields if fields is not None else diff(before, after)
        if action == "update" and not changes:
            return None
        reverts = None
        if self._acting is not None:
            action, reverts = self._acting
        if customer_id is None and table == "customer":
            customer_id = record_id
        return self.Entry.insert(
            at=dt.datetime.now(), login=self.store.user, action=action, table_name=table,
            record_id=record_id, customer_id=customer_id, batch=batch,
            changes=json.dumps(changes, ensure_ascii=False, default=str), note=note,
            reverts=reverts).execute()

    @contextmanager
    def acting(self, action: str, reverts: int | None = None):
        """Record every change made inside the block as ``action`` (e.g. a revert)."""
        previous, self._acting = self._acting, (action, reverts)
        try:
            yield
        finally:
            self._acting = previous

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
        """The trail, newest first, filtered (needs the ``audit`` right)."""
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
        return [self._change(row) for row in query]

    def get(self, entry_id: int) -> Change:
        row = self.Entry.get_or_none(self.Entry.id == entry_id)
        if row is None:
            raise RevertError(tr("audit.no_such_entry", id=entry_id))
        return self._change(row)

    def history(self, customer_id: int) -> list[Change]:
        """Every change of one customer the user may see, newest first (the import
        that created it included); sensitive values masked for the user's role."""
        row = self.store.get_customer(customer_id, include_deleted=True)   # row scope applies
        E = self.Entry
        cond = E.customer_id == customer_id
        if getattr(row, "import_batch", None) is not None:
            cond |= (E.action == "import") & (E.batch == row.import_batch)
        changes = [self._change(r) for r in E.select().where(cond).order_by(E.id.desc())]
        return [self.masked(c) for c in changes]

    def masked(self, change: Change) -> Change:
        if change.table != "customer":
            return change
        guard, schema = self.store.guard, self.store.schema
        fields = {}
        for key, (old, new) in change.fields.items():
            spec = schema.get(key)
            fields[key] = [guard.mask(spec, old), guard.mask(spec, new)] if spec else [old, new]
        return Change(**{**change.__dict__, "fields": fields})

    # -- revert ------------------------------------------------------------
    def revert(self, entry_id: int) -> int | None:
        """Undo one change of a customer; the undo is audited as ``revert``.

        Refuses (``RevertError``) when a later change touched the same fields,
        naming them, so nothing newer is lost silently.
        """
        change = self.get(entry_id)
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
