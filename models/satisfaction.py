"""Satisfaction history: every score is a timeline entry, the field shows the latest.

A score goes on a timeline entry (``interaction.score``): a 回访 call logged
with a score, or an entry of kind ``survey`` for the score alone. Its scale is
the schema's ``satisfaction`` field (the default: 0–10 with one decimal, so
the answers also make a Net Promoter Score: 9–10 promoters, 0–6 detractors).

* The customer's ``satisfaction`` field is the score of the latest live scored
  entry (by when it happened), set in the same transaction whenever a scored
  entry is added, edited, deleted or restored (``refresh_latest``);
  ``recompute`` does it for everybody (``kehu satisfaction recompute``).
* Values typed or imported before the history existed are kept as entries: the
  first time a database is opened with this version (``open_history``, run once
  by the migration), and for one customer just before its first scored entry,
  each customer with a satisfaction value and no scored entry gets an opening
  ``survey`` entry with that value, dated at the customer's last change (the
  best date kehu knows for it). So deleting the entries logged later brings the
  old value back instead of an empty field, and the report counts it once.
* ``trend_by_month`` and ``trend_by_segment`` are the two reports
  (``kehu report satisfaction`` / ``satisfaction_segment``).
"""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import peewee

from .i18n import tr
from .schema import NUMERIC_TYPES, FieldSpec
from .store import now
from .validate import FieldError, clean

SCORE_FIELD = "satisfaction"
SURVEY = "survey"
OPENED_META = "satisfaction_history_opened"
SCORED_INDEX = "interaction_scored_at"
#: the Net Promoter Score's bands on a 0–10 scale
PROMOTER = Decimal(9)
DETRACTOR_BELOW = Decimal(7)
#: the segment report sets the average of the last months beside the year's
RECENT_MONTHS = 3
_DEFAULT = FieldSpec(SCORE_FIELD, "decimal", "business", {"zh": "满意度", "en": "Satisfaction"},
                     min=0, max=10, decimals=1)


def score_spec(store) -> FieldSpec:
    """The scale of a score: the schema's satisfaction field (a number field), else 0–10."""
    spec = store.schema.get(SCORE_FIELD)
    return spec if spec is not None and spec.type in NUMERIC_TYPES else _DEFAULT


def has_field(store) -> bool:
    spec = store.schema.get(SCORE_FIELD)
    return spec is not None and spec.type in NUMERIC_TYPES


def is_nps(store) -> bool:
    """Scores on 0–10: the report also shows promoters, detractors and the NPS."""
    spec = score_spec(store)
    return spec.min == 0 and spec.max == 10


def clean_score(store, raw: Any) -> Decimal | None:
    """A typed score on the field's scale, or ``FieldError`` (key ``score``) saying why."""
    spec = score_spec(store)
    label = tr("timeline.field.score")
    try:
        value = clean(spec, raw)
    except FieldError as exc:
        raise FieldError("score", exc.message, label) from None
    if value is None:
        return None
    value = Decimal(value)
    if spec.min is not None and value < Decimal(str(spec.min)):
        raise FieldError("score", tr("validate.below_min", min=_number(spec.min)), label)
    if spec.max is not None and value > Decimal(str(spec.max)):
        raise FieldError("score", tr("validate.above_max", max=_number(spec.max)), label)
    return value


def _number(value: Any) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def scale_text(store) -> str:
    """``0–10`` (the hint beside the score field)."""
    spec = score_spec(store)
    return f"{_number(spec.min if spec.min is not None else 0)}–" \
           f"{_number(spec.max) if spec.max is not None else '…'}"


def format_score(value: Any, store=None) -> str:
    if value is None:
        return ""
    decimals = score_spec(store).decimals if store is not None else 1
    return f"{Decimal(str(value)):.{decimals}f}"


# --- keeping the field ---------------------------------------------------------------

_LATEST = ("(SELECT i.score FROM interaction i WHERE i.customer_id = customer.id "
           "AND i.score IS NOT NULL AND i.deleted_at IS NULL "
           "ORDER BY i.occurred_at DESC, i.id DESC LIMIT 1)")


