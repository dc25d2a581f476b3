"""Reports for decisions and review meetings: each a function returning rows + totals.

Every report runs over a *scope*: the customers of the current filter or of a
saved view (a ``ResultSet``; ``scope(store, view=..., query=...)`` builds
one). Reports over the timeline (sales, pipeline, follow-ups) count the
entries of the customers in scope.

    rs = scope(store, view="regions", query="grade:A")
    report = run(store, "by_region", rs)       # Report: columns, rows, totals
    report.table()                             # formatted cells, header first
    report.to_csv(fh) / to_json() / to_xlsx(path)

The numbers are computed by the database (GROUP BY), so a report over a
million customers takes about as long as one count.
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, Callable

import peewee

from .errors import KehuError
from .i18n import tr
from .results import ResultSet
from .store import money_from_sql, money_sums
from .validate import display

TOP_N = 20
MONTHS = 12
QUARTERS = 8
CLOSE_MONTHS = 6


class ReportError(KehuError, ValueError):
    """A report that cannot run as asked (unknown name or view, missing field)."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"      # text | count | money | percent | date | score


@dataclass
class Report:
    key: str
    title: str
    help: str
    scope: str
    columns: list[Column]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    chart_label: str                 # the column naming each bar
    chart_values: list[str]          # the column(s) drawn as bars
    as_of: dt.date = field(default_factory=dt.date.today)

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def cell(self, key: str, value: Any) -> str:
        """A value as the screen and the CSV header row show it."""
        return format_value(self.column(key).kind, value)

    def table(self, *, with_totals: bool = True) -> list[list[str]]:
        """Header, one line per row, then the totals line (formatted cells)."""
        out = [[c.label for c in self.columns]]
        for row in self.rows:
            out.append([self.cell(c.key, row.get(c.key)) for c in self.columns])
        if with_totals and self.totals:
            out.append([self.cell(c.key, self.totals.get(c.key)) if c.key in self.totals else ""
                        for c in self.columns])
            out[-1][0] = out[-1][0] or tr("report.total")
        return out

    def chart_points(self, value_key: str | None = None) -> list[tuple[str, float]]:
        key = value_key or self.chart_values[0]
        return [(str(row.get(self.chart_label) or ""), float(row.get(key) or 0))
                for row in self.rows]

    # -- export ---------------------------------------------------------------
    def to_csv(self, fh: IO[str]) -> None:
        """Labels as the header, raw numbers (no thousands separators), a total line."""
        from .exporter import csv_text

        def safe(value: Any) -> Any:  # text a spreadsheet does not run; numbers stay numbers
            return csv_text(value) if isinstance(value, str) else _plain(value)

        writer = csv.writer(fh)
        writer.writerow([safe(c.label) for c in self.columns])
        for row in self.rows:
            writer.writerow([safe(row.get(c.key)) for c in self.columns])
        if self.totals:
            line = [safe(self.totals.get(c.key)) if c.key in self.totals else ""
                    for c in self.columns]
            line[0] = line[0] or tr("report.total")
            writer.writerow(line)

    def to_dict(self) -> dict[str, Any]:
        return {
            "report": self.key, "title": self.title, "scope": self.scope,
            "as_of": self.as_of.isoformat(),
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in self.columns],
            "rows": [{c.key: _plain(row.get(c.key)) for c in self.columns} for row in self.rows],
            "totals": {k: _plain(v) for k, v in self.totals.items()},
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    def to_xlsx(self, path) -> None:
        from openpyxl import Workbook
        from openpyxl.styles import Font

        from .exporter import set_text

        book = Workbook()
        sheet = book.active
        sheet.title = self.key[:31]

        def append(values: list[Any]) -> None:  # text as text cells, never formulas
            line = sheet.max_row + 1 if sheet.max_row > 1 or sheet["A1"].value is not None else 1
            for column, value in enumerate(values, start=1):
                set_text(sheet.cell(row=line, column=column), value)

        append([self.title])
        sheet["A1"].font = Font(bold=True, size=14)
        append([self.scope])
        append([c.label for c in self.columns])
        for cell in sheet[3]:
            cell.font = Font(bold=True)
        formats = {"money": "#,##0.00", "count": "#,##0", "percent": "0.0", "score": "0.0"}
        lines = [*self.rows, *([self.totals] if self.totals else [])]
        for index, row in enumerate(lines):
            values = [_xlsx(row.get(c.key)) if c.key in row else None for c in self.columns]
            if row is self.totals and values[0] in (None, ""):
                values[0] = tr("report.total")
            append(values)
            for cell, col in zip(sheet[sheet.max_row], self.columns):
                if col.kind in formats:
                    cell.number_format = formats[col.kind]
                if row is self.totals and index == len(lines) - 1:
                    cell.font = Font(bold=True)
        for i, col in enumerate(self.columns, start=1):
            width = max(len(col.label) * 2, *(len(self.cell(col.key, r.get(col.key))) for r in lines),
                        8) if lines else 12
            sheet.column_dimensions[sheet.cell(row=3, column=i).column_letter].width = min(width + 2, 60)
        book.save(path)


