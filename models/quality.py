"""Data quality: lists of customers to clean, each one a query a view can keep.

* **Completeness** counts the fields the schema marks ``important: true``: per
  field, the share of customers with a value (the list: ``email:empty``); per
  customer, the share of its important fields filled, 0–100 (the query word
  ``completeness<50`` / ``完整度<50``). The per-customer number is one SQL
  expression (``completeness_sql``) with an index on exactly that expression
  (``ensure_index``, made when the database is opened): every write keeps it up
  to date without any code of kehu's, and ``completeness<50`` reads the index.
* **Verification** overdue by the policy of ``models.verify`` (``verify:due``,
  ``verify:credit`` / ``核实:信用状况``: one kind).
* **Legacy values** that no longer validate: ``scan`` runs the schema's
  validators (``validate.clean``) over the stored values in batches of
  ``BATCH`` customers and keeps what fails in ``quality_invalid`` (field,
  customer, value, message); ``invalid:email`` / ``不合规:邮箱`` lists them, and a
  value fixed since the scan leaves the list at once (the stored value must still
  be the one found).

``report(store, rs, today)`` is the ``quality`` report of ``models.reports``: one
line per list, its customers, their share of the scope and a detail (the share
filled, examples of bad values); each line's ``query`` opens its customers.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import peewee

from .errors import KehuError
from .i18n import tr
from .schema import FieldSpec, Schema
from .store import now
from .validate import FieldError, clean

BATCH = 5000
EXAMPLES = 3
SCANNED_META = "quality_scanned_at"
INDEX_PREFIX = "customer_completeness_"
COMPLETENESS_NAMES = {"completeness", "完整度", "完整率"}
VERIFY_NAMES = {"verify", "verified", "核实"}
INVALID_NAMES = {"invalid", "不合规", "无效"}
DUE_WORDS = {"due", "overdue", "到期", "逾期", "*"}
ANY_WORDS = {"*", "any", "all", "全部"}
#: completeness bands of the report: (query, lower bound, upper bound)
BANDS = (("completeness<50", 0, 49), ("completeness>=50 completeness<80", 50, 79))


class QualityError(KehuError, ValueError):
    """A quality word or scan that cannot run as asked."""


# --- completeness -----------------------------------------------------------------

def important_fields(schema: Schema) -> list[FieldSpec]:
    return [f for f in schema.fields if f.important and not f.computed]


def filled_sql(spec: FieldSpec) -> str:
    """SQL true when the customer has a value (text: not empty either)."""
    col = f'"{spec.key}"'
    if spec.storage == "text":
        return f"({col} IS NOT NULL AND {col} <> '')"
    return f"({col} IS NOT NULL)"


def completeness_sql(schema: Schema) -> str | None:
    """The share of important fields filled, a whole percent 0–100 (None: no important
    field). Literal SQL with no parameters, so that a query's expression is the
    index's expression, character for character."""
    fields = important_fields(schema)
    if not fields:
        return None
    cases = " + ".join(f"CASE WHEN {filled_sql(f)} THEN 1 ELSE 0 END" for f in fields)
    return f"(({cases}) * 100 / {len(fields)})"


def completeness_expr(store) -> peewee.Node:
    text = completeness_sql(store.schema)
    return peewee.SQL(text if text is not None else "100")


def index_name(schema: Schema) -> str:
    text = completeness_sql(schema) or ""
    return INDEX_PREFIX + hashlib.sha1(text.encode()).hexdigest()[:10]


def ensure_index(store) -> None:
    """The index on the completeness expression of the schema in force; an index made
    for another set of important fields is dropped; the table of invalid values.
    (Run by the migration, as the database's owner on a team server.)"""
    invalid_model(store)
    db = store.db
    text = completeness_sql(store.schema)
    wanted = index_name(store.schema) if text else None
    for index in db.get_indexes("customer"):
        if index.name.startswith(INDEX_PREFIX) and index.name != wanted:
            db.execute_sql(f'DROP INDEX IF EXISTS "{index.name}"')
    if wanted:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{wanted}" ON "customer" ({text})')


