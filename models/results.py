"""The rows a screen shows: a query + a sort over the customer table, fetched
a page at a time. This is the contract between the model layer and the UI table.

    rs = ResultSet(store, "grade:A zs", sort=[("purchase_total", "desc")])
    rs.count()                 # all matching rows (may take ~100 ms at 1M: use a worker)
    rs.page(0, 50)             # list of dicts: raw stored values + id, version, timestamps
    rs.snapshot()              # optional: the ordered ids (~0.3 s at 1M), then any
    rs.page(999_950, 50)       #   page is ~1 ms instead of an OFFSET scan
    rs.sums()                  # {money key: Decimal} over all matching rows
    rs.groups("region")        # [Group(value, count, sums)] in sort order
    rs.slow_sort               # True when the sort cannot use an index (UI may warn)
    rs.sort_keys               # [SortKey(key, direction, indexed)]

``ResultSet(...)`` raises ``QueryError`` for a bad query (``.position``,
``.length``, message); nothing is run before the first call. The result is a
live query, not a copy: call again for fresh rows. Ordering is total (ties
broken by id, in the direction of the last sort key) and the same on SQLite
and PostgreSQL (an empty value sorts first ascending, last descending; choice
fields sort in their declared order).
"""
from __future__ import annotations

import dataclasses
import functools
import operator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

import peewee

from . import search
from .i18n import tr
from .query import Query, QueryError, all_of, parse, resolve_field
from .schema import FieldSpec, Schema
from .store import money_from_sql, money_sums

_FTS = peewee.Table(search.FTS_TABLE, ("rowid",))
ROW_SYSTEM_COLUMNS = ("id", "version", "created_at", "updated_at", "deleted_at")
SORT_SYSTEM = {"id": "id", "created": "created_at", "created_at": "created_at",
               "updated": "updated_at", "updated_at": "updated_at",
               # the share of important fields filled (models.quality; an expression index)
               "completeness": "completeness", "完整度": "completeness"}
DIRECTIONS = {"asc": "asc", "desc": "desc", "ascending": "asc", "descending": "desc",
              "升序": "asc", "降序": "desc", "+": "asc", "-": "desc"}


@dataclass(frozen=True)
class SortKey:
    key: str          # column name (schema key or id/created_at/updated_at)
    direction: str    # 'asc' | 'desc'
    indexed: bool     # an index serves this order


@dataclass
class Group:
    value: Any        # the stored value (None: empty)
    count: int
    sums: dict[str, Decimal]


def parse_sort(schema: Schema, sort: Iterable | str | None) -> list[tuple[str, str]]:
    """``[("name", "asc")]``, ``["-purchase_total", "name"]``, ``"grade, -purchase_total"``
    or labels (``"采购总额 desc"``) → ``[(key, 'asc'|'desc')]``; ``QueryError`` if unknown."""
    if not sort:
        return []
    items = [s.strip() for s in sort.split(",")] if isinstance(sort, str) else list(sort)
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, (list, tuple)):
            name, direction = str(item[0]), str(item[1] if len(item) > 1 else "asc")
        else:
            text = str(item).strip()
            if not text:
                continue
            direction = "asc"
            if text[0] in "+-":
                direction, text = DIRECTIONS[text[0]], text[1:].strip()
            words = text.rsplit(None, 1)
            if len(words) == 2 and words[1].casefold() in DIRECTIONS:
                text, direction = words[0], words[1].casefold()
            name = text
        folded = direction.casefold()
        if folded not in DIRECTIONS:
            raise QueryError(tr("query.bad_direction", value=direction))
        out.append((sort_column(schema, name), DIRECTIONS[folded]))
    return out


def sort_column(schema: Schema, name: str) -> str:
    if name in SORT_SYSTEM:
        return SORT_SYSTEM[name]
    spec = resolve_field(schema, name)
    if spec is None:
        raise QueryError(tr("query.unknown_sort", name=name), 0, len(name))
    return spec.key


