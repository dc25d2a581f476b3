"""The headless core of kehu: models built from the schema, migration, and the
operations every screen and sub-command goes through.

``Store.open(url, schema)`` connects, builds the ``Customer`` model from the
YAML field specs with ``type(...)``, migrates the database to the schema
(adding columns, never dropping one) and returns the store. Everything a
screen does, a function here can do without Textual.
"""
from __future__ import annotations

import datetime as dt
import getpass
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable, Iterable, Iterator

import peewee
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from .errors import KehuError
from . import search
from .audit import AuditLog, create_table as create_audit_table
from .db import connect, is_postgres
from .i18n import tr
from .schema import COLUMN_DIGITS, SYSTEM_COLUMNS, FieldSpec, Schema, load_schema, value_limit
from .security import Guard, create_tables as create_user_tables
from .validate import FieldError, RecordInvalid, clean, clean_record


class SchemaMigrationError(KehuError):
    """The database cannot follow the schema without losing data."""


class ConflictError(KehuError):
    """Someone else saved the record since it was read.

    ``theirs`` is the record as it is in the database now (a dict).
    """

    def __init__(self, record_id: int, theirs: dict[str, Any]):
        self.record_id, self.theirs = record_id, theirs
        super().__init__(tr("store.conflict", id=record_id))


class NotFound(KehuError, LookupError):
    pass


