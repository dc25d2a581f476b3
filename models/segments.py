"""RFM scores, segments and lifecycle stages, computed in SQL from the purchases.

The rules live in ``segments.yaml`` (beside this module); a user file
``config_dir()/segments.yaml`` replaces whole sections of it. The results are
ordinary customer columns (schema fields ``rfm_r``, ``rfm_f``, ``rfm_m``,
``rfm_score``, ``segment`` and the lifecycle ``stage``), so they filter and
sort like any field.

* ``recompute(store)`` scores every customer: one aggregate over the
  purchases, window functions for the ranks, one UPDATE of the rows whose
  values changed. It also stores the score boundaries it found.
* ``refresh_customer(store, id)`` re-scores one customer against those stored
  boundaries (no ranking of everybody); the store calls it whenever a
  customer's purchase totals change, so a new purchase moves the customer at once.

Quantile scores use the mid-rank of each value: with ``n`` buyers, ``below``
of them with a smaller value and ``ties`` with the same value, the score is
``1 + scores * (2 * below + ties) // (2 * n)``, from RANK and CUME_DIST. Equal values always get the
same score (NTILE would split a tie at random), a lone buyer is in the middle,
and the arithmetic is exact integers, so SQLite and PostgreSQL agree.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

import yaml

from .errors import KehuError
from .config import config_dir
from .i18n import tr
from .schema import SchemaError, _Loader

DEFAULT_PATH = Path(__file__).with_name("segments.yaml")
SCORE_FIELDS = ("rfm_r", "rfm_f", "rfm_m", "rfm_score", "segment")
SECTIONS = ("rfm", "segments", "lifecycle")
RFM_METRICS = ("recency", "frequency", "monetary")
#: Names a rule may test → the SQL column (or expression) of the scored relation.
CONDITION_METRICS = {
    "r": "r", "f": "f", "m": "m", "score": "(r + f + m)",
    "recency_days": "recency_days", "frequency": "freq", "monetary": "money",
    "tenure_days": "tenure_days",
}
_COND_RE = re.compile(r"^\s*(>=|<=|!=|=|>|<)?\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*\.\.\s*(-?\d+(?:\.\d+)?)\s*$")
TEMP_TABLE = "kehu_segments_tmp"
#: Up to this many customers, a purchase recomputes everybody (milliseconds).
SMALL_DATABASE = 5000
#: A recompute changing more rows than this rebuilds the score indexes instead of updating them.
REINDEX_ABOVE = 50_000
META_CUTS = "segments.cuts"
META_LAST = "segments.last_recompute"


class SegmentsError(KehuError):
    """A segments.yaml that cannot be used; the message names the file and line."""


def user_segments_path() -> Path:
    return config_dir() / "segments.yaml"


# --- the rules ------------------------------------------------------------

@dataclass(frozen=True)
class Condition:
    metric: str
    op: str              # >=, <=, =, !=, >, <, or 'range'
    value: Decimal
    high: Decimal | None = None

    def sql(self) -> str:
        col = CONDITION_METRICS[self.metric]
        if self.op == "range":
            return f"({col} >= {self.value} AND {col} <= {self.high})"
        op = "<>" if self.op == "!=" else self.op
        return f"{col} {op} {self.value}"


@dataclass(frozen=True)
class Rule:
    value: str                      # the segment / stage it gives
    conditions: tuple[Condition, ...]
    line: int | None = None

    def sql(self) -> str:
        return " AND ".join(c.sql() for c in self.conditions) or "1 = 1"


@dataclass(frozen=True)
class Scoring:
    method: str                     # 'quantile' | 'thresholds'
    bounds: tuple[Decimal, ...] = ()


@dataclass(frozen=True)
class SegmentsConfig:
    scores: int
    window_days: int
    scoring: dict[str, Scoring]     # recency / frequency / monetary
    segments: tuple[Rule, ...]
    lifecycle_field: str | None
    lifecycle: tuple[Rule, ...]
    sources: tuple[str, ...] = ()
    #: the stages a customer without a purchase may have (empty: any typed by hand)
    without_purchase: tuple[str, ...] = ()

    def rfm_fingerprint(self) -> str:
        """Changes when anything the stored score boundaries depend on changes."""
        data = [self.scores, self.window_days,
                [(k, s.method, [str(b) for b in s.bounds]) for k, s in sorted(self.scoring.items())]]
        return hashlib.sha1(json.dumps(data).encode()).hexdigest()[:12]


class _Where:
    """Builds 'file:line: message' for one YAML node."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, node: Any, message: str, key: Any = None) -> SegmentsError:
        line = None
        if key is not None and hasattr(node, "key_lines"):
            line = node.key_lines.get(key)
        line = line or getattr(node, "line", None)
        where = f"{self.path}:{line}" if line else str(self.path)
        return SegmentsError(tr("segments.error_at", where=where, message=message))