class ResultSet:
    def __init__(self, store, query: str | Query = "", sort=None,
                 base_filter: str | peewee.Expression | None = None, *,
                 include_deleted: bool = False):
        self.store = store
        schema = store.schema
        self.query = query if isinstance(query, Query) else parse(schema, query, user=store.user)
        self.base = (parse(schema, base_filter, user=store.user)
                     if isinstance(base_filter, str) else base_filter)
        self.include_deleted = include_deleted
        self.sort_keys = [SortKey(k, d, self._indexed(k)) for k, d in parse_sort(schema, sort)]
        refuse_hidden(store, self.query, self.base, self.sort_keys)
        #: the role may not see some searchable field: None, else the sensitive
        #: searchable fields it does see (words are matched where it may look)
        self._seen = hidden_search(store)
        self._snapshot: list[int] | None = None
        self._count: int | None = None
        self._bucket_list: list[tuple[peewee.Expression, int]] | None = None
        self._mirror = False  # a reversed() copy never flips back
        self._deleted: bool | None = None

    # -- description ------------------------------------------------------
    @property
    def slow_sort(self) -> bool:
        """The first sort key has no index: each page sorts the whole result."""
        return bool(self.sort_keys) and not self.sort_keys[0].indexed

    def sort_index_name(self) -> str | None:
        """The name of the index ``create_sort_index`` makes (None: no sort)."""
        keys = [k.key for k in self.sort_keys if k.key != "id"]
        return ("customer_sort_" + "__".join(keys))[:60] if keys else None

    def has_sort_index(self) -> bool:
        """An index covers the whole sort (one column, or one made for it)."""
        name = self.sort_index_name()
        if name is None or (len(self.sort_keys) == 1 and self.sort_keys[0].indexed):
            return True
        return any(ix.name == name for ix in self.store.db.get_indexes("customer"))

    def create_sort_index(self) -> str | None:
        """Make an index for this exact sort (seconds at 1M rows: run it in a
        worker). Pages of the sort, and of each bucket of a choice sort, then
        come straight from it."""
        name = self.sort_index_name()
        if name is None:
            return None
        pg = self.store.is_postgres
        parts = []
        for k in self.sort_keys:
            if k.key == "id":
                continue
            nulls = (" NULLS FIRST" if k.direction == "asc" else " NULLS LAST") if pg else ""
            parts.append(f'"{k.key}" {k.direction.upper()}{nulls}')
        last = self.sort_keys[-1].direction.upper()
        self.store.db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "customer" '
                                  f'({", ".join(parts)}, "id" {last})')
        return name

    @property
    def columns(self) -> list[str]:
        return [*ROW_SYSTEM_COLUMNS, *self.store.schema.keys]

    def _indexed(self, key: str) -> bool:
        if key in ("id", "created_at", "updated_at", "completeness"):
            return True
        spec = self.store.schema.get(key)
        return bool(spec and spec.index)

    # -- building the SQL -------------------------------------------------------
    def where(self, *, matched: bool = False) -> peewee.Expression | None:
        C = self.store.Customer
        parts = [] if self.include_deleted or not self._any_deleted() else [C.deleted_at.is_null()]
        parts.append(self.store.guard.row_scope())   # a role limited to its own customers
        for q in (self.base, self._index_query()):
            parts.append(q.condition(self.store, matched=matched and q is not self.base)
                         if isinstance(q, Query) else q)
        if self._seen is not None:
            parts += [_seen_term(self.store, t, self._seen) for t in self.query.terms]
        return all_of(parts)

    def _index_query(self) -> Query:
        """The query the search index runs: for a role that may not see some
        searchable field, its positive words only (a superset of the rows, which
        ``_seen_term`` narrows to those matched where the role may look; a
        negated word is decided there alone, so a hidden value never excludes)."""
        if self._seen is None or not any(t.negated for t in self.query.terms):
            return self.query
        return Query(self.query.text, [t for t in self.query.terms if not t.negated],
                     self.query.filters)

    def _any_deleted(self) -> bool:
        """Whether any row is soft-deleted (one index probe, once). With none, the
        queries skip ``deleted_at IS NULL``, which would make every index scan
        read the table rows too (3 s instead of 0.1 s for a grouping of 1M rows)."""
        if self._deleted is None:
            C = self.store.Customer
            self._deleted = C.select(C.id).where(C.deleted_at.is_null(False)).exists()
        return self._deleted

    def _match(self) -> str | None:
        """SQLite: the typed words as one FTS5 expression, when there are any."""
        if self.store.is_postgres:
            return None
        return self._index_query().fts_match()

    def _streams(self) -> bool:
        """Typed words and the row order is the id: the full-text index itself
        yields the rows in order, so a page stops after ``limit`` matches."""
        return self._match() is not None and all(k.key == "id" for k in self.sort_keys)

    def _select(self, *fields, stream: bool = False) -> peewee.ModelSelect:
        C = self.store.Customer
        query = C.select(*fields)
        if stream:
            query = query.join(_FTS, on=(_FTS.rowid == C.id)).where(
                peewee.SQL(f"{search.FTS_TABLE} MATCH {self.store.db.param}", [self._match()]))
        cond = self.where(matched=stream)
        return query.where(cond) if cond is not None else query

    def order_by(self) -> list[peewee.Node]:
        C = self.store.Customer
        pg = self.store.is_postgres
        out = []
        for sk in self.sort_keys:
            expr = _sort_expr(self.store, sk.key)
            if pg:
                out.append(expr.asc(nulls="FIRST") if sk.direction == "asc"
                           else expr.desc(nulls="LAST"))
            else:
                out.append(expr.asc() if sk.direction == "asc" else expr.desc())
        last = self.sort_keys[-1].direction if self.sort_keys else "asc"
        if not self.sort_keys or self.sort_keys[-1].key != "id":
            out.append(C.id.asc() if last == "asc" else C.id.desc())
        return out

    def select(self) -> peewee.ModelSelect:
        """The full ordered query of row columns (peewee, not yet run)."""
        C = self.store.Customer
        fields = [getattr(C, c) for c in self.columns]
        if self._streams():
            last = self.sort_keys[-1].direction if self.sort_keys else "asc"
            return self._select(*fields, stream=True).order_by(
                _FTS.rowid.asc() if last == "asc" else _FTS.rowid.desc())
        return self._select(*fields).order_by(*self.order_by())

    def _count_sql(self) -> int | None:
        """SQLite, only typed words: the index holds exactly the live rows, so it counts alone."""
        match = self._match()
        only_words = (self.base is None and not self.query.filters and not self.include_deleted
                      and self.store.guard.row_scope() is None and self._seen is None
                      and all(not t.phrase for t in self.query.terms))
        if match is None or not only_words:
            return None
        return self.store.db.execute_sql(
            f"SELECT COUNT(*) FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH "
            f"{self.store.db.param}", (match,)).fetchone()[0]

    # -- running ------------------------------------------------------------
    def count(self) -> int:
        if self._count is None:
            if self._snapshot is not None:
                self._count = len(self._snapshot)
            elif self._buckets() is not None:
                self._count = sum(n for _, n in self._buckets())
            else:
                self._count = self._count_sql()
                if self._count is None:
                    self._count = self._select(self.store.Customer.id).count()
        return self._count

    def page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        """Rows ``offset`` … ``offset+limit-1`` of the ordered result."""
        offset, limit = max(0, int(offset)), max(0, int(limit))
        if limit == 0:
            return []
        if self._snapshot is not None:
            rows = self._rows_by_id(self._snapshot[offset:offset + limit])
        elif self._count is not None and not self._mirror and offset + limit // 2 > self._count // 2:
            # the second half: read the reversed order from its start, so a jump
            # to the end costs what the first page costs (the count is known by then)
            end = min(offset + limit, self._count)
            rows = self.reversed().page(self._count - end, end - offset)[::-1] if end > offset else []
            return rows
        elif self._buckets() is not None:
            rows = self._bucket_page(offset, limit)
        else:
            rows = list(self.select().offset(offset).limit(limit).dicts())
        return [self.store.guard.visible(row) for row in rows]   # sensitive values masked

    def reversed(self) -> "ResultSet":
        """The same rows in exactly the opposite order (NULLs and ties included)."""
        flip = {"asc": "desc", "desc": "asc"}
        sort = [(k.key, flip[k.direction]) for k in self.sort_keys] or [("id", "desc")]
        other = ResultSet(self.store, self.query, sort=sort, base_filter=self.base,
                          include_deleted=self.include_deleted)
        other._count, other._mirror = self._count, True
        return other

    def first_page(self, limit: int) -> list[dict[str, Any]]:
        return self.page(0, limit)

    def snapshot(self) -> list[int]:
        """The ordered ids of the whole result (kept; pages then come by id)."""
        if self._snapshot is None:
            C = self.store.Customer
            if self._buckets() is not None:
                rest = self.order_by()[1:]
                ids = [row[0] for cond, _ in self._buckets()
                       for row in self.store.db.execute(
                           self._select(C.id).where(cond).order_by(*rest))]
            else:
                query = (self.select().select(C.id) if self._streams()
                         else self._select(C.id).order_by(*self.order_by()))
                ids = [row[0] for row in self.store.db.execute(query)]
            self._snapshot = ids
            self._count = len(self._snapshot)
        return self._snapshot

    @property
    def has_snapshot(self) -> bool:
        return self._snapshot is not None

    def index_of(self, customer_id: int) -> int | None:
        """Where a customer is in the result (keeps the cursor on it after a re-sort)."""
        ids = self.snapshot()
        try:
            return ids.index(customer_id)
        except ValueError:
            return None

    def _buckets(self) -> list[tuple[peewee.Expression, int]] | None:
        """Sorting first by a choice field in its declared order (AAA, AA, A …):
        the rows come one value at a time, each bucket read through the field's
        index, instead of sorting the whole result by a CASE expression.
        [(condition, row count)] in sort order; None for other sorts."""
        if not self.sort_keys:
            return None
        first = self.sort_keys[0]
        spec = self.store.schema.get(first.key)
        if spec is None or not _choice_needs_case(spec):
            return None
        if self._bucket_list is None:
            C = self.store.Customer
            col = getattr(C, first.key)
            counts = dict(self._select(col, peewee.fn.COUNT(C.id)).group_by(col).tuples())
            values = [c.value for c in spec.choices]
            buckets = [(col.is_null(), counts.get(None, 0))]
            buckets += [(col == v, counts.get(v, 0)) for v in values]
            others = sum(n for v, n in counts.items() if v is not None and v not in values)
            buckets.append((col.not_in(values), others))  # values the schema no longer lists
            if first.direction == "desc":
                buckets.reverse()
            self._bucket_list = [(cond, n) for cond, n in buckets if n]
        return self._bucket_list

    def _bucket_page(self, offset: int, limit: int) -> list[dict[str, Any]]:
        C = self.store.Customer
        fields = [getattr(C, c) for c in self.columns]
        rest = self.order_by()[1:]
        rows: list[dict[str, Any]] = []
        start = 0
        for cond, n in self._buckets() or []:
            if start + n > offset and len(rows) < limit:
                skip = max(0, offset - start)
                rows += list(self._select(*fields).where(cond).order_by(*rest)
                             .offset(skip).limit(limit - len(rows)).dicts())
            start += n
            if start >= offset + limit:
                break
        return rows

    def _rows_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        if not ids:
            return []
        C = self.store.Customer
        fields = [getattr(C, c) for c in self.columns]
        rows = {r["id"]: r for r in C.select(*fields).where(C.id.in_(ids)).dicts()}
        return [rows[i] for i in ids if i in rows]

    def _sum(self, key: str, value: Any) -> Decimal:
        """A SUM as the database gave it, exact: money in minor units on SQLite."""
        spec = self.store.schema.get(key)
        if spec is not None and spec.type == "money":
            total = money_from_sql(value, spec.decimals)
            return Decimal(0).scaleb(-spec.decimals) if total is None else total
        return _decimal(value)

    def money_keys(self) -> list[str]:
        return [f.key for f in self.store.schema.fields if f.type == "money"
                and sees(self.store, f)]

    def sums(self, keys: Iterable[str] | None = None) -> dict[str, Decimal]:
        """Totals over every matching row (money fields unless ``keys`` given)."""
        keys = list(keys) if keys is not None else self.money_keys()
        if not keys:
            return {}
        for k in keys:   # a total of one row is its value
            spec = self.store.schema.get(k)
            if spec is not None and not sees(self.store, spec):
                raise QueryError(tr("query.masked_group", field=spec.label()), 0, len(k))
        C = self.store.Customer
        row = money_sums(self.store, lambda SUM: self._select(
            *[SUM(getattr(C, k)).alias(k) for k in keys]).dicts().get())
        return {k: self._sum(k, row.get(k)) for k in keys}

    def groups(self, key: str, sums: Iterable[str] | None = None) -> list[Group]:
        """Count and sums per value of ``key``, in the order the field sorts
        (direction taken from the sort when it starts with ``key``)."""
        key = sort_column(self.store.schema, key)
        for k in [key, *(sums or ())]:
            spec = self.store.schema.get(k)
            if spec is not None and not sees(self.store, spec):
                raise QueryError(tr("query.masked_group", field=spec.label()), 0, len(k))
        sums = list(sums) if sums is not None else self.money_keys()
        C = self.store.Customer
        col = getattr(C, key)
        rows = money_sums(self.store, lambda SUM: list(self._select(
            col.alias("value"), peewee.fn.COUNT(C.id).alias("n"),
            *[SUM(getattr(C, k)).alias("sum_" + k) for k in sums]).group_by(col).dicts()))
        groups = [Group(r["value"], r["n"], {k: self._sum(k, r["sum_" + k]) for k in sums})
                  for r in rows]
        spec = self.store.schema.get(key)
        rank = _value_rank(spec)
        descending = bool(self.sort_keys) and self.sort_keys[0].key == key and \
            self.sort_keys[0].direction == "desc"
        groups.sort(key=lambda g: (g.value is not None, rank(g.value)), reverse=descending)
        return groups