def field_counts(store, rs) -> tuple[int, dict[str, int], Decimal | None]:
    """(customers in scope, {field: customers with a value}, average completeness)."""
    from .reports import _scope_where

    C = store.Customer
    fields = important_fields(store.schema)
    sums = [peewee.fn.SUM(peewee.SQL(f"CASE WHEN {filled_sql(f)} THEN 1 ELSE 0 END"))
            .alias(f.key) for f in fields]
    row = (C.select(peewee.fn.COUNT(C.id).alias("n"), *sums,
                    peewee.fn.AVG(completeness_expr(store)).alias("average"))
           .where(_scope_where(rs)).dicts().get())
    n = row["n"] or 0
    average = row["average"]
    average = (Decimal(str(average)).quantize(Decimal("0.1"), ROUND_HALF_UP)
               if average is not None and n else None)
    return n, {f.key: int(row[f.key] or 0) for f in fields}, average


# --- invalid stored values --------------------------------------------------------------

def invalid_model(store) -> type[peewee.Model]:
    cached = store.__dict__.get("_quality_invalid")
    if cached is not None:
        return cached
    model = type("QualityInvalid", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": store.db, "table_name": "quality_invalid",
                                  "indexes": ((("field", "customer_id"), False),)}),
        "field": peewee.TextField(),
        "customer_id": peewee.IntegerField(index=True),
        "value": peewee.TextField(null=True),
        "message": peewee.TextField(),
    })
    if not store.db.table_exists("quality_invalid"):
        store.db.create_tables([model], safe=True)
    store.__dict__["_quality_invalid"] = model
    return model


def checked_fields(schema: Schema) -> list[FieldSpec]:
    """The fields whose stored values a rule can refuse (computed fields are kehu's own)."""
    out = []
    for f in schema.fields:
        if f.computed:
            continue
        if (f.type in ("phone", "email", "url", "choice") or f.pattern or f.max_length
                or f.min is not None or f.max is not None):
            out.append(f)
    return out


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def _still_valid(spec: FieldSpec, value: Any) -> str | None:
    """The validator's sentence when a stored value is refused, else None. A value is
    refused when ``clean`` refuses it, or (choice, phone, email) would store another."""
    try:
        cleaned = clean(spec, value)
    except FieldError as exc:
        return exc.message
    if spec.type == "choice" and cleaned != value:
        return tr("validate.not_a_choice", value=value,
                  choices=", ".join(c.label() for c in spec.choices))
    return None


def _by_sql(spec: FieldSpec) -> bool:
    """A rule the database can check alone: a choice, a number's range, a plain text's
    length. Phones, e-mails, web addresses and patterns go through ``validate.clean``."""
    if spec.type == "choice":
        return True
    if spec.storage in ("int", "decimal", "money"):
        return True
    return spec.type in ("text", "longtext") and not spec.pattern


def _sql_candidates(store, spec: FieldSpec) -> peewee.Expression:
    """Rows whose value the rule of ``spec`` may refuse (each is checked by ``clean``)."""
    col = getattr(store.Customer, spec.key)
    if spec.type == "choice":
        return col.is_null(False) & (col != "") & col.not_in([c.value for c in spec.choices])
    if spec.storage in ("int", "decimal", "money"):
        parts = []
        if spec.min is not None:
            parts.append(col < spec.min)
        if spec.max is not None:
            parts.append(col > spec.max)
        out = peewee.SQL("1 = 0")
        for p in parts:
            out = out | p
        return out
    return peewee.fn.LENGTH(col) > (spec.max_length or 10 ** 9)


def findings_readable(store) -> bool:
    """The scan's findings hold the invalid values in clear: on a PostgreSQL team only
    a role that sees every field of every customer may read them (models/team.py
    grants the table to no other role)."""
    if not store.guard.pg_team:
        return True
    from .team import _restricted
    return not _restricted(store.schema, store.guard.role)


class FindingsHidden(KehuError):
    """A restricted role asked for the invalid values (``invalid:``, ``kehu quality --scan``)."""


def _require_findings(store) -> None:
    if not findings_readable(store):
        raise FindingsHidden(tr("quality.findings_hidden"))


