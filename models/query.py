"""The search-box language, parsed and turned into a Peewee condition.

    grade:A region:华东 purchase_total>=100000 created>=2024-01-01 owner:me
    tag:vip -stage:lost "exact phrase" zs

* ``field OP value`` is a filter. The field is named by key, zh/en label or
  alias (``schema.resolve``; a trailing English plural ``s`` may be dropped or
  added: ``tag`` finds ``tags``); ``created``/``updated`` are the row's own
  timestamps. Operators: ``:`` (text: contains; other types: equals),
  ``=``, ``!=``, ``>``, ``>=``, ``<``, ``<=``. Choice values by value or label,
  several with commas (``grade:A,B``). Dates as ``2024-03-01``, ``2024-03`` or
  ``2024`` (a whole month/year), ``today``, ``7d`` (seven days ago). ``owner:me``
  is the current user.
* Bare words and ``"quoted phrases"`` are full-text terms (``models.search``).
* Everything is ANDed; a leading ``-`` negates a term or a filter (a negated
  filter keeps rows where the field is empty).
* ``field:empty`` (``field:空``) keeps the rows where the field has no value,
  ``field:*`` those where it has one (``-email:*`` = ``email:empty``).
* Birthdays: ``birthday:this-week`` (Monday to Sunday), ``birthday:next-week``,
  ``birthday:this-month``, ``birthday:next-14d`` (the 14 days from today) match the
  day and month whatever the year; on other date fields these name the dates
  themselves. ``birthday.month:3`` (any date field ``.month``, ``.day``) the month.
* Data quality (``models.quality``): ``completeness<50`` (the share of the schema's
  important fields filled), ``verify:due`` / ``verify:credit`` (verification
  overdue), ``invalid:email`` / ``invalid:*`` (values the last scan found invalid).
* ``cadence:overdue``: customers not contacted within their cadence
  (``cadence.yaml``, as the agenda's cadence calls). ``last_contact`` is the
  field ``last_contact_at``. ``churn:warned`` and ``follow_up:due``: the agenda's
  churn warnings and follow-ups due (so every agenda list is a saved view too).
* A relative date (``90d``, ``2w``, ``3m``, ``1y``) after ``>``/``<`` is an age, how
  long ago: ``last_contact>90d`` = the last contact was more than 90 days ago,
  ``created<7d`` = entered within the last 7 days, ``>=``/``<=`` include the day
  itself; after ``:``/``=`` it names that one day. A customer never contacted
  counts as silent since it was entered (as the agenda's cadence calls):
  ``last_contact>90d`` finds those entered more than 90 days ago;
  ``last_contact:empty`` finds every customer never contacted.

``parse(schema, text)`` → ``Query`` or ``QueryError`` (``.position``,
``.length`` and a message in the user's language). ``Query.condition(store)``
is the Peewee expression for the WHERE clause.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import operator
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import peewee

from .errors import KehuError
from . import search
from .i18n import tr
from .schema import COLUMN_DIGITS, NUMERIC_TYPES, Schema
from .validate import INT_MAX, _match_choice, normalise_phone, parse_date, parse_decimal

OPERATORS = (">=", "<=", "!=", "=", ":", ">", "<")
#: What each field type accepts besides ``:``.
ORDERED_TYPES = (*NUMERIC_TYPES, "date", "datetime")
#: Full-width punctuation typed with a Chinese input method → ASCII (same length).
_FULLWIDTH = str.maketrans({"：": ":", "＞": ">", "＜": "<", "＝": "=", "！": "!",
                            "“": '"', "”": '"', "＂": '"', "－": "-", "，": ","})
_FILTER_RE = re.compile(r"^([^\s:<>=!\"]+?)(>=|<=|!=|=|:|>|<)(.*)$", re.S)
_RELATIVE_RE = re.compile(r"^(\d+)\s*([dwmy])$", re.I)
#: What no search can hold: control characters (NUL, ESC, …) and lone surrogates.
_UNSEARCHABLE_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
SYSTEM_FIELDS = {
    "created": ("created_at", {"zh": "创建时间", "en": "Created"}),
    "updated": ("updated_at", {"zh": "修改时间", "en": "Updated"}),
}
SYSTEM_NAMES = {"created": "created", "created_at": "created", "创建时间": "created",
                "创建": "created", "建档时间": "created",
                "updated": "updated", "updated_at": "updated", "修改时间": "updated",
                "更新时间": "updated", "修改": "updated"}
ME_WORDS = {"me", "我", "@me"}
EMPTY_WORDS = {"empty", "空", "none", "无"}
#: ``field>90d`` compares an age (more than 90 days ago): the date comparison it is.
AGE_OPS = {">": "<", ">=": "<=", "<": ">", "<=": ">="}
FILLED_WORDS = {"*"}
#: Date words that name days of the year on an anniversary field (birthday).
PERIOD_WORDS = {"this-week": "this-week", "本周": "this-week", "next-week": "next-week",
                "下周": "next-week", "this-month": "this-month", "本月": "this-month"}
_NEXT_DAYS_RE = re.compile(r"^next-(\d{1,3})d$", re.I)
ANNIVERSARY_FIELDS = {"birthday"}
DATE_PARTS = {"month": 12, "day": 31}


class QueryError(KehuError, ValueError):
    """A query that cannot run: ``position``/``length`` locate the bad part."""

    def __init__(self, message: str, position: int = 0, length: int = 1):
        self.message, self.position, self.length = message, position, max(1, length)
        super().__init__(message)

    def __str__(self) -> str:
        return tr("query.error_at", position=self.position + 1, message=self.message)


@dataclass(frozen=True)
class SystemField:
    """``created``/``updated``: a row timestamp, filterable like a datetime field."""
    key: str
    labels: dict[str, str]
    type: str = "datetime"
    choices: tuple = ()

    def label(self, lang: str | None = None) -> str:
        from .i18n import label
        return label(self.labels, lang)


@dataclass
class TextTerm:
    text: str
    negated: bool
    position: int
    phrase: bool = False
    #: a phone written in groups (``155 3563 1682``): ``text`` is its digits and
    #: these are the words as typed; a row matches either (``join_phone_words``)
    either: list["TextTerm"] | None = None


@dataclass
class Filter:
    spec: Any  # FieldSpec or SystemField
    op: str
    values: list[Any]  # cleaned values; for dates (start, end) pairs
    negated: bool
    position: int
    raw: str = ""


@dataclass
class Query:
    text: str
    terms: list[TextTerm] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.filters

    def condition(self, store, *, matched: bool = False) -> peewee.Expression | None:
        """The WHERE condition (None when the query is empty). ``matched``: the
        caller joins the SQLite index on ``fts_match()`` itself, so positive words
        add only their phrase checks here."""
        parts = [_term_condition(store, t, matched) for t in self.terms]
        parts += [_filter_condition(store, f) for f in self.filters]
        return all_of(parts)

    def fts_match(self) -> str | None:
        """SQLite: the positive full-text terms as one FTS5 MATCH expression."""
        parts = [_fts_term(t) for t in self.terms if not t.negated]
        parts = [p for p in parts if p]
        if not parts:
            return None
        expr = " AND ".join(parts)
        for t in self.terms:
            if t.negated and not t.phrase and _term_prefixes(t):
                expr += " NOT (" + _fts_term(t) + ")"
        return expr


def _fts_term(term: TextTerm) -> str:
    """One positive term as FTS5 text ('' when it has no word)."""
    expr = " AND ".join(search.fts_prefix(w) for w in _term_prefixes(term))
    if term.either and expr:
        typed = " AND ".join(p for p in map(_fts_term, term.either) if p)
        expr = f"({expr} OR ({typed}))" if typed else expr
    return expr


def all_of(parts) -> peewee.Expression | None:
    """The AND of the conditions that are not None (None if there are none)."""
    parts = [p for p in parts if p is not None]
    return functools.reduce(operator.and_, parts) if parts else None


# --- parsing -----------------------------------------------------------------

def _split(text: str) -> list[tuple[str, int, bool]]:
    """Words with their position; quoted parts stay whole. (word, pos, quoted)."""
    out: list[tuple[str, int, bool]] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start = i
        buf: list[str] = []
        quoted = False
        while i < n and not text[i].isspace():
            if text[i] == '"':
                close = text.find('"', i + 1)
                if close < 0:
                    raise QueryError(tr("query.unbalanced_quote"), i, n - i)
                buf.append(text[i + 1:close])
                quoted = True
                i = close + 1
            else:
                buf.append(text[i])
                i += 1
        out.append(("".join(buf), start, quoted))
    return out


def resolve_field(schema: Schema, name: str):
    """A schema field or a system timestamp by any of its names; None if unknown."""
    spec = schema.resolve(name)
    if spec is None:
        folded = name.casefold()
        for suffix in ("_at", "_on"):   # last_contact → last_contact_at
            if re.fullmatch(r"[a-z_]+", folded) and schema.get(folded + suffix) is not None:
                return schema.get(folded + suffix)
        system = SYSTEM_NAMES.get(folded)
        if system:
            key, labels = SYSTEM_FIELDS[system]
            return SystemField(key, labels)
        if re.fullmatch(r"[a-z_ ]+", folded):
            spec = schema.resolve(folded[:-1]) if folded.endswith("s") else schema.resolve(folded + "s")
    return spec


def parse(schema: Schema, text: str, *, user: str | None = None) -> Query:
    """``text`` as a ``Query``, or ``QueryError`` — never another exception."""
    text = text or ""
    query = Query(text)
    bad = _UNSEARCHABLE_RE.search(text)
    if bad:
        raise QueryError(tr("query2.control_character", code=f"U+{ord(bad.group()):04X}"),
                         bad.start(), 1)
    for word, pos, quoted in _split(text.translate(_FULLWIDTH)):
        negated = word.startswith("-") and len(word) > 1 and not (quoted and text[pos] == '"')
        body, body_pos = (word[1:], pos + 1) if negated else (word, pos)
        if quoted and text[pos] == '"':
            query.terms.append(TextTerm(body, negated, pos, phrase=True))
            continue
        match = _FILTER_RE.match(body)
        if match and not body.startswith(("http://", "https://")):
            query.filters.append(_parse_filter(schema, match, body_pos, negated, user))
            continue
        if body in ("-", ""):
            continue
        query.terms.append(TextTerm(body, negated, body_pos, phrase=quoted))
    query.terms = join_phone_words(query.text, query.terms)
    return query


def join_phone_words(text: str, terms: list[TextTerm]) -> list[TextTerm]:
    """A phone written as shown (``155 3563 1682``, ``+86 10 8888-6666``) is one
    number: the bare words of digits and separators next to each other become
    one term that matches the joined number (``search.phone_query``) *or* the
    words as typed, so two numbers that are not a phone (``2024 100``) still
    find what each finds."""
    out: list[TextTerm] = []
    run: list[TextTerm] = []

    def flush() -> None:
        digits = search.phone_query(" ".join(t.text for t in run)) if run else None
        if digits is None:
            out.extend(run)
        else:
            out.append(TextTerm(digits, False, run[0].position, either=list(run)))
        run.clear()

    for term in terms:
        phone_like = not term.phrase and search.PHONE_WORD_RE.fullmatch(term.text) is not None
        plain = phone_like and not term.negated
        if plain and run and text[run[-1].position + len(run[-1].text):term.position].strip():
            flush()   # something else stands between the two words
        if plain:
            run.append(term)
            continue
        flush()
        digits = search.phone_query(term.text) if phone_like else None
        if digits is not None:   # -155-3563-1682: not this number, however it is written
            term = TextTerm(digits, True, term.position,
                            either=[dataclasses.replace(term, negated=False)])
        out.append(term)
    flush()
    return out


def _parse_filter(schema, match, pos, negated, user) -> Filter:
    name, op, raw = match.group(1), match.group(2), match.group(3)
    spec = resolve_field(schema, name)
    if spec is None:
        special = _special_filter(schema, name, op, raw, pos, negated)
        if special is not None:
            return special
        raise QueryError(tr("query.unknown_field", name=name,
                            hint=_field_hint(schema, name)), pos, len(name))
    value_pos = pos + len(name) + len(op)
    label = spec.label()
    if op not in (":", "=", "!=") and spec.type not in ORDERED_TYPES:
        raise QueryError(tr("query.op_not_for_type", op=op, field=label,
                            type=tr(f"query.type.{spec.type}")), pos + len(name), len(op))
    if raw.strip() == "":
        raise QueryError(tr("query.missing_value", field=label), value_pos, 1)
    word = raw.strip().casefold()
    if op in (":", "=", "!=") and (word in EMPTY_WORDS or word in FILLED_WORDS):
        empty = (word in EMPTY_WORDS) != (op == "!=")
        return Filter(spec, "empty" if empty else "filled", [], negated, pos, raw)
    if spec.type in ("date", "datetime") and op in (":", "="):
        period = _period(spec, word, value_pos, raw)
        if period is not None:
            return Filter(spec, period[0], period[1], negated, pos, raw)
    parts = [p.strip() for p in raw.split(",")] if spec.type in ("choice", "tags") else [raw.strip()]
    values = [_clean_value(spec, op, p, value_pos, user) for p in parts if p]
    if spec.type in ("date", "datetime") and op in AGE_OPS and _RELATIVE_RE.match(word):
        op = AGE_OPS[op]   # an age: more than 90 days ago is before the day 90 days ago
    return Filter(spec, op, values, negated, pos, raw)


def _special_filter(schema, name: str, op: str, raw: str, pos: int, negated: bool):
    """``cadence:overdue`` and ``<date field>.month:N`` / ``.day:N`` (None: neither)."""
    from .quality import query_filter   # completeness<50, verify:due, invalid:email
    found = query_filter(schema, name, op, raw, pos, negated)
    if found is not None:
        return found
    value_pos = pos + len(name) + len(op)
    folded = name.casefold()
    if folded in ("cadence", "回访"):
        if op not in (":", "=") or raw.strip().casefold() not in ("overdue", "due", "到期", "逾期"):
            raise QueryError(tr("query_agenda.cadence_values"), value_pos, max(1, len(raw)))
        return Filter(SystemField("cadence", {"zh": "回访", "en": "Cadence"}), "cadence", [],
                      negated, pos, raw)
    # the agenda's other lists as words too: churn:warned, follow_up:due (h18qa)
    for words, key, label, values in AGENDA_WORDS:
        if folded in words:
            if op not in (":", "=") or raw.strip().casefold() not in values:
                raise QueryError(tr(f"query_agenda.{key}_values"), value_pos, max(1, len(raw)))
            return Filter(SystemField(key, label), key, [], negated, pos, raw)
    base, dot, part = name.rpartition(".")
    if not dot or part.casefold() not in DATE_PARTS:
        return None
    spec = resolve_field(schema, base)
    if spec is None or spec.type not in ("date", "datetime"):
        return None
    top = DATE_PARTS[part.casefold()]
    numbers = []
    for piece in (p.strip() for p in raw.split(",")):
        if not piece:
            continue
        if not piece.isdigit() or not 1 <= int(piece) <= top:
            raise QueryError(tr("query_agenda.bad_part", field=spec.label(), part=part,
                                value=_shown(piece), top=top), value_pos, len(raw) or 1)
        numbers.append(int(piece))
    if not numbers:
        raise QueryError(tr("query.missing_value", field=spec.label()), value_pos, 1)
    if op not in (":", "=", "!=", ">", ">=", "<", "<=") or (op not in (":", "=", "!=")
                                                          and len(numbers) > 1):
        raise QueryError(tr("query.op_not_for_type", op=op, field=spec.label(),
                            type=tr("query.type.integer")), pos + len(name), len(op))
    return Filter(spec, f"part:{part.casefold()}:{op}", numbers, negated, pos, raw)


#: (names, key, label, values) of the agenda's lists as query words: ``churn:warned``
#: (the agenda's churn warnings: silent for `ratio` times their usual purchase interval)
#: and ``follow_up:due`` (a follow-up open and due today or before).
AGENDA_WORDS = (
    (("churn", "流失预警"), "churn", {"zh": "流失预警", "en": "Churn"},
     ("warned", "warning", "due", "预警", "到期")),
    (("follow_up", "followup", "跟进"), "follow_up", {"zh": "跟进", "en": "Follow-up"},
     ("due", "overdue", "到期", "逾期")),
)


def _agenda_list(store, key: str, today: dt.date) -> peewee.Query:
    """The customer ids of the agenda's churn warnings or follow-ups due on ``today``."""
    if key == "churn":
        from .agenda import agenda_models
        R = agenda_models(store)["Rhythm"]
        return R.select(R.customer_id).where(R.warn_on <= today)
    I = store.Interaction
    return I.select(I.customer).where(
        I.next_follow_up.is_null(False), I.next_follow_up <= today,
        I.follow_up_done == False, I.deleted_at.is_null())  # noqa: E712