def now() -> dt.datetime:
    """The current time to the millisecond (one clock reading)."""
    stamp = dt.datetime.now()
    return stamp.replace(microsecond=stamp.microsecond // 1000 * 1000)


# --- money ----------------------------------------------------------------
# Money is exact. PostgreSQL keeps it in NUMERIC(18, decimals). SQLite has no exact
# decimal type (a DECIMAL column holds a double: 99999999999999999.99 read back as 1e17),
# so there a money column holds the whole number of minor units: cents when the schema
# says ``decimals: 2``. Sums stay exact integers and sorting uses an integer index (as fast
# as the double: 1M rows, tests/test_money.py and the commit that brought this).

def to_minor(value: Any, decimals: int) -> int | float | None:
    """A money value (or a value a query compares money with) in minor units."""
    if value is None:
        return None
    scaled = (value if isinstance(value, Decimal) else Decimal(str(value))).scaleb(decimals)
    if scaled == scaled.to_integral_value() and abs(scaled) < 2 ** 63:
        return int(scaled)
    return float(scaled)  # only a query compares with such a value (`>0.005`, `>1e30`)


def money_from_sql(value: Any, decimals: int = 2) -> Decimal | None:
    """A money value or sum as the database returned it, as a Decimal: SQLite's minor
    units (int), the two halves of a sum too big for SQLite ('hi|lo', see
    ``money_sums``), a double of a database not yet migrated; PostgreSQL's Decimal."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, str) and "|" in value:
        high, low = value.split("|")
        value = int(high) * _SPLIT + int(low)
    if isinstance(value, int):
        return Decimal(value).scaleb(-decimals)
    exact = Decimal(repr(value) if isinstance(value, float) else str(value))
    try:
        return exact.quantize(Decimal(1).scaleb(-decimals))
    except ArithmeticError:  # a value beyond range, written before kehu checked it
        return exact


_SPLIT = 10 ** 9


def money_sums(store: "Store", run):
    """``run(SUM)`` with ``SUM(field)`` the peewee SUM of a money field, its result as
    ``run`` returns it (read each sum with ``money_from_sql``). SQLite stops a sum of
    integers past 2**63 (92,233,720,368,547,758.07 in cents) with "integer overflow":
    then the same query runs again summing the billions and the rest of each value
    apart, which no number of rows within range overflows (and costs ~70 % more)."""
    try:
        return run(peewee.fn.SUM)
    except peewee.OperationalError as exc:
        if store.is_postgres or "integer overflow" not in str(exc):
            raise
    return run(lambda f: peewee.NodeList((
        peewee.fn.SUM(peewee.NodeList((f, peewee.SQL(f"/ {_SPLIT}")))), peewee.SQL("|| '|' ||"),
        peewee.fn.SUM(peewee.NodeList((f, peewee.SQL(f"% {_SPLIT}")))))))


class MoneyField(peewee.BigIntegerField):
    """A money column on SQLite: Decimal in Python, minor units (int) in the database."""

    def __init__(self, decimals: int = 2, **kwargs):
        self.decimals = decimals
        super().__init__(**kwargs)

    def db_value(self, value):
        return to_minor(value, self.decimals)

    def python_value(self, value):
        return money_from_sql(value, self.decimals)


def money_field(decimals: int, postgres: bool, **opts) -> peewee.Field:
    if postgres:
        return peewee.DecimalField(max_digits=COLUMN_DIGITS, decimal_places=decimals, auto_round=True, **opts)
    return MoneyField(decimals, **opts)


# --- model construction ---------------------------------------------------

def column_for(spec: FieldSpec, *, with_index: bool = True, postgres: bool = False) -> peewee.Field:
    """The Peewee field that stores one schema field. Every column is nullable so
    that adding a field to an existing database never fails; ``required`` is
    enforced by validation."""
    opts = {"null": True, "index": spec.index and with_index, "column_name": spec.key}
    return {
        "int": lambda: peewee.BigIntegerField(**opts),
        "money": lambda: money_field(spec.decimals, postgres, **opts),
        "decimal": lambda: peewee.DecimalField(max_digits=COLUMN_DIGITS, decimal_places=spec.decimals,
                                               auto_round=True, **opts),
        "date": lambda: peewee.DateField(**opts),
        "datetime": lambda: peewee.DateTimeField(**opts),
        "bool": lambda: peewee.BooleanField(**opts),
    }.get(spec.storage, lambda: peewee.TextField(**opts))()


def _system_fields() -> dict[str, peewee.Field]:
    return {
        "created_at": peewee.DateTimeField(default=now, index=True),
        "updated_at": peewee.DateTimeField(default=now, index=True),
        "version": peewee.IntegerField(default=1),
        "deleted_at": peewee.DateTimeField(null=True, index=True),
    }


def _customer_system_fields() -> dict[str, peewee.Field]:
    """Columns only the customer table has; the migration adds any an older database lacks."""
    return {
        "search_text": peewee.TextField(null=True),
        # The import (models.importer) that created the row, so it can be reverted as a whole.
        # Its index is made by migrate_schema (after the column exists in an older database).
        "import_batch": peewee.IntegerField(null=True),
        # The columns of an imported file no field took (JSON {column: text}; models.import_read).
        "extra": peewee.TextField(null=True),
    }


def build_models(db: peewee.Database, schema: Schema) -> dict[str, type[peewee.Model]]:
    """Customer (from the schema), Contact, Interaction and Meta, bound to ``db``."""

    def meta(table: str):
        return type("Meta", (), {"database": db, "table_name": table})

    customer_attrs: dict[str, Any] = {"Meta": meta("customer"), **_system_fields(),
                                      **_customer_system_fields()}
    for spec in schema.fields:
        customer_attrs[spec.key] = column_for(spec, postgres=is_postgres(db))
    Customer = type("Customer", (peewee.Model,), customer_attrs)

    Contact = type("Contact", (peewee.Model,), {
        "Meta": meta("contact"),
        "customer": peewee.ForeignKeyField(Customer, backref="contacts", on_delete="CASCADE"),
        "name": peewee.TextField(),
        "title": peewee.TextField(null=True),
        "department": peewee.TextField(null=True),
        "phone": peewee.TextField(null=True),
        "email": peewee.TextField(null=True),
        "role": peewee.TextField(null=True),
        "stance": peewee.TextField(null=True),
        "reports_to": peewee.ForeignKeyField("self", null=True, backref="reports",
                                             on_delete="SET NULL"),
        "key_person": peewee.BooleanField(default=False),
        "notes": peewee.TextField(null=True),
        "verified_at": peewee.DateTimeField(null=True),
        "birthday": peewee.DateField(null=True),   # added to older databases by agenda_models
        **_system_fields(),
    })

    Interaction = type("Interaction", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "interaction",
                                  "indexes": ((("customer", "occurred_at"), False),
                                              (("next_follow_up",), False))}),
        "customer": peewee.ForeignKeyField(Customer, backref="interactions", on_delete="CASCADE"),
        "contact": peewee.ForeignKeyField(Contact, null=True, backref="interactions",
                                          on_delete="SET NULL"),
        "kind": peewee.TextField(),
        "occurred_at": peewee.DateTimeField(default=now),
        "user": peewee.TextField(null=True),
        "summary": peewee.TextField(null=True),
        "details": peewee.TextField(null=True),
        "amount": money_field(2, is_postgres(db), null=True),
        "duration_seconds": peewee.IntegerField(null=True),
        "outcome": peewee.TextField(null=True),
        "next_follow_up": peewee.DateField(null=True),
        "follow_up_done": peewee.BooleanField(default=False),
        # a satisfaction score on the satisfaction field's scale (models.satisfaction)
        "score": peewee.DecimalField(max_digits=8, decimal_places=2, auto_round=True, null=True),
        **_system_fields(),
    })

    Verification = type("Verification", (peewee.Model,), {
        # The last verification (核实) of one kind for one customer: who and when.
        "Meta": type("Meta", (), {"database": db, "table_name": "verification",
                                  "indexes": ((("customer", "kind"), True),)}),
        "customer": peewee.ForeignKeyField(Customer, backref="verifications", on_delete="CASCADE"),
        "kind": peewee.TextField(),
        "verified_at": peewee.DateTimeField(default=now),
        "verified_by": peewee.TextField(null=True),
        "note": peewee.TextField(null=True),
    })

    Meta = type("KehuMeta", (peewee.Model,), {
        "Meta": meta("kehu_meta"),
        "key": peewee.TextField(primary_key=True),
        "value": peewee.TextField(null=True),
    })
    return {"Customer": Customer, "Contact": Contact, "Interaction": Interaction,
            "Verification": Verification, "Meta": Meta}


# --- migration ------------------------------------------------------------

# Type changes that keep every value: old storage → new storages it fits in.
_WIDENING = {
    "int": {"decimal", "money", "text"},
    "decimal": {"money", "text"},
    "money": {"decimal", "text"},
    "date": {"datetime", "text"},
    "datetime": {"text"},
    "bool": {"text"},
    "text": set(),
}


@dataclass
class MigrationReport:
    added: list[str]
    retyped: list[str]
    retired: list[str]  # columns kept in the database that the schema no longer has

    @property
    def changed(self) -> bool:
        return bool(self.added or self.retyped)


def _storage_of(ftype: str) -> str:
    return {"integer": "int", "money": "money", "decimal": "decimal", "date": "date",
            "datetime": "datetime", "boolean": "bool"}.get(ftype, "text")


def plan_migration(store: "Store") -> tuple[MigrationReport, list[str]]:
    """What migrating would do, and the refusals (messages) that stop it."""
    db, schema = store.db, store.schema
    columns = {c.name for c in db.get_columns("customer")} if db.table_exists("customer") else set()
    known_types = store.get_meta("schema_types", {})
    added = [f.key for f in schema.fields if columns and f.key not in columns]
    retired = sorted(c for c in columns if c not in SYSTEM_COLUMNS and c not in schema)
    retyped, refusals = [], []
    for spec in schema.fields:
        old_type = known_types.get(spec.key)
        if not old_type or old_type == spec.type or spec.key not in columns:
            continue
        old, new = _storage_of(old_type), spec.storage
        if old == new or new in _WIDENING.get(old, set()):
            retyped.append(spec.key)
            continue
        filled = store.Customer.select().where(
            peewee.SQL(f'"{spec.key}" IS NOT NULL')).count()
        if filled:
            refusals.append(tr("migrate.type_change_refused", key=spec.key, old=old_type,
                               new=spec.type, count=filled))
        else:
            retyped.append(spec.key)
    return MigrationReport(added, retyped, retired), refusals


def migrate_schema(store: "Store") -> MigrationReport:
    """Bring the database in line with the schema; never drop or narrow a column."""
    db, schema, models = store.db, store.schema, store.models
    with db.atomic():
        _one_migration_at_a_time(db)
        db.create_tables([models["Meta"]], safe=True)
    report, refusals = plan_migration(store)
    if refusals:
        raise SchemaMigrationError("\n".join(refusals))
    if report.changed:   # new or retyped columns in an existing (maybe shared) database
        store.guard.require("schema")
    migrator = PostgresqlMigrator(db) if is_postgres(db) else SqliteMigrator(db)
    team_db = False
    if is_postgres(db):
        from . import team

        team_db = team.is_team(db)
    with db.atomic():
        _one_migration_at_a_time(db)
        if team_db:   # the masking view hangs on the customer columns: made again below
            team.drop_views(db)
        new_db = not db.table_exists("customer")
        # An existing customer table is never handed to create_tables: on PostgreSQL that
        # creates the indexes of new fields before migrate() has added their columns.
        db.create_tables(([models["Customer"]] if new_db else [])
                         + [models["Contact"], models["Interaction"], models["Verification"]],
                         safe=True)
        if not new_db:
            ops = []
            for key in report.added:
                # the index follows below, for new and old columns alike
                ops.append(migrator.add_column("customer", key,
                                               column_for(schema[key], with_index=False,
                                                          postgres=is_postgres(db))))
            existing = {c.name for c in db.get_columns("customer")}
            for column, fld in _customer_system_fields().items():
                if column not in existing:
                    ops.append(migrator.add_column("customer", column, fld))
            if "score" not in {c.name for c in db.get_columns("interaction")}:
                ops.append(migrator.add_column("interaction", "score",
                                               models["Interaction"].score))
            if ops:
                migrate(*ops)
            for key in report.retyped:
                spec = schema[key]
                if is_postgres(db):
                    ddl = {"int": "BIGINT", "decimal": f"NUMERIC({COLUMN_DIGITS},{spec.decimals})",
                           "money": f"NUMERIC({COLUMN_DIGITS},{spec.decimals})",
                           "date": "DATE", "datetime": "TIMESTAMP", "bool": "BOOLEAN"}.get(
                        spec.storage, "TEXT")
                    db.execute_sql(f'ALTER TABLE customer ALTER COLUMN "{key}" TYPE {ddl} '
                                   f'USING "{key}"::{ddl}')
        for spec in schema.fields:
            if spec.index:
                db.execute_sql(f'CREATE INDEX IF NOT EXISTS "customer_{spec.key}" '
                               f'ON "customer" ("{spec.key}")')
        db.execute_sql('CREATE INDEX IF NOT EXISTS "customer_import_batch" '
                       'ON "customer" ("import_batch")')
        create_audit_table(store)
        create_user_tables(store)
        from .io_tables import io_models   # the import and merge journals, made here rather
        io_models(store)                   # than at the first merge, two of which could clash
        from .agenda import agenda_models  # the agenda's done/snoozed items, purchase rhythm
        agenda_models(store)
        from .automations import fired_model   # which rule fired for whom (kehu automations)
        fired_model(store)
        from .satisfaction import prepare   # scored entries' index; values become entries, once
        prepare(store)
        from .quality import ensure_index   # the index of the query word completeness<50
        ensure_index(store)
        store.set_meta("schema_types", {f.key: f.type for f in schema.fields}
                       | {k: v for k, v in store.get_meta("schema_types", {}).items()
                          if k not in schema})
        search.ensure_index(store)
        if team_db:
            team.apply(store)
    if not is_postgres(db):
        migrate_money(store)
    return report


MONEY_META = "money_minor_units"  # {"table.column": decimals} of the columns held in minor units


def migrate_money(store: "Store") -> list[str]:
    """SQLite: bring every money column to minor units at its schema's decimals, once.

    A database made before kehu kept money exactly holds doubles in its money columns;
    they become whole numbers of cents (exact: every double of at most 15 digits rounds
    back to the value typed). A column whose ``decimals`` changed is rescaled, a column
    that is no longer money goes back to a plain number. One transaction, taken with the
    write lock at once; what was done is recorded in kehu_meta, so it never runs twice.
    Returns the columns converted."""
    db = store.db
    wanted = {f"customer.{f.key}": f.decimals for f in store.schema.fields if f.type == "money"}
    wanted["interaction.amount"] = 2
    if store.get_meta(MONEY_META) == wanted:
        return []
    done: list[str] = []
    with db.atomic(lock_type="IMMEDIATE"):
        held = store.get_meta(MONEY_META) or {}
        columns = {t: {c.name for c in db.get_columns(t)} for t in ("customer", "interaction")}
        for name in sorted(set(wanted) | set(held)):
            table, column = name.split(".")
            if column not in columns[table]:
                continue
            old, new = held.get(name), wanted.get(name)
            if old == new:
                continue
            if old is None:       # a double: to minor units
                value = f'CAST(ROUND("{column}" * 1e{new}) AS INTEGER)'
            elif new is None:     # no longer money: back to the number it stands for
                value = f'"{column}" / 1e{old}'
            elif new > old:
                value = f'"{column}" * {10 ** (new - old)}'
            else:
                value = f'CAST(ROUND("{column}" / 1e{old - new}) AS INTEGER)'
            # a double past what minor units hold (it was typed past the range, before
            # kehu checked it) stays as it is, shown as before
            fits = f' AND ABS("{column}") < {2 ** 63 // 10 ** new}' if old is None else ""
            db.execute_sql(f'UPDATE "{table}" SET "{column}" = {value} '
                           f'WHERE "{column}" IS NOT NULL{fits}')
            done.append(name)
        store.set_meta(MONEY_META, wanted)
    return done


#: PostgreSQL advisory lock key of migrations (not the audit chain's key: a migration
#: waiting on a table that a writer holds while it waits for the chain would deadlock).
MIGRATION_LOCK = 0x6B65687500006D67   # "kehu" + "mg"


def _one_migration_at_a_time(db: peewee.Database) -> None:
    """Two kehu processes opening a new PostgreSQL database at once would both
    CREATE the same tables (CREATE ... IF NOT EXISTS is not safe against that):
    a transaction-scoped advisory lock makes the second wait for the first.
    A SQLite transaction begins IMMEDIATE and holds the file's lock already."""
    if is_postgres(db):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))