def format_value(kind: str, value: Any) -> str:
    if value is None or value == "":
        return ""
    if kind == "count":
        return f"{int(value):,}"
    if kind == "money":
        return f"{Decimal(str(value)):,.2f}"
    if kind == "percent":
        return f"{Decimal(str(value)):.1f}%"
    if kind == "score":
        return f"{Decimal(str(value)):.1f}"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return str(value)


#: short money: Chinese counts in 万 (10^4) and 亿 (10^8), English in K, M, B
_COMPACT = {"zh": ((Decimal(10) ** 8, "亿"), (Decimal(10) ** 4, "万")),
            "en": ((Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))}


def compact_value(kind: str, value: Any, lang: str | None = None) -> str:
    """A number short enough for a chart: counts as whole numbers (``2,251``), money
    as ``1.2亿`` / ``350万`` in Chinese and ``12M`` / ``350K`` in English, percent
    as ``42%``. At most one decimal, and none from 100 of a unit on."""
    from .i18n import get_lang

    if value is None or value == "":
        return ""
    number = value if isinstance(value, Decimal) else Decimal(str(value))
    if kind == "percent":
        return f"{number:.0f}%"
    if kind == "score":   # an average satisfaction: 8.4
        return f"{number:.1f}"
    if kind != "money":
        return f"{int(number.to_integral_value()):,}"
    sign, number = ("-" if number < 0 else ""), abs(number)
    units = _COMPACT["zh" if (lang or get_lang()) == "zh" else "en"]
    for i, (size, unit) in enumerate(units):
        if number >= size:
            short = number / size
            text = f"{short:.0f}" if short >= 100 else f"{short:.1f}".removesuffix(".0")
            if i and Decimal(text) * size >= units[i - 1][0]:   # 9999.99万 rounds to 1亿
                return f"{sign}1{units[i - 1][1]}"
            return f"{sign}{text}{unit}"
    return f"{sign}{int(number.to_integral_value()):,}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def _xlsx(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