def scan(store, *, batch: int = BATCH, progress=None) -> dict[str, int]:
    """Run the validators over every live customer's stored values; the findings
    replace the last scan's. Returns {field: count}. Choices, number ranges and text
    lengths are asked of the database (``_sql_candidates``); phones, e-mails, web
    addresses and patterns go through ``validate.clean``, ``batch`` customers at a
    time (by id)."""
    _require_findings(store)
    C = store.Customer
    Q = invalid_model(store)
    counts: dict[str, int] = {}
    found: list[dict[str, Any]] = []

    def keep(spec: FieldSpec, customer_id: int, value: Any) -> None:
        message = _still_valid(spec, value)
        if message is not None:
            counts[spec.key] = counts.get(spec.key, 0) + 1
            found.append({"field": spec.key, "customer_id": customer_id,
                          "value": _as_text(value)[:500], "message": message})

    checked = checked_fields(store.schema)
    by_sql = [f for f in checked if _by_sql(f)]
    fields = [f for f in checked if not _by_sql(f)]
    if by_sql:   # one pass over the table for every rule the database can check
        candidates = _sql_candidates(store, by_sql[0])
        for spec in by_sql[1:]:
            candidates = candidates | _sql_candidates(store, spec)
        for row in (C.select(C.id, *(getattr(C, f.key) for f in by_sql))
                    .where(C.deleted_at.is_null(), candidates).order_by(C.id).tuples()):
            for spec, value in zip(by_sql, row[1:]):
                if value is not None and value != "":
                    keep(spec, row[0], value)
    last = 0
    total = store.customers().count() if progress else 0
    done = 0
    # deleted rows are skipped here, not in SQL: a condition on deleted_at lets SQLite
    # walk that index and sort each batch (220 ms a batch instead of a few)
    cols = [C.id, C.deleted_at, *(getattr(C, f.key) for f in fields)]
    while fields:
        rows = list(C.select(*cols).where(C.id > last).order_by(C.id).limit(batch).tuples())
        if not rows:
            break
        for row in rows:
            if row[1] is not None:
                continue
            for spec, value in zip(fields, row[2:]):
                if value is not None and value != "":
                    keep(spec, row[0], value)
        last = rows[-1][0]
        done += sum(1 for row in rows if row[1] is None)
        if progress:
            progress(done, total)
    with store.db.atomic():
        Q.delete().execute()
        for start in range(0, len(found), 500):
            Q.insert_many(found[start:start + 500]).execute()
        store.set_meta(SCANNED_META, now().isoformat(timespec="seconds"))
    return counts


def scanned_at(store) -> str | None:
    return store.get_meta(SCANNED_META)


def _invalid_condition(store, key: str | None) -> peewee.Expression:
    """Customers with a value found invalid by the last scan that is still stored."""
    C = store.Customer
    Q = invalid_model(store)
    now_stored = C.alias("stored")
    keys = [key] if key else [f.key for f in checked_fields(store.schema)]
    parts = []
    for k in keys:
        spec = store.schema.get(k)
        if spec is None:
            continue
        if spec.storage == "text":   # fixed since the scan: off the list at once
            # not correlated with the outer customer: the few findings are read once
            # (a correlated subquery read them again for each of a million customers)
            sub = (Q.select(Q.customer_id).join(now_stored, on=(now_stored.id == Q.customer_id))
                   .where(Q.field == k, Q.value == getattr(now_stored, k)))
        else:
            sub = Q.select(Q.customer_id).where(Q.field == k)
        parts.append(C.id.in_(sub))
    if not parts:
        return peewee.SQL("1 = 0")
    out = parts[0]
    for p in parts[1:]:
        out = out | p
    return out


# --- the query words ---------------------------------------------------------------------