# --- what a role may search, sort and group by ---------------------------------------

def sees(store, spec) -> bool:
    """The user's role sees this field in clear (not masked, not hidden)."""
    guard = store.guard
    return guard.role.allows("view", spec) and guard.may_see(spec)


def refuse_hidden(store, *parts) -> None:
    """A filter or a sort on a field the role may not see in clear would reveal it
    (29 ``mobile:<prefix>`` queries recover a masked number, 16 ``birthday<=DATE``
    a birthday, a sort by it orders the hidden values): refused, naming the field."""
    for part in parts:
        if isinstance(part, Query):
            for f in part.filters:
                if isinstance(f.spec, FieldSpec) and not sees(store, f.spec):
                    end = part.text.find(" ", f.position)   # the whole filter is marked
                    raise QueryError(tr("query.masked_field", field=f.spec.label()), f.position,
                                     (len(part.text) if end < 0 else end) - f.position)
        elif isinstance(part, list):
            for sk in part:
                spec = store.schema.get(sk.key)
                if spec is not None and not sees(store, spec):
                    raise QueryError(tr("query.masked_sort", field=spec.label()), 0, 1)


def hidden_search(store) -> list | None:
    """None when the role sees every searchable field in clear; otherwise the
    sensitive searchable fields it does see (their columns are matched directly)."""
    fields = store.schema.searchable_fields
    if all(sees(store, s) for s in fields):
        return None
    return [s for s in fields if s.sensitive and sees(store, s)]