def refresh_latest(store, customer_id: int | None = None) -> int:
    """The satisfaction field = the latest live score (one customer, or all that
    differ). Customers without any scored entry keep what they have. Returns rows changed."""
    if not has_field(store):
        return 0
    has_any = ("EXISTS (SELECT 1 FROM interaction j WHERE j.customer_id = customer.id "
               "AND j.score IS NOT NULL)")
    differs = "IS DISTINCT FROM" if store.is_postgres else "IS NOT"
    sql = f'UPDATE customer SET "{SCORE_FIELD}" = {_LATEST} WHERE {has_any}'
    params: tuple = ()
    if customer_id is not None:
        sql += f" AND id = {store.db.param}"
        params = (customer_id,)
    else:
        sql += f' AND "{SCORE_FIELD}" {differs} {_LATEST}'
    return store.db.execute_sql(sql, params).rowcount


def prepare(store) -> None:
    """At the migration: the index of scored entries (the reports read only them, a
    small part of the timeline), then the opening entries once (``open_history``)."""
    # deleted_at leads: an index on it alone would otherwise win the planner's choice
    store.db.execute_sql('DROP INDEX IF EXISTS "interaction_scored"')   # its first form
    store.db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{SCORED_INDEX}" ON "interaction" '
                         '("deleted_at", "occurred_at") WHERE "score" IS NOT NULL')
    open_history(store)


def open_history(store, customer_id: int | None = None, *, force: bool = False) -> int:
    """Opening ``survey`` entries for satisfaction values that have no scored entry
    (one customer; or everybody, once per database unless ``force``). Returns how many."""
    if not has_field(store):
        return 0
    if customer_id is None and not force and store.get_meta(OPENED_META):
        return 0
    kind = SURVEY if store.schema.list_item("interaction_kinds", SURVEY) else "note"
    stamp = now()
    I, C = store.Interaction, store.Customer
    field = getattr(C, SCORE_FIELD)
    scored = I.alias("scored")
    rows = (C.select(C.id, peewee.Value(kind), peewee.fn.COALESCE(C.updated_at, C.created_at),
                     peewee.Value("kehu"), peewee.Value(tr("satisfaction.opening_summary")),
                     field, peewee.Value(stamp), peewee.Value(stamp), peewee.Value(1),
                     peewee.Value(False))
            .where(field.is_null(False), C.deleted_at.is_null(),
                   ~peewee.fn.EXISTS(scored.select(peewee.SQL("1")).where(
                       scored.customer == C.id, scored.score.is_null(False)))))
    if customer_id is not None:
        rows = rows.where(C.id == customer_id)
    count = (I.insert_from(rows, [I.customer, I.kind, I.occurred_at, I.user, I.summary, I.score,
                                  I.created_at, I.updated_at, I.version, I.follow_up_done])
             .as_rowcount().execute())
    if customer_id is None:
        store.set_meta(OPENED_META, now().isoformat(timespec="seconds"))
    return count or 0


def recompute(store) -> tuple[int, int]:
    """Everybody's field from the timeline (typed values with no entry become opening
    entries first). Returns (opening entries made, fields changed)."""
    with store.db.atomic():
        opened = open_history(store, force=True)
        changed = refresh_latest(store)
    return opened, changed


def before_scored_entry(store, customer_id: int) -> None:
    """A scored entry is about to be saved: a value typed before the history becomes
    its opening entry, so it is not lost (called inside the entry's transaction)."""
    open_history(store, customer_id)


# --- the reports --------------------------------------------------------------------

def _bands(store):
    I = store.Interaction
    case = peewee.Case
    promoters = peewee.fn.SUM(case(None, [(I.score >= PROMOTER, 1)], 0))
    detractors = peewee.fn.SUM(case(None, [(I.score < DETRACTOR_BELOW, 1)], 0))
    return promoters, detractors


def _scores(store, rs, first: dt.date, today: dt.date, *fields):
    from .reports import _scope_where

    I, C = store.Interaction, store.Customer
    return (I.select(*fields).join(C, on=(I.customer == C.id))
            .where(I.score.is_null(False), I.deleted_at.is_null(),
                   I.occurred_at >= dt.datetime.combine(first, dt.time()),
                   I.occurred_at < dt.datetime.combine(today + dt.timedelta(days=1), dt.time()),
                   _scope_where(rs)))