# --- the store ------------------------------------------------------------

class Store:
    """One open kehu database with its schema; the headless API."""

    def __init__(self, db: peewee.Database, schema: Schema, user: str | None = None,
                 url: str | None = None):
        self.db, self.schema, self.url = db, schema, url
        self.user = user or _os_user()
        self.models = build_models(db, schema)
        self.Customer = self.models["Customer"]
        self.Contact = self.models["Contact"]
        self.Interaction = self.models["Interaction"]
        self.Verification = self.models["Verification"]
        self.Meta = self.models["Meta"]
        self.migration: MigrationReport | None = None
        self.guard = Guard(self)      # who the user is and what their role allows (models.security)
        self.audit = AuditLog(self)   # every write below records itself here (models.audit)

    @classmethod
    def open(cls, url: str, schema: Schema | str | None = None, *, user: str | None = None,
             migrate: bool = True, strict_user: bool = False) -> "Store":
        """Open and (``migrate``) bring the database in line with the schema.

        On PostgreSQL the user is the session user; another ``user`` is refused
        (a superuser may name itself, unless ``strict_user``: the CLI's --user).
        Only a role that owns the schema migrates; anyone else's kehu runs no DDL
        and is told to ask their admin when the schema is behind (``models.team``)."""
        if not isinstance(schema, Schema):
            schema = load_schema(schema)
        db = connect(url)
        try:
            if is_postgres(db):
                from . import team

                user = team.login_for(db, user, strict=strict_user)
                store = cls(db, schema, user=user, url=url)
                team.open_check(store, migrate)
                return store
            store = cls(db, schema, user=user, url=url)
            if migrate:
                store.migration = migrate_schema(store)
        except BaseException:
            db.close()
            raise
        return store

    def close(self) -> None:
        if not self.db.is_closed():
            self.db.close()

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.db)

    # -- meta key/value ----------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        if not self.db.table_exists("kehu_meta"):
            return default
        row = self.Meta.get_or_none(self.Meta.key == key)
        return default if row is None else json.loads(row.value)

    def set_meta(self, key: str, value: Any) -> None:
        (self.Meta.insert(key=key, value=json.dumps(value, ensure_ascii=False, default=str))
         .on_conflict(conflict_target=[self.Meta.key], update={self.Meta.value: peewee.EXCLUDED.value})
         .execute())

    # -- customers ---------------------------------------------------------
    def customers(self, *, include_deleted: bool = False) -> peewee.ModelSelect:
        self.guard.require("view")
        query = self.Customer.select()
        scope = self.guard.row_scope()
        if scope is not None:
            query = query.where(scope)
        if not include_deleted:
            query = query.where(self.Customer.deleted_at.is_null())
        return query

    def get_customer(self, customer_id: int, *, include_deleted: bool = False):
        row = self.customers(include_deleted=include_deleted).where(
            self.Customer.id == customer_id).first()
        if row is None:
            raise NotFound(tr("store.customer_not_found", id=customer_id))
        return row

    def record(self, row) -> dict[str, Any]:
        """A customer row as a dict of schema fields plus id/version/timestamps, with
        the values the user's role may not see masked (``guard.visible``)."""
        return self.guard.visible(self.raw_record(row))

    def raw_record(self, row) -> dict[str, Any]:
        """``record`` unmasked: for the model layer's own use, never for display."""
        data = {spec.key: getattr(row, spec.key) for spec in self.schema.fields}
        data.update(id=row.id, version=row.version, created_at=row.created_at,
                    updated_at=row.updated_at, deleted_at=row.deleted_at)
        return data

    def mask(self, spec: FieldSpec, value: Any) -> Any:
        """``value`` of ``spec`` as the current user may see it (e.g. 138****5678)."""
        return self.guard.mask(spec, value)

    def validate(self, data: dict[str, Any], *, partial: bool = False) -> dict[str, Any]:
        """Cleaned values, or ``RecordInvalid`` naming every bad field."""
        return clean_record(self.schema, data, partial=partial, user=self.user)

    def validate_field(self, key: str, raw: Any) -> Any:
        spec = self.schema.get(key)
        if spec is None:
            raise FieldError(key, tr("validate.unknown_field", key=key))
        return clean(spec, raw)

    def create_customer(self, data: dict[str, Any]):
        values = self.validate(self.guard.check_create(data))
        stamp = now()
        fields = dict(values)
        values.update(created_at=stamp, updated_at=stamp, version=1,
                      search_text=search.build_search_text(self.schema, values))
        with self.db.atomic():
            customer_id = self.Customer.insert(**values).execute()
            self.audit.record("create", "customer", customer_id, after=fields)
        from . import automations   # rules on customer_created (models.automations)
        automations.created(self, customer_id)
        return self.get_customer(customer_id)

    def update_customer(self, customer_id: int,
                        changes: dict[str, Any] | Callable[[dict[str, Any]], dict[str, Any]], *,
                        expected_version: int | None = None):
        """Save ``changes`` (only those fields). With ``expected_version``, a row that
        someone else saved in between is not touched: ``ConflictError`` instead.

        Every save reads the row locked (``FOR UPDATE`` on PostgreSQL; on SQLite the
        transaction begins IMMEDIATE, with the file's write lock), so a save never
        builds on a row another writer is changing. A change computed from the
        current values (a counter plus one) is given as a function: it is called
        with the record as it is under the lock and returns the changes, so two
        writers incrementing at once never lose an increment."""
        C = self.Customer
        self.guard.require("edit")   # before the row lock, which the server refuses a reader
        with self.db.atomic():
            current = self._locked(customer_id)
            if callable(changes):
                changes = changes(self.record(current))
            values = self.validate(self.guard.check_update(current, changes), partial=True)
            if expected_version is not None and current.version != expected_version:
                raise ConflictError(customer_id, self.record(current))
            before = self.raw_record(current)
            merged = before | values
            values.update(updated_at=now(), version=current.version + 1,
                          search_text=search.build_search_text(self.schema, merged))
            query = C.update(**values).where(C.id == customer_id, C.deleted_at.is_null(),
                                             C.version == current.version)
            if query.execute() != 1:   # cannot happen under the lock; never write blind
                raise ConflictError(customer_id, self.record(self.get_customer(customer_id)))
            self.audit.record("update", "customer", customer_id,
                              before={k: v for k, v in before.items() if k in self.schema},
                              after={k: v for k, v in merged.items() if k in self.schema})
        from . import automations   # rules on a stage or grade change
        automations.changed(self, customer_id, before, merged, values["version"])
        return self.get_customer(customer_id)

    def _locked(self, customer_id: int, *, include_deleted: bool = False):
        """The customer row (within the user's row scope), locked until the
        transaction ends: FOR UPDATE on PostgreSQL; a SQLite transaction begins
        IMMEDIATE (models.db), so it holds the file's write lock already."""
        query = self.customers(include_deleted=include_deleted).where(self.Customer.id == customer_id)
        row = (query.for_update() if self.is_postgres else query).first()
        if row is None:
            raise NotFound(tr("store.customer_not_found", id=customer_id))
        return row

    def delete_customer(self, customer_id: int) -> None:
        """Soft delete: the row stays, out of every view but 'deleted'."""
        C = self.Customer
        with self.db.atomic():
            row = self._locked(customer_id)
            self.guard.require("delete", row)
            stamp = now()
            C.update(deleted_at=stamp, version=C.version + 1).where(C.id == customer_id).execute()
            self.audit.record("delete", "customer", customer_id,
                              fields={"deleted_at": [None, stamp.isoformat(sep=" ")]})

    def restore_customer(self, customer_id: int) -> None:
        C = self.Customer
        with self.db.atomic():
            row = self._locked(customer_id, include_deleted=True)
            self.guard.require("delete", row)
            C.update(deleted_at=None, version=C.version + 1).where(C.id == customer_id).execute()
            self.audit.record("restore", "customer", customer_id,
                              fields={"deleted_at": [str(row.deleted_at), None]})

    def count_customers(self) -> int:
        return self.customers().count()

    def bulk_insert_customers(self, rows: Iterable[dict[str, Any]], *, batch: int = 5000,
                              progress=None, import_batch: int | None = None) -> int:
        """Insert already-clean rows fast (raw executemany in transactions).

        Used by the demo generator and tests; ``progress(n)`` is called after
        each batch with the number inserted so far. ``import_batch`` marks the
        rows as created by that import. A row may bring its ``search_text``.
        Each batch names only the columns its rows have (binding dozens of
        NULLs per row costs more than the rest of the insert). See
        ``insert_rows`` for the search index and the audit trail.
        """
        order = [f.key for f in self.schema.fields]
        stamp = now()

        def batches():
            for chunk in _chunks(rows, batch):
                present: set[str] = set()
                for row in chunk:
                    present.update(row)
                keys = [k for k in order if k in present]
                plan = InsertPlan(self, keys, stamp, import_batch)
                yield keys, [plan.row(row, row.get("search_text")
                                      or search.build_search_text(self.schema, row)) for row in chunk]

        return self.insert_rows(batches(), progress=progress, import_batch=import_batch)

    def insert_rows(self, batches: Iterable[tuple[list[str], list[tuple]]], *, progress=None,
                    import_batch: int | None = None) -> int:
        """Insert batches of ready rows, each ``(keys, rows)``: a row is the tuple
        ``InsertPlan(self, keys, …).row`` makes. All in one transaction, each
        batch in its own savepoint. On SQLite the new rows enter the search index
        with one statement per batch instead of a trigger per row (~10x faster;
        the trigger is off inside this call's transaction only). The audit trail
        gets one ``import`` entry per call (rows, batch), which a customer's
        history shows."""
        self.guard.require("import")
        param = self.db.param
        direct_fts = not self.is_postgres and not getattr(self, "_search_bulk", False)
        total = 0
        with self.db.atomic():
            if direct_fts:
                self.db.execute_sql(f"DROP TRIGGER IF EXISTS {search.INSERT_TRIGGER}")
            for keys, tuples in batches:
                if not tuples:
                    continue
                columns = [*InsertPlan.SYSTEM, *keys]
                sql = (f'INSERT INTO "customer" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
                       f'VALUES ({", ".join([param] * len(columns))})')
                with self.db.atomic():
                    cursor = self.db.cursor()
                    if self.is_postgres:  # psycopg2's executemany is a round trip per row
                        from psycopg2.extras import execute_values

                        execute_values(cursor, sql.rsplit("VALUES", 1)[0] + "VALUES %s", tuples,
                                       page_size=1000)
                    elif direct_fts:
                        last = self.db.execute_sql('SELECT max("id") FROM "customer"').fetchone()[0]
                        cursor.executemany(sql, tuples)
                        search.index_rows_after(self, last or 0)
                    else:
                        cursor.executemany(sql, tuples)
                total += len(tuples)
                if progress:
                    progress(total)
            if direct_fts:
                self.db.execute_sql(search.trigger_sql(search.INSERT_TRIGGER))
            self.audit.record("import", "customer", None, batch=import_batch,
                              fields={"rows": [None, total]})
        return total

    # -- contacts (decision chain) ----------------------------------------
    def contacts(self, customer_id: int, *, include_deleted: bool = False) -> peewee.ModelSelect:
        query = self.Contact.select().where(self.Contact.customer == customer_id)
        if not include_deleted:
            query = query.where(self.Contact.deleted_at.is_null())
        return query.order_by(self.Contact.id)

    def _check_list(self, list_name: str, field: str, value: Any) -> Any:
        if value in (None, ""):
            return None
        items = self.schema.list_items(list_name)
        for item in items:
            if value == item.value or str(value).casefold() in {
                    lbl.casefold() for lbl in item.labels.values()}:
                return item.value
        raise FieldError(field, tr("validate.not_a_choice", value=value,
                                   choices=", ".join(i.label() for i in items)))

    def _clean_contact(self, data: dict[str, Any]) -> dict[str, Any]:
        out = dict(data)
        if "name" in out and not str(out["name"] or "").strip():
            raise RecordInvalid({"name": FieldError("name", tr("validate.required"))})
        if "role" in out:
            out["role"] = self._check_list("decision_roles", "role", out["role"])
        if "stance" in out:
            out["stance"] = self._check_list("stances", "stance", out["stance"])
        return out

    def add_contact(self, customer_id: int, **data):
        self.guard.require("edit", self.get_customer(customer_id))
        values = self._clean_contact(data)
        with self.db.atomic():
            self._locked(customer_id)   # merged away or deleted meanwhile: NotFound, not an orphan
            row = self.Contact.create(customer=customer_id, **values)
            self.audit.record("create", "contact", row.id, customer_id=customer_id, after=values)
        return row

    # -- interactions (timeline) ------------------------------------------
    def interactions(self, customer_id: int) -> peewee.ModelSelect:
        I = self.Interaction
        return (I.select().where(I.customer == customer_id, I.deleted_at.is_null())
                .order_by(I.occurred_at.desc(), I.id.desc()))

    def add_interaction(self, customer_id: int, kind: str, **data):
        self.guard.require("edit", self.get_customer(customer_id))
        from . import automations   # rules on purchase_logged and a stage it moves
        seen = automations.before(self, customer_id)
        kind = self._check_list("interaction_kinds", "kind", kind)
        if kind is None:
            raise FieldError("kind", tr("validate.required"))
        data.setdefault("user", self.user)
        if data.get("score") is not None:
            from .satisfaction import clean_score
            data["score"] = clean_score(self, data["score"])
        if data.get("amount") is not None:
            amount = Decimal(str(data["amount"]))
            if not amount.is_finite() or amount.copy_abs() > value_limit(2):
                raise FieldError("amount", tr("money.out_of_range", value=str(data["amount"])[:40],
                                              limit=f"{value_limit(2):,}"))
            data["amount"] = amount.quantize(Decimal("0.01"))
        with self.db.atomic():
            self._locked(customer_id)   # merged away or deleted meanwhile: NotFound, not an orphan
            if data.get("score") is not None:   # a value typed before the history: kept
                from .satisfaction import before_scored_entry
                before_scored_entry(self, customer_id)
            row = self.Interaction.create(customer=customer_id, kind=kind, **data)
            from .agenda import touch_contact   # the customer's last contact follows
            touch_contact(self, customer_id, row.occurred_at)
            self.audit.record("create", "interaction", row.id, customer_id=customer_id,
                              after={"kind": kind, **data})
            if kind == "purchase":
                self.refresh_purchase_totals(customer_id)
            if data.get("score") is not None:   # the satisfaction field shows the latest
                from .satisfaction import refresh_latest
                refresh_latest(self, customer_id)
        automations.after(self, customer_id, seen, purchase=row.id if kind == "purchase" else None)
        return row

    def refresh_purchase_totals(self, customer_id: int | None = None) -> None:
        """Recompute the computed purchase fields from the timeline (one customer or all)."""
        if not all(k in self.schema for k in ("purchase_total", "purchase_count",
                                              "last_purchase_on")):
            return
        decimals = self.schema["purchase_total"].decimals
        if customer_id is not None:   # a total past what kehu keeps exactly is refused
            I = self.Interaction
            total = money_from_sql(money_sums(self, lambda SUM: I.select(SUM(I.amount)).where(
                I.customer == customer_id, I.kind == "purchase", I.deleted_at.is_null()).scalar()))
            if total is not None and total > value_limit(decimals):
                raise FieldError("amount", tr("money.total_out_of_range", total=f"{total:,}",
                                              limit=f"{value_limit(decimals):,}"))
        total_sql = "SUM(amount)"   # SQLite: cents (interaction.amount) to the total's minor units
        if not self.is_postgres and decimals > 2:
            total_sql = f"SUM(amount) * {10 ** (decimals - 2)}"
        elif not self.is_postgres and decimals < 2:
            total_sql = f"CAST(ROUND(SUM(amount) / 1e{2 - decimals}) AS INTEGER)"
        sql = (
            'UPDATE customer SET '
            f'purchase_total = (SELECT {total_sql} FROM interaction i WHERE i.customer_id = customer.id '
            "AND i.kind = 'purchase' AND i.deleted_at IS NULL), "
            'purchase_count = (SELECT COUNT(*) FROM interaction i WHERE i.customer_id = customer.id '
            "AND i.kind = 'purchase' AND i.deleted_at IS NULL), "
            'last_purchase_on = (SELECT MAX(CAST(occurred_at AS DATE)) FROM interaction i '
            "WHERE i.customer_id = customer.id AND i.kind = 'purchase' AND i.deleted_at IS NULL)"
        )
        if not self.is_postgres:
            sql = sql.replace("MAX(CAST(occurred_at AS DATE))", "MAX(date(occurred_at))")
        params: tuple = ()
        if customer_id is not None:
            sql += f" WHERE id = {self.db.param}"
            params = (customer_id,)
        self.db.execute_sql(sql, params)
        if customer_id is not None:  # RFM score, segment and stage follow the purchase
            from .segments import refresh_customer

            refresh_customer(self, customer_id)


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    chunk = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class InsertPlan:
    """How new customer rows are bound for ``Store.insert_rows``: the system
    columns, then the values of ``keys`` in that order. Holds plain data only,
    so an import sends it to its worker processes, which then hand back rows
    ready to insert. ``stamp`` is the creation time of rows without one."""

    SYSTEM = ("created_at", "updated_at", "version", "search_text", "import_batch", "extra")

    def __init__(self, store: "Store", keys: Iterable[str], stamp: dt.datetime,
                 import_batch: int | None):
        self.keys = tuple(keys)
        # SQLite: datetimes and decimals are stored as text (what its adapter would
        # write, done once for the stamp), money as minor units (MoneyField);
        # PostgreSQL binds them as they are
        self.stamp = stamp if store.is_postgres else stamp.isoformat(" ")
        self.import_batch = import_batch
        self.as_text = () if store.is_postgres else tuple(
            i for i, k in enumerate(self.keys) if store.schema[k].type == "decimal")
        self.as_minor = () if store.is_postgres else tuple(
            (i, store.schema[k].decimals) for i, k in enumerate(self.keys)
            if store.schema[k].type == "money")

    def row(self, record: dict[str, Any], search_text: str) -> tuple:
        values = list(map(record.get, self.keys))
        for i in self.as_text:
            if values[i] is not None:
                values[i] = str(values[i])
        for i, decimals in self.as_minor:
            if values[i] is not None:
                values[i] = to_minor(values[i], decimals)
        created = record.get("created_at") or self.stamp
        return (created, created, 1, search_text, self.import_batch, record.get("extra"), *values)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in some containers
        return "kehu"