def _dec(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _money(value: Any) -> Decimal:
    return _dec(value).quantize(Decimal("0.01"))


def _share(part: Any, whole: Any) -> Decimal | None:
    whole = _dec(whole)
    if not whole:
        return None
    return (_dec(part) * 100 / whole).quantize(Decimal("0.1"))


# --- scope ------------------------------------------------------------------

def scope(store, *, view=None, query: str = "", where: peewee.Expression | None = None) -> ResultSet:
    """The customers a report covers: a saved view (object, key or name), narrowed by
    a query in the search-box language (``QueryError`` if it is bad) and/or a
    Peewee condition; nothing given = every live customer."""
    base = None
    if view is not None and not hasattr(view, "query"):
        from .views import load_views

        views = load_views(store.schema)
        found = views.find(str(view))
        if found is None:
            raise ReportError(tr("report.unknown_view", name=view,
                                 known=", ".join(v.key for v in views)))
        view = found
    if view is not None:
        base = view.query or None
    rs = ResultSet(store, query or "", base_filter=base)
    rs.report_view = view
    if where is not None:
        rs = _with_condition(rs, where)
    return rs


def _with_condition(rs: ResultSet, condition: peewee.Expression) -> ResultSet:
    extra = rs.base
    from .query import Query

    if isinstance(extra, Query):
        extra = extra.condition(rs.store)
    rs.base = condition if extra is None else (extra & condition)
    return rs


def scope_label(rs: ResultSet) -> str:
    view = getattr(rs, "report_view", None)
    parts = []
    if view is not None:
        parts.append(tr("report.scope_view", view=view.name()))
    text = getattr(rs.query, "text", "")
    if text.strip():
        parts.append(tr("report.scope_query", query=text.strip()))
    return " · ".join(parts) or tr("report.scope_all")


def _scope_where(rs: ResultSet) -> peewee.Expression:
    cond = rs.where()
    return cond if cond is not None else peewee.SQL("1 = 1")


# --- period helpers ------------------------------------------------------------

def _month_start(day: dt.date, back: int = 0) -> dt.date:
    index = day.year * 12 + day.month - 1 - back
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_key(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _quarter_key(day: dt.date) -> str:
    return f"{day.year:04d} Q{(day.month - 1) // 3 + 1}"


def _month_expr(store, node) -> peewee.Node:
    if store.is_postgres:
        return peewee.fn.to_char(node, "YYYY-MM")
    return peewee.fn.strftime("%Y-%m", node)


def _spec_or_fail(store, key: str):
    spec = store.schema.get(key)
    if spec is None:
        raise ReportError(tr("segments.missing_fields", fields=key))
    return spec


# --- the reports --------------------------------------------------------------------

def _customers_by(store, rs: ResultSet, key: str, report_key: str, today: dt.date) -> Report:
    spec = _spec_or_fail(store, key)
    money = "purchase_total" if "purchase_total" in store.schema else None
    groups = rs.groups(key, sums=[money] if money else [])
    total = sum(g.count for g in groups)
    total_money = sum((g.sums.get(money, Decimal(0)) for g in groups), Decimal(0)) if money else None
    rows = []
    for g in groups:
        label = display(spec, g.value) if g.value not in (None, "") else tr("report.empty")
        row = {"value": label, "key": g.value, "customers": g.count,
               "share": _share(g.count, total)}
        if money:
            row["purchases"] = _money(g.sums.get(money))
        rows.append(row)
    columns = [Column("value", spec.label()), Column("customers", tr("report.col.customers"), "count"),
               Column("share", tr("report.col.share"), "percent")]
    totals = {"value": tr("report.total"), "customers": total,
              "share": Decimal("100.0") if total else None}
    if money:
        columns.append(Column("purchases", tr("report.col.purchases"), "money"))
        totals["purchases"] = _money(total_money)
    return _report(report_key, rs, columns, rows, totals, "value", ["customers"], today)


def by_grade(store, rs, today):
    return _customers_by(store, rs, "grade", "by_grade", today)


def by_region(store, rs, today):
    return _customers_by(store, rs, "region", "by_region", today)


def by_segment(store, rs, today):
    return _customers_by(store, rs, "segment", "by_segment", today)


def by_stage(store, rs, today):
    from .segments import load_config, SegmentsError

    try:
        stage = load_config(store.schema).lifecycle_field or "stage"
    except SegmentsError:
        stage = "stage"
    return _customers_by(store, rs, stage, "by_stage", today)


def _sales(store, rs, today, report_key: str, quarters: bool) -> Report:
    I, C = store.Interaction, store.Customer
    if quarters:
        first = _month_start(dt.date(today.year, (today.month - 1) // 3 * 3 + 1, 1), 3 * (QUARTERS - 1))
        keys = []
        day = first
        while day <= today:
            keys.append(_quarter_key(day))
            day = _month_start(day, -3)
    else:
        first = _month_start(today, MONTHS - 1)
        keys = [_month_key(_month_start(today, back)) for back in range(MONTHS - 1, -1, -1)]
    # distinct buyers per quarter need their own GROUP BY: a buyer of two months is one buyer
    if quarters:
        if store.is_postgres:
            period = peewee.fn.to_char(I.occurred_at, 'YYYY" Q"Q')
        else:
            period = peewee.NodeList((
                peewee.fn.strftime("%Y", I.occurred_at), peewee.SQL("|| ' Q' ||"),
                peewee.NodeList((peewee.SQL("((CAST("), peewee.fn.strftime("%m", I.occurred_at),
                                 peewee.SQL("AS INTEGER) + 2) / 3)")))))
    else:
        period = _month_expr(store, I.occurred_at)
    def query(SUM):
        return list(I.select(period.alias("period"), peewee.fn.COUNT(I.id).alias("orders"),
                             SUM(I.amount).alias("amount"),
                             peewee.fn.COUNT(peewee.fn.DISTINCT(I.customer)).alias("buyers"))
                    .join(C, on=(I.customer == C.id))
                    .where(I.kind == "purchase", I.deleted_at.is_null(),
                           I.occurred_at >= dt.datetime.combine(first, dt.time()),
                           I.occurred_at < dt.datetime.combine(today + dt.timedelta(days=1),
                                                               dt.time()),
                           _scope_where(rs))
                    .group_by(period).dicts())
    found = {str(r["period"]): r for r in money_sums(store, query)}
    rows = []
    for key in keys:
        r = found.get(key, {})
        rows.append({"period": key, "orders": r.get("orders") or 0,
                     "amount": _money(money_from_sql(r.get("amount"))),
                     "buyers": r.get("buyers") or 0})
    total_buyers = (I.select(peewee.fn.COUNT(peewee.fn.DISTINCT(I.customer)))
                    .join(C, on=(I.customer == C.id))
                    .where(I.kind == "purchase", I.deleted_at.is_null(),
                           I.occurred_at >= dt.datetime.combine(first, dt.time()),
                           I.occurred_at < dt.datetime.combine(today + dt.timedelta(days=1),
                                                               dt.time()),
                           _scope_where(rs)).scalar()) or 0
    columns = [Column("period", tr("report.col.period")),
               Column("orders", tr("report.col.orders"), "count"),
               Column("amount", tr("report.col.amount"), "money"),
               Column("buyers", tr("report.col.buyers"), "count")]
    totals = {"period": tr("report.total"), "orders": sum(r["orders"] for r in rows),
              "amount": _money(sum((r["amount"] for r in rows), Decimal(0))),
              "buyers": total_buyers}
    return _report(report_key, rs, columns, rows, totals, "period", ["amount"], today)


def sales_month(store, rs, today):
    return _sales(store, rs, today, "sales_month", quarters=False)


def sales_quarter(store, rs, today):
    return _sales(store, rs, today, "sales_quarter", quarters=True)


def _open_opportunities(store, rs, *fields):
    I, C = store.Interaction, store.Customer
    return (I.select(*fields).join(C, on=(I.customer == C.id))
            .where(I.kind == "opportunity", I.deleted_at.is_null(),
                   I.follow_up_done == False, _scope_where(rs)))  # noqa: E712


def pipeline(store, rs, today):
    """Open opportunities (follow-up not marked done) by the customer's lifecycle stage."""
    I, C = store.Interaction, store.Customer
    spec = _spec_or_fail(store, "stage")
    col = getattr(C, spec.key)
    found = {r["stage"]: r for r in money_sums(store, lambda SUM: list(_open_opportunities(
        store, rs, col.alias("stage"), peewee.fn.COUNT(I.id).alias("n"),
        SUM(I.amount).alias("amount")).group_by(col).dicts()))}
    order = [c.value for c in spec.choices] + [k for k in found if k not in
                                                {c.value for c in spec.choices}]
    rows = []
    for value in order:
        r = found.get(value)
        if r is None and value is not None and value not in {c.value for c in spec.choices}:
            continue
        label = display(spec, value) if value not in (None, "") else tr("report.empty")
        rows.append({"stage": label, "key": value, "opportunities": (r or {}).get("n") or 0,
                     "amount": _money(money_from_sql((r or {}).get("amount")))})
    columns = [Column("stage", spec.label()),
               Column("opportunities", tr("report.col.opportunities"), "count"),
               Column("amount", tr("report.col.amount"), "money")]
    totals = {"stage": tr("report.total"), "opportunities": sum(r["opportunities"] for r in rows),
              "amount": _money(sum((r["amount"] for r in rows), Decimal(0)))}
    return _report("pipeline", rs, columns, rows, totals, "stage", ["amount"], today)


def pipeline_close(store, rs, today):
    """Open opportunities by the month of their next follow-up (the expected close)."""
    I = store.Interaction
    month = _month_expr(store, I.next_follow_up)
    found = money_sums(store, lambda SUM: list(_open_opportunities(
        store, rs, month.alias("month"), peewee.fn.COUNT(I.id).alias("n"),
        SUM(I.amount).alias("amount")).group_by(month).dicts()))
    this_month = _month_key(today)
    months = [_month_key(_month_start(today, -i)) for i in range(CLOSE_MONTHS)]
    buckets: dict[str, list] = {tr("report.earlier"): [0, Decimal(0)]}
    for m in months:
        buckets[m] = [0, Decimal(0)]
    later, none = tr("report.later"), tr("report.no_date")
    buckets[later] = [0, Decimal(0)]
    buckets[none] = [0, Decimal(0)]
    for r in found:
        m = r["month"]
        key = none if m is None else (tr("report.earlier") if m < this_month else
                                      m if m in buckets else later)
        buckets[key][0] += r["n"] or 0
        buckets[key][1] += _dec(money_from_sql(r["amount"]))
    rows = [{"close": k, "opportunities": n, "amount": _money(a)} for k, (n, a) in buckets.items()]
    columns = [Column("close", tr("report.col.close")),
               Column("opportunities", tr("report.col.opportunities"), "count"),
               Column("amount", tr("report.col.amount"), "money")]
    totals = {"close": tr("report.total"), "opportunities": sum(r["opportunities"] for r in rows),
              "amount": _money(sum((r["amount"] for r in rows), Decimal(0)))}
    return _report("pipeline_close", rs, columns, rows, totals, "close", ["amount"], today)


def top(store, rs, today, limit: int = TOP_N):
    """The customers in scope with the largest purchase totals."""
    C = store.Customer
    _spec_or_fail(store, "purchase_total")
    extra = [k for k in ("region", "grade", "segment", "purchase_count", "last_purchase_on")
             if k in store.schema]
    fields = [C.id, C.name, C.purchase_total, *(getattr(C, k) for k in extra)]
    query = (C.select(*fields).where(_scope_where(rs), C.purchase_total.is_null(False),
                                     C.purchase_total > 0)
             .order_by(C.purchase_total.desc(), C.id).limit(limit))
    rows = []
    for i, r in enumerate(query.dicts(), start=1):
        row = {"rank": i, "name": r["name"], "id": r["id"], "purchases": _money(r["purchase_total"])}
        for k in extra:
            spec = store.schema[k]
            row[k] = r[k] if spec.type in ("integer", "money", "date") else display(spec, r[k])
        rows.append(row)
    columns = [Column("rank", tr("report.col.rank"), "count"), Column("name", tr("report.col.name"))]
    kinds = {"purchase_count": "count", "last_purchase_on": "date"}
    columns += [Column(k, store.schema[k].label(), kinds.get(k, "text"))
                for k in extra if k not in ("purchase_count", "last_purchase_on")]
    columns.append(Column("purchases", tr("report.col.purchases"), "money"))
    columns += [Column(k, store.schema[k].label(), kinds[k])
                for k in extra if k in ("purchase_count", "last_purchase_on")]
    shown = _money(sum((r["purchases"] for r in rows), Decimal(0)))
    everyone = rs.sums(["purchase_total"]).get("purchase_total")
    totals = {"name": tr("report.total"), "purchases": shown,
              "share": _share(shown, everyone)}
    if "purchase_count" in extra:
        totals["purchase_count"] = sum(r.get("purchase_count") or 0 for r in rows)
    report = _report("top", rs, columns, rows, totals, "name", ["purchases"], today)
    return report


def new_customers(store, rs, today):
    """Customers acquired per month (the acquired date, else the day they were entered)."""
    C = store.Customer
    if "acquired_on" in store.schema:
        day = peewee.fn.COALESCE(C.acquired_on, peewee.Cast(C.created_at, "DATE")
                                 if store.is_postgres else peewee.fn.date(C.created_at))
    else:
        day = peewee.Cast(C.created_at, "DATE") if store.is_postgres else peewee.fn.date(C.created_at)
    first = _month_start(today, MONTHS - 1)
    month = _month_expr(store, day)
    query = (C.select(month.alias("month"), peewee.fn.COUNT(C.id).alias("n"))
             .where(_scope_where(rs), day >= first,
                    day < today + dt.timedelta(days=1)).group_by(month))
    found = {r["month"]: r["n"] for r in query.dicts()}
    rows = [{"month": m, "new": found.get(m, 0)}
            for m in (_month_key(_month_start(today, b)) for b in range(MONTHS - 1, -1, -1))]
    columns = [Column("month", tr("report.col.month")), Column("new", tr("report.col.new"), "count")]
    totals = {"month": tr("report.total"), "new": sum(r["new"] for r in rows)}
    return _report("new_customers", rs, columns, rows, totals, "month", ["new"], today)


def overdue(store, rs, today, policy=None):
    """Per owner: open follow-ups past their date, and customers due for verification."""
    from . import timeline, verify

    C, I = store.Customer, store.Interaction
    owner = C.owner if "owner" in store.schema else peewee.SQL("NULL")
    follow = (timeline._follow_up_query(store, "overdue", today)
              .select(owner.alias("owner"), peewee.fn.COUNT(I.id).alias("n"))
              .where(_scope_where(rs)).group_by(owner))
    policy = policy or verify.load_policy()
    due_query, _ = verify._due_query(store, policy, today, None)
    due = (due_query.select(owner.alias("owner"), peewee.fn.COUNT(C.id).alias("n"))
           .where(_scope_where(rs)).group_by(owner))
    counts: dict[Any, list[int]] = {}
    for r in follow.dicts():
        counts.setdefault(r["owner"], [0, 0])[0] += r["n"]
    for r in due.dicts():
        counts.setdefault(r["owner"], [0, 0])[1] += r["n"]
    order = sorted(counts, key=lambda o: (-(counts[o][0] + counts[o][1]), o is None, str(o or "")))
    rows = [{"owner": o if o not in (None, "") else tr("report.no_owner"), "key": o,
             "overdue": counts[o][0], "verify_due": counts[o][1]} for o in order]
    columns = [Column("owner", tr("report.col.owner")),
               Column("overdue", tr("report.col.overdue"), "count"),
               Column("verify_due", tr("report.col.verify_due"), "count")]
    totals = {"owner": tr("report.total"), "overdue": sum(r["overdue"] for r in rows),
              "verify_due": sum(r["verify_due"] for r in rows)}
    return _report("overdue", rs, columns, rows, totals, "owner", ["overdue", "verify_due"], today)


def satisfaction(store, rs, today):
    from .satisfaction import trend_by_month
    return trend_by_month(store, rs, today)


def satisfaction_segment(store, rs, today):
    from .satisfaction import trend_by_segment
    return trend_by_segment(store, rs, today)


def quality(store, rs, today):
    from .quality import report
    return report(store, rs, today)


def _report(key, rs, columns, rows, totals, chart_label, chart_values, today) -> Report:
    return Report(key, tr(f"report.{key}"), tr(f"report.help.{key}"), scope_label(rs), columns,
                  rows, totals, chart_label, chart_values, today)


#: Every report, in the order the reports screen lists them.
REPORTS: dict[str, Callable] = {
    "by_grade": by_grade,
    "by_region": by_region,
    "by_segment": by_segment,
    "by_stage": by_stage,
    "sales_month": sales_month,
    "sales_quarter": sales_quarter,
    "pipeline": pipeline,
    "pipeline_close": pipeline_close,
    "top": top,
    "new_customers": new_customers,
    "overdue": overdue,
    "satisfaction": satisfaction,
    "satisfaction_segment": satisfaction_segment,
    "quality": quality,
}


def title(key: str) -> str:
    return tr(f"report.{key}")


def find(name: str) -> str:
    """A report key from its key or its title in either language; ``ReportError`` if none."""
    folded = name.strip().casefold().replace("-", "_")
    if folded in REPORTS:
        return folded
    for key in REPORTS:
        if folded in {tr(f"report.{key}", lang).casefold() for lang in ("zh", "en")}:
            return key
    raise ReportError(tr("report.unknown", name=name, known=", ".join(REPORTS)))


def run(store, name: str, rs: ResultSet | None = None, *, today: dt.date | None = None,
        **options) -> Report:
    """Run report ``name`` over ``rs`` (default: every live customer)."""
    key = find(name)
    return REPORTS[key](store, rs if rs is not None else scope(store), today or dt.date.today(),
                        **options)