def query_filter(schema: Schema, name: str, op: str, raw: str, pos: int, negated: bool):
    """``completeness<50``, ``verify:due`` / ``verify:credit``, ``invalid:email`` /
    ``invalid:*`` as a query Filter (None: not one of these words)."""
    from .query import Filter, QueryError, SystemField, _shown, resolve_field

    folded = name.casefold()
    value_pos = pos + len(name) + len(op)
    word = raw.strip()
    if folded in COMPLETENESS_NAMES:
        if not word.rstrip("%").isdigit() or not 0 <= int(word.rstrip("%")) <= 100:
            raise QueryError(tr("quality.bad_completeness", value=_shown(word)), value_pos,
                             max(1, len(raw)))
        if op == "!=":
            raise QueryError(tr("quality.bad_completeness", value=_shown(word)), pos + len(name),
                             len(op))
        return Filter(SystemField("completeness", {"zh": "完整度", "en": "Completeness"},
                                  "integer"), "quality:completeness",
                      [op, int(word.rstrip("%"))], negated, pos, raw)
    if folded in VERIFY_NAMES:
        if op not in (":", "="):
            raise QueryError(tr("quality.bad_verify", kinds=_verify_kinds()), pos + len(name),
                             len(op))
        kind = None
        if word.casefold() not in DUE_WORDS:
            from .verify import PolicyError, load_policy
            try:
                kind = load_policy().resolve(word).key
            except PolicyError:
                raise QueryError(tr("quality.bad_verify", kinds=_verify_kinds()), value_pos,
                                 max(1, len(raw))) from None
        return Filter(SystemField("verify", {"zh": "核实", "en": "Verification"}),
                      "quality:verify", [kind], negated, pos, raw)
    if folded in INVALID_NAMES:
        if op not in (":", "="):
            raise QueryError(tr("quality.bad_invalid", fields=_checked_names(schema)),
                             pos + len(name), len(op))
        key = None
        if word.casefold() not in ANY_WORDS:
            spec = resolve_field(schema, word)
            if spec is None or spec.key not in {f.key for f in checked_fields(schema)}:
                raise QueryError(tr("quality.bad_invalid", fields=_checked_names(schema)),
                                 value_pos, max(1, len(raw)))
            key = spec.key
        return Filter(SystemField("invalid", {"zh": "不合规", "en": "Invalid"}),
                      "quality:invalid", [key], negated, pos, raw)
    return None


def verify_counts(store, rs, policy, today: dt.date) -> dict[str, int]:
    """Customers in scope due for each kind of verification, in one pass (the same
    conditions as ``verify:<kind>``)."""
    from . import verify
    from .reports import _scope_where

    C, V = store.Customer, store.Verification
    kinds = policy.active
    aliases = [V.alias(f"v_{k.key}") for k in kinds]
    sums = []
    for kind, alias in zip(kinds, aliases):
        cond = verify._kind_due(store, kind, peewee.fn.COALESCE(alias.verified_at, C.created_at),
                                today)
        sums.append(peewee.fn.SUM(peewee.Case(None, [(cond, 1)], 0)) if cond is not None
                    else peewee.Value(0))
    if not sums:
        return {}
    query = C.select(*(s.alias(f"n{i}") for i, s in enumerate(sums)))
    for kind, alias in zip(kinds, aliases):
        query = query.join_from(C, alias, peewee.JOIN.LEFT_OUTER,
                                on=(alias.customer == C.id) & (alias.kind == kind.key))
    row = query.where(C.deleted_at.is_null(), _scope_where(rs)).tuples().get()
    return {k.key: int(n or 0) for k, n in zip(kinds, row)}


def _verify_days(kind) -> str:
    """How long a check stays good: one number, or the range over the grades."""
    days = {d for _, d in getattr(kind, "by_grade", ()) if d} | ({kind.days} if kind.days else set())
    if len(days) > 1:
        return tr("quality.verify_grades", low=min(days), high=max(days))
    return tr("quality.verify_days", days=kind.days)


def _verify_kinds() -> str:
    from .verify import PolicyError, load_policy
    try:
        return ", ".join(k.key for k in load_policy().kinds)
    except PolicyError:
        return ""


def _checked_names(schema: Schema) -> str:
    return ", ".join(f.key for f in checked_fields(schema))


def condition(store, f) -> peewee.Expression:
    """The WHERE condition of a quality Filter (``query_filter``)."""
    C = store.Customer
    if f.op == "quality:completeness":
        op, number = f.values
        expr = completeness_expr(store)
        cond = {":": expr == number, "=": expr == number, ">": expr > number,
                ">=": expr >= number, "<": expr < number, "<=": expr <= number}[op]
    elif f.op == "quality:verify":
        from . import verify
        from .query import _today
        due, _ = verify._due_query(store, verify.load_policy(), _today(),
                                   [f.values[0]] if f.values[0] else None)
        cond = C.id.in_(due.select(C.id))
    else:
        _require_findings(store)
        key = f.values[0]
        if key is not None:
            from .results import sees
            from .query import QueryError
            spec = store.schema[key]
            if not sees(store, spec):
                raise QueryError(tr("query.masked_field", field=spec.label()), f.position,
                                 len(f.raw) + 8)
        cond = _invalid_condition(store, key)
    return ~cond if f.negated else cond