def _today() -> dt.date:
    """The day relative dates count from (tests replace it)."""
    return dt.date.today()


def _period(spec, word: str, pos: int, raw: str):
    """``this-week`` & co.: ('md', [start, days]) on an anniversary field, else a
    plain date range (None: not such a word)."""
    today = _today()
    nxt = _NEXT_DAYS_RE.match(word)
    if nxt:
        days = int(nxt.group(1))
        if not 1 <= days <= 366:
            raise QueryError(tr("query2.date_too_far", field=spec.label(), value=_shown(raw)),
                             pos, len(raw))
        start = today
    elif word in PERIOD_WORDS:
        name = PERIOD_WORDS[word]
        if name == "this-month":
            start = today.replace(day=1)
            days = ((start.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - start).days
        else:
            start = today - dt.timedelta(days=today.weekday())
            start += dt.timedelta(days=7 if name == "next-week" else 0)
            days = 7
    else:
        return None
    if spec.key in ANNIVERSARY_FIELDS:
        return "md", [start, days]
    return ":", [(start, start + dt.timedelta(days=days))]


def _field_hint(schema: Schema, name: str) -> str:
    from rapidfuzz import process

    names = {n: f for f in schema.fields for n in f.names}
    best = process.extractOne(name, list(names), score_cutoff=70)
    if best:
        return tr("query.did_you_mean", name=names[best[0]].label())
    return ""


def _clean_value(spec, op: str, raw: str, pos: int, user: str | None) -> Any:
    t = spec.type
    label = spec.label()
    if spec.key == "owner" and raw.casefold() in ME_WORDS and user:
        return user
    if t in NUMERIC_TYPES:
        try:
            value = parse_decimal(raw)
        except ValueError:
            raise QueryError(tr("query.bad_number", field=label, value=_shown(raw)),
                             pos, len(raw)) from None
        limit = _number_limit(spec)
        if value.copy_abs() > limit:  # copy_abs, adjusted: no huge int is ever built
            raise QueryError(tr("query2.number_out_of_range", field=label, value=_shown(raw),
                                limit=f"{limit:,}"), pos, len(raw))
        return int(value) if t == "integer" and value == value.to_integral_value() else value
    if t in ("date", "datetime"):
        return _date_range(raw, label, pos)
    if t == "boolean":
        from .validate import FALSE_WORDS, TRUE_WORDS
        word = raw.casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise QueryError(tr("query.bad_boolean", field=label, value=raw), pos, len(raw))
    if t == "choice" or (t == "tags" and spec.choices):
        value = _match_choice(spec, raw)
        if value is None:
            raise QueryError(tr("query.bad_choice", field=label, value=raw,
                                choices=", ".join(c.label() for c in spec.choices)), pos, len(raw))
        return value
    if t == "phone" and op in ("=", "!="):
        try:
            return normalise_phone(raw)
        except ValueError:
            raise QueryError(tr("query.bad_phone", field=label, value=raw), pos, len(raw)) from None
    return raw


def _number_limit(spec) -> Decimal:
    """The largest magnitude the field's column holds (64-bit integers, NUMERIC(18, d)):
    a number beyond it is refused, not sent."""
    if spec.type == "integer":
        return Decimal(INT_MAX)
    decimals = max(0, min(int(getattr(spec, "decimals", 0) or 0), COLUMN_DIGITS))
    return Decimal(10) ** (COLUMN_DIGITS - decimals) - Decimal(1).scaleb(-decimals)


def _shown(raw: str) -> str:
    """A typed value as a message quotes it: a very long one cut short."""
    return raw if len(raw) <= 40 else raw[:37] + "…"


def _day_after(day: dt.date) -> dt.date | None:
    """The next day; None after 9999-12-31 (a range open at its end)."""
    return day + dt.timedelta(days=1) if day < dt.date.max else None


def _date_range(raw: str, label: str, pos: int) -> tuple[dt.date, dt.date | None]:
    """A typed date → the half-open day range [start, end) it names (end None:
    no end, the day is 9999-12-31)."""
    text = raw.strip().casefold()
    today = _today()
    if text in ("today", "今天"):
        return today, _day_after(today)
    if text in ("yesterday", "昨天"):
        return today - dt.timedelta(days=1), today
    rel = _RELATIVE_RE.match(text)
    if rel:
        digits, unit = rel.group(1), rel.group(2).lower()
        per = {"d": 1, "w": 7, "m": 30, "y": 365}[unit]
        # the days back to 0001-01-01: more is a date no calendar here has
        if len(digits) > 7 or int(digits) * per > (today - dt.date.min).days:
            raise QueryError(tr("query2.date_too_far", field=label, value=_shown(raw)),
                             pos, len(raw))
        start = today - dt.timedelta(days=int(digits) * per)
        return start, _day_after(start)
    if re.fullmatch(r"\d{4}", text):
        year = int(text)
        if 1 <= year <= 9998:
            return dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
    month = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})月?", text)
    if month:
        year, mon = int(month.group(1)), int(month.group(2))
        if 1 <= mon <= 12 and 1 <= year <= 9998:
            start = dt.date(year, mon, 1)
            return start, (dt.date(year + mon // 12, mon % 12 + 1, 1))
    try:
        day = parse_date(text)
    except ValueError:
        raise QueryError(tr("query.bad_date", field=label, value=_shown(raw)),
                         pos, len(raw)) from None
    return day, _day_after(day)


# --- to SQL ------------------------------------------------------------------------

def _term_prefixes(term: TextTerm) -> list[str]:
    if term.phrase:
        return [p if isinstance(p, str) else p[0] for p in search.phrase_parts(term.text)]
    return search.query_terms(term.text)


def search_expr(store) -> peewee.Node:
    """``' ' || search_text || ' '``, written exactly as the PostgreSQL index is."""
    return peewee.NodeList((peewee.SQL("(' ' || COALESCE("), store.Customer.search_text,
                            peewee.SQL(", '') || ' ')")), glue="")


def _like(store, word: str, *, whole: bool = False) -> peewee.Expression:
    """Some token starts with ``word`` (``whole``: the tokens ``word`` exactly)."""
    return like(search_expr(store), "% " + word + (" %" if whole else "%"))


def like(lhs: peewee.Node, pattern: str) -> peewee.Node:
    """``lhs LIKE pattern`` on both databases (peewee turns OP.LIKE into GLOB on SQLite)."""
    return peewee.NodeList((lhs, peewee.SQL("LIKE"), peewee.Value(pattern)))


def _term_condition(store, term: TextTerm, matched: bool = False) -> peewee.Expression | None:
    prefixes = _term_prefixes(term)
    if not prefixes:
        return None
    C = store.Customer
    if matched and (not term.negated or not term.phrase):
        # the caller's MATCH has it (negated words as NOT when there is a positive one)
        parts = []
    elif store.is_postgres:
        parts = [_like(store, w) for w in prefixes]
        if term.either:   # the joined phone, or the words as typed
            typed = all_of(_term_condition(store, t) for t in term.either)
            parts = [all_of(parts) | typed] if typed is not None else parts
    else:
        match = _fts_term(term)
        parts = [C.id.in_(peewee.SQL(
            f"(SELECT rowid FROM {search.FTS_TABLE} WHERE {search.FTS_TABLE} MATCH {store.db.param})",
            [match]))]
    if term.phrase:
        parts += [_like(store, " ".join(p), whole=True) for p in search.phrase_parts(term.text)
                  if isinstance(p, list) and len(p) > 1]
    cond = all_of(parts)
    return ~cond if term.negated and cond is not None else cond


def column(store, spec) -> peewee.Field:
    return getattr(store.Customer, spec.key)


def _filter_condition(store, f: Filter) -> peewee.Expression:
    if f.op == "cadence":
        from .agenda import cadence_condition
        cond = cadence_condition(store, _today())
        return ~cond if f.negated else cond
    if f.op in ("churn", "follow_up"):
        cond = store.Customer.id.in_(_agenda_list(store, f.op, _today()))
        return ~cond if f.negated else cond
    if f.op.startswith("quality:"):
        from .quality import condition
        return condition(store, f)
    col = column(store, f.spec)
    t = f.spec.type
    op = f.op
    if op in ("empty", "filled"):
        cond = col.is_null()
        if getattr(f.spec, "storage", "text") == "text":
            cond = cond | (col == "")
        return cond if (op == "empty") != f.negated else ~cond
    if op == "md" or op.startswith("part:"):
        if op == "md":
            cond = birthday_condition_for(store, col, *f.values)
        else:
            _, part, how = op.split(":", 2)
            value = _date_part(store, col, part)
            cond = (value.in_(f.values) if how in (":", "=") else
                    value.not_in(f.values) if how == "!=" else
                    {">": value > f.values[0], ">=": value >= f.values[0],
                     "<": value < f.values[0], "<=": value <= f.values[0]}[how])
        return (col.is_null() | ~cond) if f.negated else (cond & col.is_null(False))
    if f.spec.key == "last_contact_at" and op in AGE_OPS:
        # never contacted: silent since the customer was entered (as the cadence calls)
        col = peewee.fn.COALESCE(col, store.Customer.created_at)
    conds: list[peewee.Expression] = []
    for value in f.values:
        if t in ("date", "datetime"):
            conds.append(_date_condition(col, op, value, t))
        elif t == "tags":
            hay = peewee.NodeList((peewee.SQL("(',' || LOWER("), col, peewee.SQL(") || ',')")),
                                  glue="")
            cond = like(hay, "%," + _escape_like(str(value).casefold()) + ",%")
            conds.append(cond if op != "!=" else ~cond)
        elif t in ("text", "longtext", "email", "url", "phone") and op == ":":
            needle = re.sub(r"\D", "", value) if t == "phone" else str(value).casefold()
            if t == "phone" and not needle:
                raise QueryError(tr("query.bad_phone", field=f.spec.label(), value=value),
                                 f.position, len(f.raw))
            conds.append(like(peewee.fn.LOWER(col), "%" + _escape_like(needle) + "%"))
        else:
            if t in NUMERIC_TYPES and not store.is_postgres and t != "integer":
                value = Decimal(value)
            conds.append({":": col == value, "=": col == value, "!=": col != value,
                          ">": col > value, ">=": col >= value, "<": col < value,
                          "<=": col <= value}[op])
    cond = conds[0]
    for c in conds[1:]:
        cond = (cond & c) if op == "!=" else (cond | c)
    if op == "!=":
        cond = cond | col.is_null()
    if f.negated:
        cond = col.is_null() | ~cond
    return cond


def birthday_condition_for(store, col, start: dt.date, days: int) -> peewee.Expression:
    """The day and month of ``col`` fall within ``days`` days from ``start``."""
    from .agenda import month_day_sql, window_days
    return month_day_sql(store, col).in_(sorted(window_days(start, days)))


def _date_part(store, col, part: str) -> peewee.Node:
    if store.is_postgres:
        return peewee.fn.date_part(part, col)
    return peewee.Cast(peewee.fn.strftime("%m" if part == "month" else "%d", col), "INTEGER")


def _date_condition(col, op: str, span: tuple[dt.date, dt.date | None],
                    t: str) -> peewee.Expression:
    start, end = span
    if t == "datetime":
        start = dt.datetime.combine(start, dt.time())
        end = dt.datetime.combine(end, dt.time()) if end is not None else None
    if end is None:  # the range runs to the end of the calendar
        return {":": col >= start, "=": col >= start, "!=": col < start,
                ">": peewee.SQL("1 = 0"), ">=": col >= start, "<": col < start,
                "<=": col.is_null(False)}[op]
    if t == "date" and (end - start).days == 1 and op in (":", "=", "!="):
        return col == start if op != "!=" else col != start
    return {":": (col >= start) & (col < end), "=": (col >= start) & (col < end),
            "!=": (col < start) | (col >= end),
            ">": col >= end, ">=": col >= start, "<": col < start, "<=": col < end}[op]


def _escape_like(text: str) -> str:
    """``%`` and ``_`` typed in a filter value match themselves (approximately:
    they become any-one-character, never any-run)."""
    return text.replace("%", "_")