def _stats(store, row: dict) -> dict[str, Any]:
    n = row.get("n") or 0
    out: dict[str, Any] = {"responses": n, "customers": row.get("customers") or 0,
                           "average": None}
    if n:
        out["average"] = (Decimal(str(row["total"])) / n).quantize(Decimal("0.1"), ROUND_HALF_UP)
    if is_nps(store):
        promoters, detractors = row.get("promoters") or 0, row.get("detractors") or 0
        out["promoters"] = (Decimal(promoters) * 100 / n).quantize(Decimal("0.1"), ROUND_HALF_UP) if n else None
        out["detractors"] = (Decimal(detractors) * 100 / n).quantize(Decimal("0.1"), ROUND_HALF_UP) if n else None
        out["nps"] = round((promoters - detractors) * 100 / n) if n else None
    return out


def _aggregates(store):
    I = store.Interaction
    promoters, detractors = _bands(store)
    return [peewee.fn.COUNT(I.id).alias("n"),
            peewee.fn.COUNT(peewee.fn.DISTINCT(I.customer)).alias("customers"),
            peewee.fn.SUM(I.score).alias("total"),
            promoters.alias("promoters"), detractors.alias("detractors")]


def _columns(store, first, *, bands: bool = True, recent: bool = False):
    from .reports import Column

    columns = [first, Column("responses", tr("satisfaction.col.responses"), "count"),
               Column("customers", tr("report.col.customers"), "count"),
               Column("average", tr("satisfaction.col.average"), "score")]
    if recent:
        columns.append(Column("recent", tr("satisfaction.col.recent", months=RECENT_MONTHS),
                              "score"))
    if is_nps(store):
        if bands:
            columns += [Column("promoters", tr("satisfaction.col.promoters"), "percent"),
                        Column("detractors", tr("satisfaction.col.detractors"), "percent")]
        columns.append(Column("nps", tr("satisfaction.col.nps"), "count"))
    return columns


def trend_by_month(store, rs, today: dt.date):
    """The last twelve months: responses, customers who answered, average, NPS."""
    from .reports import MONTHS, Column, _month_expr, _month_key, _month_start, _report

    I = store.Interaction
    first = _month_start(today, MONTHS - 1)
    month = _month_expr(store, I.occurred_at)
    found = {str(r["month"]): r for r in _scores(store, rs, first, today, month.alias("month"),
                                                   *_aggregates(store)).group_by(month).dicts()}
    rows = []
    for back in range(MONTHS - 1, -1, -1):
        key = _month_key(_month_start(today, back))
        rows.append({"month": key, **_stats(store, found.get(key, {}))})
    whole = _scores(store, rs, first, today, *_aggregates(store)).dicts().get() or {}
    totals = {"month": tr("report.total"), **_stats(store, whole)}
    columns = _columns(store, Column("month", tr("report.col.month")))
    return _report("satisfaction", rs, columns, rows, totals, "month", ["average"], today)


def trend_by_segment(store, rs, today: dt.date):
    """The last twelve months by the customers' segment, with the average of the last
    three months beside the year's (the trend); drill-down: that segment."""
    from .reports import MONTHS, Column, _month_start, _report
    from .validate import display

    C = store.Customer
    first = _month_start(today, MONTHS - 1)
    spec = store.schema.get("segment")
    col = getattr(C, "segment") if spec is not None else peewee.SQL("NULL")
    found = {r["segment"]: r for r in _scores(store, rs, first, today, col.alias("segment"),
                                               *_aggregates(store)).group_by(col).dicts()}
    recent = {r["segment"]: r for r in _scores(
        store, rs, _month_start(today, RECENT_MONTHS - 1), today, col.alias("segment"),
        *_aggregates(store)).group_by(col).dicts()}
    order = [c.value for c in spec.choices] if spec is not None else []
    order += sorted((k for k in found if k not in order and k is not None), key=str)
    order += [None] if None in found else []
    rows = []
    for value in order:
        label = display(spec, value) if value not in (None, "") and spec else tr("report.empty")
        rows.append({"segment": label, "key": value, **_stats(store, found.get(value, {})),
                     "recent": _stats(store, recent.get(value, {}))["average"]})
    whole = _scores(store, rs, first, today, *_aggregates(store)).dicts().get() or {}
    late = _scores(store, rs, _month_start(today, RECENT_MONTHS - 1), today,
                   *_aggregates(store)).dicts().get() or {}
    totals = {"segment": tr("report.total"), **_stats(store, whole),
              "recent": _stats(store, late)["average"]}
    columns = _columns(store, Column("segment", spec.label() if spec else "segment"),
                       bands=False, recent=True)
    return _report("satisfaction_segment", rs, columns, rows, totals, "segment", ["average"],
                   today)