# --- the report ------------------------------------------------------------------------------

def _share(part: int, whole: int) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _examples(store, key: str, rs, limit: int = EXAMPLES) -> list[str]:
    from .reports import _scope_where

    C = store.Customer
    Q = invalid_model(store)
    spec = store.schema[key]
    rows = (Q.select(Q.value).join(C, on=(Q.customer_id == C.id))
            .where(Q.field == key, _scope_where(rs), _invalid_condition(store, key))
            .group_by(Q.value).order_by(peewee.fn.MIN(Q.customer_id)).limit(limit).tuples())
    out = []
    for (value,) in rows:
        shown = store.mask(spec, value) if spec.sensitive else value
        out.append(str(shown)[:24])
    return out


def report(store, rs, today: dt.date):
    """The ``quality`` report: one line per list to clean (see the module docstring)."""
    from . import verify
    from .reports import Column, _report, _scope_where

    C = store.Customer
    total, filled, average = field_counts(store, rs)
    rows: list[dict[str, Any]] = []

    def line(section: str, item: str, customers: int, detail: str, query: str | None):
        rows.append({"section": tr(f"quality.section.{section}"), "item": item,
                     "customers": customers, "share": _share(customers, total),
                     "detail": detail, "query": query, "kind": section})

    for spec in important_fields(store.schema):
        share = _share(filled[spec.key], total)
        line("empty", spec.label(), total - filled[spec.key],
             tr("quality.filled", share=f"{share}%" if share is not None else "–"),
             f"{spec.key}:empty")
    if important_fields(store.schema):
        expr = completeness_expr(store)
        for query, lo, hi in BANDS:
            n = C.select().where(_scope_where(rs), expr >= lo, expr <= hi).count()
            line("completeness", tr("quality.band", lo=lo, hi=hi), n,
                 tr("quality.average", average=f"{average}%" if average is not None else "–"),
                 query)
    try:
        policy = verify.load_policy()
    except verify.PolicyError as exc:
        policy = None
        line("verify", str(exc)[:40], 0, "", None)
    if policy is not None:
        due = verify_counts(store, rs, policy, today)
        for kind in policy.active:
            line("verify", kind.label(), due[kind.key], _verify_days(kind), f"verify:{kind.key}")
    when = scanned_at(store)
    if not findings_readable(store):
        line("invalid", tr("quality.findings_hidden_short"), 0, "", None)
    elif when is None:
        line("invalid", tr("quality.not_scanned"), 0, tr("quality.scan_hint"), None)
    else:
        Q = invalid_model(store)
        for spec in checked_fields(store.schema):
            n = (C.select().where(_scope_where(rs), _invalid_condition(store, spec.key)).count()
                 if Q.select().where(Q.field == spec.key).exists() else 0)
            if n:
                line("invalid", spec.label(), n,
                     ", ".join(_examples(store, spec.key, rs)), f"invalid:{spec.key}")
        if not any(r["kind"] == "invalid" for r in rows):
            line("invalid", tr("quality.none_invalid"), 0,
                 tr("quality.scanned", at=when.replace("T", " ")), None)
    columns = [Column("section", tr("quality.col.section")),
               Column("item", tr("quality.col.item")),
               Column("customers", tr("quality.col.customers"), "count"),
               Column("share", tr("quality.col.share"), "percent"),
               Column("detail", tr("quality.col.detail"))]
    totals = {"section": tr("quality.in_scope"), "customers": total}
    result = _report("quality", rs, columns, rows, totals, "item", ["customers"], today)
    result.scanned_at = when
    return result


def as_dict(store, rs, today: dt.date) -> dict[str, Any]:
    """``kehu quality --json``: the report's lines with their queries, and the numbers."""
    result = report(store, rs, today)
    total, filled, average = field_counts(store, rs)
    return {
        "as_of": today.isoformat(), "scope": result.scope, "customers": total,
        "average_completeness": None if average is None else str(average),
        "fields": {key: {"filled": n, "share": None if _share(n, total) is None
                         else str(_share(n, total))} for key, n in filled.items()},
        "scanned_at": result.scanned_at,
        "lists": [{"section": r["kind"], "item": r["item"], "customers": r["customers"],
                   "share": None if r["share"] is None else str(r["share"]),
                   "detail": r["detail"], "query": r["query"]} for r in result.rows],
    }