def _read(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SegmentsError(tr("segments.error_at", where=str(path),
                               message=tr("segments.unreadable", error=exc))) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except SchemaError as exc:
        raise SegmentsError(tr("segments.error_at", where=f"{path}:{exc.line or 1}",
                               message=exc.message)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise SegmentsError(tr("segments.error_at", where=where,
                               message=tr("segments.bad_yaml", problem=problem))) from None
    except yaml.YAMLError as exc:
        raise SegmentsError(tr("segments.error_at", where=str(path),
                               message=tr("segments.bad_yaml", problem=exc))) from None


def _int(where: _Where, node, key, low: int, high: int) -> int:
    value = node.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise where.fail(node, tr("segments.bad_int", key=key, value=value, low=low, high=high), key)
    return value


def _condition(where: _Where, node, metric: Any, raw: Any) -> Condition:
    if metric not in CONDITION_METRICS:
        raise where.fail(node, tr("segments.unknown_metric", metric=metric,
                                  known=", ".join(CONDITION_METRICS)), metric)
    text = str(raw) if isinstance(raw, (int, float, str)) and not isinstance(raw, bool) else None
    if text is not None:
        rng = _RANGE_RE.match(text)
        if rng:
            low, high = Decimal(rng.group(1)), Decimal(rng.group(2))
            if low > high:
                raise where.fail(node, tr("segments.bad_range", metric=metric, value=text), metric)
            return Condition(metric, "range", low, high)
        match = _COND_RE.match(text)
        if match:
            return Condition(metric, match.group(1) or "=", Decimal(match.group(2)))
    raise where.fail(node, tr("segments.bad_condition", metric=metric, value=raw), metric)


def _rules(where: _Where, items: Any, parent, section: str, value_key: str, field_spec) -> tuple[Rule, ...]:
    if not isinstance(items, list):
        raise where.fail(parent, tr("segments.not_list", section=section), section)
    choices = [c.value for c in field_spec.choices]
    rules = []
    for item in items:
        if not isinstance(item, dict):
            raise where.fail(items, tr("segments.rule_not_mapping", section=section))
        unknown = sorted(str(k) for k in item if k not in (value_key, "when"))
        if unknown:
            raise where.fail(item, tr("segments.unknown_key", key=unknown[0],
                                      known=f"{value_key}, when"), unknown[0])
        value = item.get(value_key)
        if value not in choices:
            raise where.fail(item, tr("segments.not_a_choice", value=value, field=field_spec.key,
                                      choices=", ".join(choices)), value_key)
        when = item.get("when") or {}
        if not isinstance(when, dict):
            raise where.fail(item, tr("segments.when_not_mapping"), "when")
        conds = tuple(_condition(where, when, metric, raw) for metric, raw in when.items())
        rules.append(Rule(str(value), conds, getattr(item, "line", None)))
    return tuple(rules)


def _scoring(where: _Where, node, metric: str, scores: int) -> Scoring:
    raw = node.get(metric, {"method": "quantile"})
    if not isinstance(raw, dict):
        raise where.fail(node, tr("segments.bad_method", metric=metric), metric)
    unknown = sorted(str(k) for k in raw if k not in ("method", "bounds"))
    if unknown:
        raise where.fail(raw, tr("segments.unknown_key", key=unknown[0], known="method, bounds"),
                         unknown[0])
    method = raw.get("method", "quantile")
    if method == "quantile":
        return Scoring("quantile")
    if method != "thresholds":
        raise where.fail(raw, tr("segments.bad_method", metric=metric), "method")
    bounds = raw.get("bounds")
    if (not isinstance(bounds, list) or len(bounds) != scores - 1
            or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds)):
        raise where.fail(raw, tr("segments.bad_bounds", metric=metric, count=scores - 1),
                         "bounds" if "bounds" in raw else "method")
    values = tuple(Decimal(str(b)) for b in bounds)
    pairs = list(zip(values, values[1:]))
    ordered = all(a > b for a, b in pairs) if metric == "recency" else all(a < b for a, b in pairs)
    if not ordered:
        raise where.fail(raw, tr("segments.bounds_order_" + ("down" if metric == "recency" else "up"),
                                 metric=metric), "bounds")
    return Scoring("thresholds", values)


def load_config(schema, path: Path | None = None) -> SegmentsConfig:
    """The rules: built-in sections, each replaced by the user's file if it has it.

    ``SegmentsError`` names the file and line of anything wrong.
    """
    docs: dict[str, tuple[Any, _Where, Any]] = {}
    sources = []
    for source in (DEFAULT_PATH, path or user_segments_path()):
        if source != DEFAULT_PATH and not source.exists():
            continue
        doc = _read(source)
        where = _Where(source)
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise where.fail(doc, tr("segments.not_mapping", sections=", ".join(SECTIONS)))
        for key in doc:
            if key not in SECTIONS:
                raise where.fail(doc, tr("segments.unknown_section", key=key,
                                         known=", ".join(SECTIONS)), key)
            docs[key] = (doc[key], where, doc)
        sources.append(str(source))

    rfm, where, parent = docs.get("rfm", ({}, _Where(DEFAULT_PATH), {}))
    if not isinstance(rfm, dict):
        raise where.fail(parent, tr("segments.section_not_mapping", section="rfm"), "rfm")
    unknown = sorted(str(k) for k in rfm if k not in ("scores", "window_days", *RFM_METRICS))
    if unknown:
        raise where.fail(rfm, tr("segments.unknown_key", key=unknown[0],
                                 known=", ".join(("scores", "window_days", *RFM_METRICS))),
                         unknown[0])
    scores = _int(where, rfm, "scores", 2, 9) if "scores" in rfm else 5
    window = _int(where, rfm, "window_days", 0, 36500) if "window_days" in rfm else 0
    scoring = {m: _scoring(where, rfm, m, scores) for m in RFM_METRICS}

    segment_spec = schema.get("segment")
    raw, where, parent = docs.get("segments", ([], _Where(DEFAULT_PATH), {}))
    segments = _rules(where, raw, parent, "segments", "segment", segment_spec) if segment_spec else ()

    raw, where, parent = docs.get("lifecycle", (None, _Where(DEFAULT_PATH), {}))
    lifecycle_field, lifecycle, without = None, (), ()
    if raw not in (None, False, "off"):
        if not isinstance(raw, dict):
            raise where.fail(parent, tr("segments.section_not_mapping", section="lifecycle"),
                             "lifecycle")
        unknown = sorted(str(k) for k in raw if k not in ("field", "rules", "without_purchase"))
        if unknown:
            raise where.fail(raw, tr("segments.unknown_key", key=unknown[0],
                                     known="field, rules, without_purchase"), unknown[0])
        lifecycle_field = str(raw.get("field") or "stage")
        spec = schema.get(lifecycle_field)
        if spec is None or spec.type != "choice":
            raise where.fail(raw, tr("segments.bad_stage_field", field=lifecycle_field), "field")
        lifecycle = _rules(where, raw.get("rules") or [], raw, "rules", "stage", spec)
        listed = raw.get("without_purchase") or []
        choices = [c.value for c in spec.choices]
        if not isinstance(listed, list) or any(v not in choices for v in listed):
            raise where.fail(raw, tr("segments.not_a_choice", value=listed, field=spec.key,
                                     choices=", ".join(choices)), "without_purchase")
        without = tuple(str(v) for v in listed)
    return SegmentsConfig(scores, window, scoring, segments, lifecycle_field, lifecycle,
                          tuple(sources), without)


def available(store) -> bool:
    """The schema has the computed fields the scores are stored in."""
    return all(k in store.schema for k in SCORE_FIELDS)


def _require(store) -> None:
    missing = [k for k in SCORE_FIELDS if k not in store.schema]
    if missing:
        raise SegmentsError(tr("segments.missing_fields", fields=", ".join(missing)))


# --- SQL --------------------------------------------------------------------

def _date_literal(store, day: dt.date) -> str:
    text = day.isoformat()  # from a date object: safe to inline
    return f"DATE '{text}'" if store.is_postgres else f"'{text}'"


def _metrics_sql(store, cfg: SegmentsConfig, today: dt.date, customer_id: int | None,
                 buyers_only: bool = False) -> str:
    """One row per live customer (``buyers_only``: per customer with a purchase):
    last/first purchase day, frequency and money (in the window), days since
    the last and since the first purchase."""
    pg = store.is_postgres
    if cfg.window_days:
        start = today - dt.timedelta(days=cfg.window_days)
        start_lit = (f"TIMESTAMP '{start.isoformat()} 00:00:00'" if pg else f"'{start.isoformat()}'")
        freq = f"SUM(CASE WHEN occurred_at >= {start_lit} THEN 1 ELSE 0 END)"
        money = f"SUM(CASE WHEN occurred_at >= {start_lit} THEN amount ELSE 0 END)"
    else:
        freq, money = "COUNT(*)", "SUM(amount)"
    if not pg:  # cents (models/store.py MoneyField) to yuan, as rules, bounds and cuts are written
        money = f"{money} / 100.0"
    today_lit = _date_literal(store, today)
    if pg:
        recency, tenure = f"({today_lit} - p.last_on)", f"({today_lit} - p.first_on)"
    else:
        recency = f"CAST(julianday({today_lit}) - julianday(p.last_on) AS INTEGER)"
        tenure = f"CAST(julianday({today_lit}) - julianday(p.first_on) AS INTEGER)"
    only_one = f" AND customer_id = {int(customer_id)}" if customer_id is not None else ""
    # all of the table: one scan and a sort beat SQLite's walk of an index (about 2x)
    scan = " NOT INDEXED" if not pg and customer_id is None else ""
    last, first = (("CAST(MAX(occurred_at) AS DATE)", "CAST(MIN(occurred_at) AS DATE)") if pg
                   else ("date(MAX(occurred_at))", "date(MIN(occurred_at))"))
    only_row = f" AND c.id = {int(customer_id)}" if customer_id is not None else ""
    return (
        f"SELECT c.id AS id, p.last_on AS last_on, p.first_on AS first_on, "
        f"COALESCE(p.freq, 0) AS freq, COALESCE(p.money, 0) AS money, "
        f"{recency} AS recency_days, {tenure} AS tenure_days "
        f"FROM customer c {'' if buyers_only else 'LEFT '}JOIN ("
        f"SELECT customer_id, {last} AS last_on, {first} AS first_on, "
        f"{freq} AS freq, {money} AS money FROM interaction{scan} "
        f"WHERE kind = 'purchase' AND deleted_at IS NULL{only_one} GROUP BY customer_id"
        f") p ON p.customer_id = c.id WHERE c.deleted_at IS NULL{only_row}"
    )


_ORDER_COLUMN = {"recency": "last_on", "frequency": "freq", "monetary": "money"}
_SHORT = {"recency": "r", "frequency": "f", "monetary": "m"}


def _threshold_case(metric: str, scoring: Scoring, scores: int) -> str:
    col = {"recency": "recency_days", "frequency": "freq", "monetary": "money"}[metric]
    whens = []
    for score in range(scores, 1, -1):  # bounds[0] is the bound of score 2
        bound = scoring.bounds[score - 2]
        whens.append(f"WHEN {col} {'<=' if metric == 'recency' else '>='} {bound} THEN {score}")
    return f"CASE WHEN last_on IS NULL THEN NULL {' '.join(whens)} ELSE 1 END"


def _cut_case(store, metric: str, cuts: list, scores: int) -> str:
    """The score from stored boundaries: the highest score whose lowest value is reached."""
    col = _ORDER_COLUMN[metric]
    whens = []
    for score in range(scores, 1, -1):
        cut = cuts[score - 2] if score - 2 < len(cuts) else None
        if cut is None:
            continue
        lit = _date_literal(store, dt.date.fromisoformat(cut)) if metric == "recency" \
            else str(Decimal(str(cut)))
        whens.append(f"WHEN {col} >= {lit} THEN {score}")
    return f"CASE WHEN last_on IS NULL THEN NULL {' '.join(whens)} ELSE 1 END"


def _scored_sql(store, cfg: SegmentsConfig, metrics: str, cuts: dict | None) -> str:
    """Adds r, f, m. ``cuts`` None: rank everyone (window functions); else use the cuts."""
    n = cfg.scores
    int_type = "BIGINT" if store.is_postgres else "INTEGER"
    windows, cases = [], []
    for metric in RFM_METRICS:
        short, scoring = _SHORT[metric], cfg.scoring[metric]
        if scoring.method == "thresholds":
            cases.append(f"{_threshold_case(metric, scoring, n)} AS {short}")
        elif cuts is not None:
            cases.append(f"{_cut_case(store, metric, cuts.get(metric, []), n)} AS {short}")
        elif metric == "frequency":
            # one purchase (or none in the window) is the lowest frequency, F = 1; the
            # repeat buyers share 2..top by their mid-rank among themselves
            grp = "(last_on IS NULL), (freq <= 1)"
            window = f"OVER (PARTITION BY {grp} ORDER BY freq)"
            windows.append(f"RANK() {window} - 1 AS below_f, CUME_DIST() {window} AS cume_f, "
                           f"COUNT(*) OVER (PARTITION BY {grp}) AS n_f")
            upto = f"CAST(ROUND(cume_f * n_f) AS {int_type})"
            cases.append(f"CASE WHEN last_on IS NULL THEN NULL WHEN freq <= 1 THEN 1 ELSE "
                         f"2 + ({n - 1} * (below_f + {upto})) / (2 * n_f) END AS f")
        else:
            col = _ORDER_COLUMN[metric]
            grp = "(last_on IS NULL)"
            # one sort per measure: RANK gives those below, CUME_DIST those up to and with
            window = f"OVER (PARTITION BY {grp} ORDER BY {col})"
            windows.append(f"RANK() {window} - 1 AS below_{short}, "
                           f"CUME_DIST() {window} AS cume_{short}")
            upto = f"CAST(ROUND(cume_{short} * n_buyers) AS {int_type})"
            cases.append(f"CASE WHEN last_on IS NULL THEN NULL ELSE "
                         f"1 + ({n} * (below_{short} + {upto})) / (2 * n_buyers) END AS {short}")
    inner = metrics
    if windows:
        inner = (f"SELECT x.*, COUNT(*) OVER (PARTITION BY (last_on IS NULL)) AS n_buyers, "
                 f"{', '.join(windows)} FROM ({metrics}) x")
    return (f"SELECT id, last_on, first_on, freq, money, recency_days, tenure_days, "
            f"{', '.join(cases)} FROM ({inner}) s")


def _rules_case(rules: tuple[Rule, ...]) -> str:
    if not rules:
        return "CAST(NULL AS TEXT)"
    whens = " ".join(f"WHEN {rule.sql()} THEN '{rule.value}'" for rule in rules)
    return f"CASE {whens} ELSE NULL END"


def _final_sql(store, cfg: SegmentsConfig, today: dt.date, customer_id: int | None,
               cuts: dict | None, buyers_only: bool = False) -> str:
    scored = _scored_sql(store, cfg, _metrics_sql(store, cfg, today, customer_id, buyers_only),
                         cuts)
    return (f"SELECT id, last_on, freq, money, r, f, m, (r + f + m) AS score, "
            f"{_rules_case(cfg.segments)} AS segment, {_rules_case(cfg.lifecycle)} AS stage "
            f"FROM ({scored}) b")


_PAIRS = (("rfm_r", "r"), ("rfm_f", "f"), ("rfm_m", "m"), ("rfm_score", "score"),
          ("segment", "segment"))


def _differs_sql(store, cfg: SegmentsConfig) -> str:
    """Customer ``c`` holds other values than the computed row ``t``."""
    ne = "IS DISTINCT FROM" if store.is_postgres else "IS NOT"
    differs = [f'c."{col}" {ne} t.{src}' for col, src in _PAIRS]
    if cfg.lifecycle_field:
        differs.append(f'(t.stage IS NOT NULL AND c."{cfg.lifecycle_field}" {ne} t.stage)')
        if cfg.without_purchase:
            differs.append(f"(t.stage IS NULL AND t.last_on IS NULL AND "
                           f"{_not_allowed(cfg, 'c')})")
    return "(" + " OR ".join(differs) + ")"


def _not_allowed(cfg: SegmentsConfig, table: str) -> str:
    """A customer without a purchase holds a stage that needs one."""
    allowed = ", ".join(f"'{v}'" for v in cfg.without_purchase)   # schema choices: no quotes
    return f'{table}."{cfg.lifecycle_field}" NOT IN ({allowed})'


def _stage_sql(cfg: SegmentsConfig, table: str) -> str:
    """The stage a customer gets: the rule's, else the one typed by hand (the first
    stage allowed without a purchase when the typed one needs a purchase)."""
    typed = f'{table}."{cfg.lifecycle_field}"'
    if cfg.without_purchase:
        typed = (f"CASE WHEN t.last_on IS NULL AND {_not_allowed(cfg, table)} "
                 f"THEN '{cfg.without_purchase[0]}' ELSE {typed} END")
    return f"COALESCE(t.stage, {typed})"


def _update_sql(store, cfg: SegmentsConfig, source: str) -> str:
    """UPDATE the customers whose values differ from ``source`` (a table or subquery)."""
    stage = cfg.lifecycle_field
    differs = _differs_sql(store, cfg)
    if store.is_postgres:
        sets = [f'"{col}" = t.{src}' for col, src in _PAIRS]
        if stage:
            sets.append(f'"{stage}" = {_stage_sql(cfg, "c")}')
        return (f"UPDATE customer c SET {', '.join(sets)} FROM {source} t "
                f"WHERE t.id = c.id AND {differs}")
    cols = [f'"{col}"' for col, _ in _PAIRS]
    srcs = [f"t.{src}" for _, src in _PAIRS]
    if stage:
        cols.append(f'"{stage}"')
        srcs.append(_stage_sql(cfg, "customer"))
    return (f"UPDATE customer SET ({', '.join(cols)}) = "
            f"(SELECT {', '.join(srcs)} FROM {source} t WHERE t.id = customer.id) "
            f"WHERE id IN (SELECT t.id FROM {source} t JOIN customer c ON c.id = t.id "
            f"WHERE {differs})")


# --- running -----------------------------------------------------------------

@dataclass
class RecomputeResult:
    customers: int              # live customers looked at
    buyers: int                 # of them with at least one purchase
    changed: int                # rows whose scores, segment or stage changed
    seconds: float
    segments: dict[str | None, int] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return value


def recompute(store, today: dt.date | None = None, *, config: SegmentsConfig | None = None,
              progress: Callable[[str], None] | None = None) -> RecomputeResult:
    """Score every live customer (see the module docstring); returns what changed.
    A user's recompute needs the ``segments`` right (it rewrites every customer)
    and is audited (how many customers, how many changed)."""
    guard = getattr(store, "guard", None)
    if guard is not None:
        guard.require("segments")
    result = _recompute(store, today, config=config, progress=progress)
    if getattr(store, "audit", None) is not None:
        with store.db.atomic():
            store.audit.record("recompute", "customer", None,
                               fields={"rows": [None, result.customers],
                                       "changed": [None, result.changed]},
                               note=tr("audit.recompute_note", rows=result.customers))
    return result


def _recompute(store, today: dt.date | None = None, *, config: SegmentsConfig | None = None,
               progress: Callable[[str], None] | None = None) -> RecomputeResult:
    """``recompute`` without the right and the entry: also what a purchase in a small
    database runs (``refresh_customer``), an effect of a change the user may make."""
    _require(store)
    cfg = config or load_config(store.schema)
    today = today or dt.date.today()
    started = time.perf_counter()
    db = store.db
    say = progress or (lambda step: None)
    with db.atomic():
        db.execute_sql(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
        say("score")
        db.execute_sql(f"CREATE TEMP TABLE {TEMP_TABLE} AS {_final_sql(store, cfg, today, None, None)}")
        if store.is_postgres:
            db.execute_sql(f"ALTER TABLE {TEMP_TABLE} ADD PRIMARY KEY (id)")
            db.execute_sql(f"ANALYZE {TEMP_TABLE}")
        else:
            db.execute_sql(f"CREATE UNIQUE INDEX {TEMP_TABLE}_id ON {TEMP_TABLE} (id)")
        cuts = _cuts_from_table(store, cfg)
        say("update")
        with _indexes_off(store, cfg, many=_differing(store, cfg) > REINDEX_ABOVE):
            cursor = db.execute_sql(_update_sql(store, cfg, TEMP_TABLE))
        changed = cursor.rowcount if cursor.rowcount is not None else -1
        counts = {row[0]: row[1] for row in db.execute_sql(
            f"SELECT segment, COUNT(*) FROM {TEMP_TABLE} GROUP BY segment").fetchall()}
        customers, buyers = db.execute_sql(
            f"SELECT COUNT(*), COUNT(last_on) FROM {TEMP_TABLE}").fetchone()
        db.execute_sql(f"DROP TABLE {TEMP_TABLE}")
        say("rhythm")
        from .agenda import refresh_last_contact, refresh_rhythm
        refresh_rhythm(store)          # the purchase rhythm behind the churn warnings
        refresh_last_contact(store)    # the last contact behind the cadence calls
        store.set_meta(META_CUTS, cuts | {"customers": customers})
        seconds = time.perf_counter() - started
        store.set_meta(META_LAST, {"at": dt.datetime.now().isoformat(timespec="seconds"),
                                   "today": today.isoformat(), "customers": customers,
                                   "buyers": buyers, "changed": changed,
                                   "seconds": round(seconds, 2)})
    return RecomputeResult(customers, buyers, changed, seconds, counts)


def _differing(store, cfg: SegmentsConfig) -> int:
    """How many customers the UPDATE will change."""
    return store.db.execute_sql(f"SELECT COUNT(*) FROM {TEMP_TABLE} t JOIN customer c "
                                f"ON c.id = t.id WHERE {_differs_sql(store, cfg)}").fetchone()[0]


@contextlib.contextmanager
def _indexes_off(store, cfg: SegmentsConfig, many: bool):
    """Changing many rows: drop the indexes of the score columns and build them
    again after (a sort each), rather than update them row by row."""
    keys = [k for k in (*SCORE_FIELDS, cfg.lifecycle_field) if k and store.schema[k].index]
    if many and store.is_postgres:
        from .team import may_migrate

        many = may_migrate(store.db)   # only the schema's owner may drop and build indexes
    if not many:
        yield
        return
    for key in keys:
        store.db.execute_sql(f'DROP INDEX IF EXISTS "customer_{key}"')
    yield
    for key in keys:
        store.db.execute_sql(f'CREATE INDEX IF NOT EXISTS "customer_{key}" ON "customer" ("{key}")')


def _cuts_from_table(store, cfg: SegmentsConfig, table: str = TEMP_TABLE) -> dict:
    """The lowest value of each score (2..top) per quantile metric, for ``refresh_customer``."""
    cuts: dict[str, Any] = {"fingerprint": cfg.rfm_fingerprint()}
    for metric in RFM_METRICS:
        if cfg.scoring[metric].method != "quantile":
            continue
        short, col = _SHORT[metric], _ORDER_COLUMN[metric]
        rows = dict(store.db.execute_sql(
            f"SELECT {short}, MIN({col}) FROM {table} WHERE {short} IS NOT NULL "
            f"GROUP BY {short}").fetchall())
        # score k is reached from the lowest value that has it; a score nobody
        # has takes the bound of the next one up (None: out of reach)
        values: list[Any] = []
        above = None
        for score in range(cfg.scores, 1, -1):
            value = rows.get(score)
            above = _plain(value) if value is not None else above
            values.insert(0, above)
        cuts[metric] = values
    return cuts


def _compute_cuts(store, cfg: SegmentsConfig, today: dt.date) -> dict:
    """Rank the buyers once to find the score boundaries (no customer is changed)."""
    db = store.db
    db.execute_sql(f"DROP TABLE IF EXISTS {TEMP_TABLE}")
    db.execute_sql(f"CREATE TEMP TABLE {TEMP_TABLE} AS "
                   f"{_final_sql(store, cfg, today, None, None, buyers_only=True)}")
    try:
        return _cuts_from_table(store, cfg) | {"customers": store.count_customers()}
    finally:
        db.execute_sql(f"DROP TABLE {TEMP_TABLE}")


def refresh_customer(store, customer_id: int, today: dt.date | None = None, *,
                     config: SegmentsConfig | None = None) -> bool:
    """Re-score one customer after its purchases changed.

    Against the score boundaries of the last full recompute, so one purchase
    costs one customer's worth of work. A small database (at most
    ``SMALL_DATABASE`` customers) is simply recomputed whole, so every score
    stays exact while the first purchases come in.

    Quiet (returns False) when the schema has no score fields or the user's
    segments.yaml is broken: a purchase must never fail for that; the reports
    screen and ``kehu segments recompute`` show the error.
    """
    from .agenda import refresh_rhythm   # the usual purchase rhythm (churn warning)
    refresh_rhythm(store, customer_id)
    if not available(store):
        return False
    try:
        cfg = config or load_config(store.schema)
    except SegmentsError:
        return False
    today = today or dt.date.today()
    with store.db.atomic():
        cuts = store.get_meta(META_CUTS)
        stale = not cuts or cuts.get("fingerprint") != cfg.rfm_fingerprint()
        customers = store.count_customers() if stale else cuts.get("customers", 0)
        if customers <= SMALL_DATABASE:
            _recompute(store, today, config=cfg)
            return True
        if stale:
            cuts = _compute_cuts(store, cfg, today)
            store.set_meta(META_CUTS, cuts)
        source = f"({_final_sql(store, cfg, today, customer_id, cuts)})"
        store.db.execute_sql(_update_sql(store, cfg, source))
    return True


def last_recompute(store) -> dict | None:
    """When the last full recompute ran and what it found (None: never)."""
    return store.get_meta(META_LAST)