def _public_words(store) -> peewee.Node:
    """`` word word … `` of the search text before ``search.PRIVATE_MARK`` (the
    words of ordinary fields), with a space at each end."""
    C = store.Customer
    base = peewee.NodeList((peewee.SQL("(' ' || COALESCE("), C.search_text,
                            peewee.SQL(", '') || ' " + search.PRIVATE_MARK + "')")), glue="")
    mark = " " + search.PRIVATE_MARK
    if store.is_postgres:
        return peewee.NodeList((peewee.fn.split_part(base, mark, 1), peewee.SQL("|| ' '")))
    return peewee.fn.substr(base, 1, peewee.fn.instr(base, mark))


def _seen_term(store, term, seen: list) -> peewee.Expression | None:
    """A typed word matched only where the role may look: the words of ordinary
    fields (before the private mark; all of them are seen unless the role's view
    right leaves some out) or the value of a sensitive field it sees in clear.
    So a viewer finds nobody by a full mobile number, and a ``-`` word is never
    decided by a value the role may not see."""
    from .query import _term_prefixes, like

    if term.either:   # a phone written in groups: the joined number, or the words as typed
        joined = _seen_term(store, dataclasses.replace(term, either=None, negated=False), seen)
        typed = all_of(_seen_term(store, t, seen) for t in term.either)
        cond = joined | typed if typed is not None else joined
        return ~cond if term.negated else cond
    ordinary = all(sees(store, s) for s in store.schema.searchable_fields if not s.sensitive)
    public = _public_words(store) if ordinary else None
    C = store.Customer
    parts = []
    for word in _term_prefixes(term):
        ors = [like(public, "% " + word + "%")] if public is not None else []
        ors += [like(peewee.fn.COALESCE(peewee.fn.LOWER(getattr(C, s.key)), ""),
                     "%" + word.replace("%", "_") + "%") for s in seen]
        if not ors:
            return peewee.SQL("1 = 0") if not term.negated else None
        parts.append(functools.reduce(operator.or_, ors))
    if term.phrase and public is not None:
        parts += [like(public, "% " + " ".join(p) + " %") for p in search.phrase_parts(term.text)
                  if isinstance(p, list) and len(p) > 1]
    cond = all_of(parts)
    return ~cond if term.negated and cond is not None else cond


def _decimal(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _choice_needs_case(spec) -> bool:
    """A choice field whose declared order is not the alphabetical order of its values."""
    if spec.type != "choice":
        return False
    values = [c.value for c in spec.choices]
    return values != sorted(values)


def _sort_expr(store, key: str) -> peewee.Node:
    C = store.Customer
    if key == "completeness":
        from .quality import completeness_expr
        return completeness_expr(store)
    col = getattr(C, key)
    spec = store.schema.get(key)
    if spec is not None and _choice_needs_case(spec):
        whens = [(col.is_null(), None)] + [(col == c.value, i) for i, c in enumerate(spec.choices)]
        return peewee.Case(None, whens, len(spec.choices))
    return col


def _value_rank(spec):
    if spec is not None and spec.type == "choice":
        order = {c.value: i for i, c in enumerate(spec.choices)}
        return lambda v: (order.get(v, len(order)), str(v))
    return lambda v: (0, v if v is not None else 0)
