"""The day's agenda: whom to call today and why.

For one owner (the current user by default) it lists

* ``followup``  follow-ups overdue and due today (the timeline's next follow-up dates);
* ``cadence``   customers not contacted within their cadence (``cadence.yaml``: by
  grade, segment or stage; the shortest that applies), the longest silent first;
* ``birthday``  birthdays in the next N days (today included, across the year end),
  with the age when the year of birth is known;
* ``churn``     customers whose silence is long *for them*: days since the last
  purchase at least ``ratio`` times their usual interval between purchases, the
  biggest yearly value first, each with one line why;
* ``verify``    customers due for verification (核实, ``verification.yaml``).

Every function takes ``today`` so tests (and cron) can fix the clock.

An item handled from the agenda (done, or snoozed until a day) is stored in the
``agenda_handled`` table by its key, which names the occasion (the follow-up
entry, the last contact, the birthday's date, the last purchase), so it does
not come back; a new occasion (a new contact that falls due again, next year's
birthday) is a new item.

The usual purchase rhythm is kept in ``agenda_rhythm`` (one row per customer
with at least ``min_purchases`` purchases): rebuilt by ``kehu segments
recompute`` and for one customer whenever its purchases change.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import peewee
import yaml

from .config import config_dir
from .errors import KehuError
from .i18n import tr
from .store import now

DEFAULT_PATH = Path(__file__).with_name("cadence.yaml")
KINDS = ("followup", "cadence", "birthday", "churn", "verify")
SECTIONS = ("cadence", "churn", "birthdays")
ALL_OWNERS = ("*", "all", "全部")
#: A year of birth at or before this is taken as unknown (a placeholder).
UNKNOWN_BIRTH_YEAR = 1900


class CadenceError(KehuError):
    """A cadence.yaml that cannot be used; the message names the file and key."""


# --- configuration ------------------------------------------------------------

@dataclass(frozen=True)
class CadenceConfig:
    grade: dict[str, int] = field(default_factory=dict)
    segment: dict[str, int] = field(default_factory=dict)
    stage: dict[str, int] = field(default_factory=dict)
    min_purchases: int = 3
    ratio: float = 2.0
    birthday_days: int = 14

    def rules(self) -> list[tuple[str, str, int]]:
        """(field, value, days) of every cadence that can fall due."""
        return [(fld, value, days) for fld in ("grade", "segment", "stage")
                for value, days in getattr(self, fld).items() if days > 0]

    def days_for(self, record: dict) -> int | None:
        """The shortest cadence that applies to a customer (None: no cadence)."""
        found = [days for fld, value, days in self.rules() if record.get(fld) == value]
        return min(found) if found else None


def user_cadence_path() -> Path:
    return config_dir() / "cadence.yaml"


def _fail(path: Path, message: str) -> CadenceError:
    return CadenceError(tr("agenda.config_error", where=str(path), message=message))


def load_config(path: Path | None = None) -> CadenceConfig:
    """The built-in cadence.yaml, each section replaced by the user's file if it has it."""
    merged: dict[str, Any] = {}
    for source in (DEFAULT_PATH, path or user_cadence_path()):
        if source != DEFAULT_PATH and not source.exists():
            continue
        try:
            doc = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise _fail(source, str(exc).replace("\n", " ")) from None
        if not isinstance(doc, dict):
            raise _fail(source, tr("agenda.config_not_mapping", sections=", ".join(SECTIONS)))
        for key, value in doc.items():
            if key not in SECTIONS:
                raise _fail(source, tr("agenda.config_unknown", key=key,
                                       known=", ".join(SECTIONS)))
            if not isinstance(value, dict):
                raise _fail(source, tr("agenda.config_not_mapping", sections=key))
            merged[key] = (value, source)
    out: dict[str, Any] = {}
    cadence, source = merged.get("cadence", ({}, DEFAULT_PATH))
    for fld in ("grade", "segment", "stage"):
        table = cadence.get(fld) or {}
        if not isinstance(table, dict):
            raise _fail(source, tr("agenda.config_days", key=f"cadence.{fld}", value=table))
        for value, days in table.items():
            if isinstance(days, bool) or not isinstance(days, int) or days < 0:
                raise _fail(source, tr("agenda.config_days", key=f"cadence.{fld}.{value}",
                                       value=days))
        out[fld] = {str(k): v for k, v in table.items()}
    churn, source = merged.get("churn", ({}, DEFAULT_PATH))
    least = churn.get("min_purchases", 3)
    ratio = churn.get("ratio", 2.0)
    if isinstance(least, bool) or not isinstance(least, int) or least < 2:
        raise _fail(source, tr("agenda.config_days", key="churn.min_purchases", value=least))
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 100:
        raise _fail(source, tr("agenda.config_days", key="churn.ratio", value=ratio))
    birthdays, source = merged.get("birthdays", ({}, DEFAULT_PATH))
    days = birthdays.get("days", 14)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
        raise _fail(source, tr("agenda.config_days", key="birthdays.days", value=days))
    return CadenceConfig(out["grade"], out["segment"], out["stage"], least, float(ratio), days)


# --- tables ---------------------------------------------------------------------

def agenda_models(store) -> dict[str, type[peewee.Model]]:
    """``Handled`` (done / snoozed items) and ``Rhythm`` (purchase rhythm), tables
    created if missing (``migrate_schema`` calls this when it opens a database)."""
    cached = store.__dict__.get("_agenda_models")
    if cached is not None:
        return cached
    db = store.db
    Handled = type("AgendaHandled", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "agenda_handled",
                                  "indexes": ((("user", "item"), True),)}),
        "user": peewee.TextField(),
        "item": peewee.TextField(),
        "customer_id": peewee.IntegerField(index=True),
        "until": peewee.DateField(null=True),     # None: done; else hidden before this day
        "created_at": peewee.DateTimeField(default=now),
    })
    Rhythm = type("AgendaRhythm", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "agenda_rhythm"}),
        "customer_id": peewee.IntegerField(primary_key=True),
        "first_on": peewee.DateField(),
        "last_on": peewee.DateField(),
        "purchases": peewee.IntegerField(),
        "interval_days": peewee.DoubleField(),
        "warn_on": peewee.DateField(index=True),
        "yearly": peewee.DoubleField(),             # average order x orders a year
    })
    models = {"Handled": Handled, "Rhythm": Rhythm}
    if not (db.table_exists("agenda_handled") and db.table_exists("agenda_rhythm")):
        db.create_tables(list(models.values()), safe=True)
    if db.table_exists("contact") and "birthday" not in {c.name for c in db.get_columns("contact")}:
        # a key contact's birthday (the agenda lists them): added to an older database
        db.execute_sql("ALTER TABLE contact ADD COLUMN birthday DATE")
    store.__dict__["_agenda_models"] = models
    ensure_indexes(store)
    return models


def _index_sql(store) -> dict[str, str]:
    """The indexes that keep each agenda list a page read at 1M customers (partial:
    live rows only; the expressions are the ones the queries below write)."""
    pg = store.is_postgres
    md = ("lpad(((EXTRACT(MONTH FROM {0}) * 100 + EXTRACT(DAY FROM {0}))::int)::text, 4, '0')"
          if pg else "strftime('%m%d', {0})")
    silence = "COALESCE(last_contact_at, created_at)"
    has = store.schema.__contains__
    out = {}
    if has("last_contact_at"):
        by = "owner, " if has("owner") else ""
        grade = ", grade" if has("grade") else ""
        out["customer_agenda_silence"] = (f"customer ({silence}{grade}) WHERE deleted_at IS NULL")
        if by:
            out["customer_agenda_silence_owner"] = (
                f"customer (owner, {silence}{grade}) WHERE deleted_at IS NULL")
    if has("birthday"):
        owner = ", owner" if has("owner") else ""
        out["customer_agenda_birthday"] = (f"customer ({md.format('birthday')}{owner}) "
                                           "WHERE birthday IS NOT NULL AND deleted_at IS NULL")
        out["contact_agenda_birthday"] = (f"contact ({md.format('birthday')}, customer_id) "
                                          "WHERE birthday IS NOT NULL AND deleted_at IS NULL")
    out["interaction_agenda_followup"] = (
        "interaction (next_follow_up, customer_id) WHERE next_follow_up IS NOT NULL "
        f"AND follow_up_done = {'false' if pg else '0'} AND deleted_at IS NULL")
    out["agenda_rhythm_yearly"] = "agenda_rhythm (yearly DESC, customer_id, warn_on)"
    return out


def ensure_indexes(store) -> None:
    """Create the agenda's indexes that are missing (once per database: at 1M
    customers each takes seconds; a user without the right to create them still
    gets the agenda, only slower)."""
    db = store.db
    if store.is_postgres:
        have = {r[0] for r in db.execute_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    else:
        have = {r[0] for r in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'index'")}
    made = set()
    for name, target in _index_sql(store).items():
        if name in have:
            continue
        try:
            with db.atomic():
                db.execute_sql(f"CREATE INDEX IF NOT EXISTS {name} ON {target}")
            made.add(target.split(" ", 1)[0])
        except peewee.DatabaseError:   # noqa: PERF203 - no right to create it: slower, not broken
            continue
    for table in sorted(made):   # without statistics SQLite took `deleted_at IS NULL` (every
        db.execute_sql(f"ANALYZE {table}")   # row) for selective and read the wrong index


# --- keeping the rhythm and the last contact --------------------------------

def refresh_rhythm(store, customer_id: int | None = None,
                   config: CadenceConfig | None = None) -> None:
    """Rebuild the purchase rhythm of one customer (or of everybody)."""
    cfg = config or _config_or_default()
    R = agenda_models(store)["Rhythm"]
    pg = store.is_postgres
    only = f" AND customer_id = {int(customer_id)}" if customer_id is not None else ""
    if pg:
        day = "CAST({} AS DATE)"
        span = "(MAX(CAST(occurred_at AS DATE)) - MIN(CAST(occurred_at AS DATE)))"
        money = "CAST(SUM(amount) AS DOUBLE PRECISION)"
    else:
        day = "date({})"
        span = "(julianday(date(MAX(occurred_at))) - julianday(date(MIN(occurred_at))))"
        money = "(SUM(amount) / 100.0)"
    agg = (f"SELECT customer_id, {day.format('MIN(occurred_at)')} AS first_on, "
           f"{day.format('MAX(occurred_at)')} AS last_on, COUNT(*) AS n, "
           f"CAST({span} AS FLOAT) / (COUNT(*) - 1) AS gap, COALESCE({money}, 0) AS total "
           f"FROM interaction WHERE kind = 'purchase' AND deleted_at IS NULL{only} "
           f"GROUP BY customer_id HAVING COUNT(*) >= {int(cfg.min_purchases)} AND {span} > 0")
    ratio = float(cfg.ratio)
    if pg:
        warn = f"last_on + CAST(CEIL({ratio} * gap) AS INTEGER)"
    else:
        warn = f"date(last_on, '+' || CAST(-(CAST(-({ratio} * gap) AS INTEGER)) AS TEXT) || ' days')"
    with store.db.atomic():
        if customer_id is None:
            R.delete().execute()
        else:
            R.delete().where(R.customer_id == customer_id).execute()
        store.db.execute_sql(
            f"INSERT INTO agenda_rhythm (customer_id, first_on, last_on, purchases, "
            f"interval_days, warn_on, yearly) SELECT customer_id, first_on, last_on, n, gap, "
            f"{warn}, total / n * 365.0 / gap FROM ({agg}) a")


def touch_contact(store, customer_id: int, when: dt.datetime | None) -> None:
    """A timeline entry at ``when``: the customer's last contact moves up to it."""
    if "last_contact_at" not in store.schema or when is None:
        return
    if not isinstance(when, dt.datetime):
        when = dt.datetime.combine(when, dt.time())
    C = store.Customer
    (C.update(last_contact_at=when)
     .where(C.id == customer_id, C.last_contact_at.is_null() | (C.last_contact_at < when))
     .execute())


def refresh_last_contact(store) -> None:
    """Every customer's last contact from its timeline (the full recompute)."""
    if "last_contact_at" not in store.schema:
        return
    latest = ("(SELECT MAX(occurred_at) FROM interaction i WHERE i.customer_id = customer.id "
              "AND i.deleted_at IS NULL AND (i.\"user\" IS NULL OR substr(i.\"user\", 1, 5) <> 'rule:'))")
    differs = "IS DISTINCT FROM" if store.is_postgres else "IS NOT"
    store.db.execute_sql(f"UPDATE customer SET last_contact_at = {latest} "
                         f"WHERE last_contact_at {differs} {latest}")


def _config_or_default() -> CadenceConfig:
    try:
        return load_config()
    except CadenceError:   # a broken user file never stops a purchase; the agenda says it
        return load_config(DEFAULT_PATH)


# --- the items ------------------------------------------------------------------

@dataclass
class Item:
    kind: str                    # one of KINDS
    key: str                     # what a done / snooze remembers
    customer_id: int
    name: str
    when: dt.date | None         # due date, birthday, last purchase
    why: str                     # one line, in the user's language
    entry_id: int | None = None  # the follow-up's timeline entry
    score: float | None = None   # churn: days since / usual interval
    value: float | None = None   # churn: yearly value at risk
    age: int | None = None       # birthday: the age on that day
    kinds: list[str] | None = None       # verify: the kinds due
    every: dict[str, int] | None = None  # verify: kind → days a check stays good (grade)
    grade: str | None = None             # verify: the customer's grade
    contact_id: int | None = None        # birthday: a key contact's, not the customer's
    contact: str | None = None           # birthday: the contact's name

    def as_dict(self) -> dict[str, Any]:
        out = {"kind": self.kind, "key": self.key, "customer_id": self.customer_id,
               "name": self.name, "when": self.when.isoformat() if self.when else None,
               "why": self.why, "entry_id": self.entry_id,
               "score": None if self.score is None else round(self.score, 2),
               "value": None if self.value is None else round(self.value, 2), "age": self.age}
        if self.kind == "verify":
            out.update(kinds=self.kinds, every_days=self.every, grade=self.grade)
        if self.kind == "birthday":
            out.update(contact_id=self.contact_id, contact=self.contact)
        return out


@dataclass
class Agenda:
    today: dt.date
    owner: str | None            # None: every owner
    sections: dict[str, list[Item]]
    counts: dict[str, int]

    @property
    def items(self) -> list[Item]:
        return [item for kind in KINDS for item in self.sections.get(kind, [])]

    @property
    def capped(self) -> list[str]:
        """The lists with more than ``COUNT_CAP`` items (their count is the cap + 1)."""
        return [kind for kind, n in self.counts.items() if n > COUNT_CAP]

    def count_text(self, kind: str) -> str:
        """A list's count as shown: '12', or '1,000+' past the cap."""
        n = self.counts[kind]
        return f"{COUNT_CAP:,}+" if n > COUNT_CAP else f"{n:,}"

    def total_text(self) -> str:
        """The items to do as shown: an exact sum, or 'N+' when a list's count stopped
        at the cap."""
        total = sum(min(n, COUNT_CAP) for n in self.counts.values())
        return f"{total:,}+" if self.capped else f"{total:,}"

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "owner": self.owner, "counts": self.counts,
                "counts_capped": self.capped,
                **{kind: [i.as_dict() for i in self.sections[kind]] for kind in KINDS}}


#: A list's count stops here: the agenda shows a page of each list, and counting every
#: match (150,000 customers due for verification, 87,000 open follow-ups at 1M) cost
#: seconds. A count past it is kept as COUNT_CAP + 1 and shown as "1,000+".
COUNT_CAP = 1000


def capped_count(query) -> int:
    """How many rows ``query`` has, up to ``COUNT_CAP + 1`` (more: capped)."""
    inner = query.order_by().limit(COUNT_CAP + 1).select(peewee.SQL("1"))
    return peewee.Select([inner.alias("capped")], [peewee.fn.COUNT(peewee.SQL("*"))]).bind(
        query.model._meta.database).scalar()


def _owner_condition(store, owner: str | None):
    if owner is None or "owner" not in store.schema:
        return None
    return store.Customer.owner == owner


def resolve_owner(store, owner: str | None) -> str | None:
    """``None`` → the current user; ``*``/``all`` → everybody (None)."""
    if owner is not None and owner.strip().casefold() in ALL_OWNERS:
        return None
    return owner or store.user


def _hidden(store, user: str, today: dt.date) -> set[str]:
    H = agenda_models(store)["Handled"]
    rows = H.select(H.item).where(H.user == user, H.until.is_null() | (H.until > today))
    return {r.item for r in rows}


def _scoped(store, query, owner: str | None):
    cond = _owner_condition(store, owner)
    if cond is not None:
        query = query.where(cond)
    scope = store.guard.row_scope()
    if scope is not None:
        query = query.where(scope)
    return query


def cadence_condition(store, today: dt.date, config: CadenceConfig | None = None):
    """Customers whose cadence has fallen due on ``today`` (a Peewee condition)."""
    cfg = config or load_config()
    C = store.Customer
    base = _last_contact(store)
    parts = []
    for fld, value, days in cfg.rules():
        if fld in store.schema:
            cut = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time())
            parts.append((getattr(C, fld) == value) & (base < cut))
    if not parts:
        return peewee.SQL("1 = 0")
    return functools.reduce(lambda a, b: a | b, parts)


def _last_contact(store):
    C = store.Customer
    if "last_contact_at" in store.schema:
        return peewee.fn.COALESCE(C.last_contact_at, C.created_at)
    return C.created_at


def followups(store, today: dt.date, owner: str | None, limit: int) -> tuple[list[Item], int]:
    I, Cu = store.Interaction, store.Customer
    end = today + dt.timedelta(days=1)
    open_ = peewee.SQL(f'"t1"."follow_up_done" = {"false" if store.is_postgres else "0"}')
    query = (I.select(I.id, I.customer, I.next_follow_up, I.summary, I.kind, Cu.name)
             .join(Cu, on=(I.customer == Cu.id))
             .where(I.next_follow_up.is_null(False), open_,   # a literal: the partial index
                    I.deleted_at.is_null(), Cu.deleted_at.is_null(), I.next_follow_up < end))
    query = _scoped(store, query, owner)
    items = []
    for row in query.order_by(I.next_follow_up, I.id).limit(limit).objects():
        late = (today - row.next_follow_up).days
        kind = store.schema.list_item("interaction_kinds", row.kind)
        what = row.summary or (kind.label() if kind else row.kind)
        why = (tr("agenda.followup_late", days=late, what=what) if late > 0
               else tr("agenda.followup_today", what=what))
        items.append(Item("followup", f"followup:{row.id}", row.customer_id, row.name,
                          row.next_follow_up, why, entry_id=row.id))
    return items, capped_count(query)


def cadence_calls(store, today: dt.date, owner: str | None, limit: int,
                  cfg: CadenceConfig) -> tuple[list[Item], int]:
    C = store.Customer
    base = _last_contact(store)
    cols = [C.id, C.name, base.alias("base")]
    if "last_contact_at" in store.schema:
        cols.append(C.last_contact_at)
    cols += [getattr(C, f) for f in ("grade", "segment", "stage") if f in store.schema]
    query = _scoped(store, C.select(*cols).where(C.deleted_at.is_null(),
                                                 cadence_condition(store, today, cfg)), owner)
    items = []
    for row in query.order_by(base, C.id).limit(limit).dicts():
        last = row["base"]
        if isinstance(last, str):
            last = dt.datetime.fromisoformat(last)
        days = cfg.days_for(row) or 0
        silent = (today - last.date()).days
        contacted = row.get("last_contact_at") is not None
        why = (tr("agenda.cadence_why", every=days, days=silent) if contacted
               else tr("agenda.cadence_never", every=days, days=silent))
        items.append(Item("cadence", f"cadence:{row['id']}:{last.date().isoformat()}", row["id"],
                          row["name"], last.date() + dt.timedelta(days=days), why))
    return items, capped_count(query)


def month_day_sql(store, column) -> peewee.Node:
    """'MMDD' of a date column, on both databases (the format a literal, so SQLite's
    expression index on it, ``customer_agenda_birthday``, serves the query)."""
    if store.is_postgres:   # EXTRACT is immutable (to_char is not): it can be indexed
        return peewee.NodeList([peewee.SQL("lpad(((EXTRACT(MONTH FROM "), column,
                                peewee.SQL(") * 100 + EXTRACT(DAY FROM "), column,
                                peewee.SQL("))::int)::text, 4, '0')")], glue="")
    return peewee.fn.strftime(peewee.SQL("'%m%d'"), column)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def window_days(start: dt.date, days: int) -> dict[str, dt.date]:
    """'MMDD' → the day it falls on, for the ``days`` days from ``start``. A 29
    February birthday is kept on the 28th in a year without one."""
    out: dict[str, dt.date] = {}
    for n in range(days):
        day = start + dt.timedelta(days=n)
        out[day.strftime("%m%d")] = day
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            out["0229"] = day
    return out


def birthday_condition(store, start: dt.date, days: int):
    column = store.Customer.birthday
    return month_day_sql(store, column).in_(sorted(window_days(start, days)))


def _by_day(window: dict[str, dt.date]) -> list[tuple[dt.date, list[str]]]:
    """The window's days in order, each with the 'MMDD' values that fall on it."""
    days: dict[dt.date, list[str]] = {}
    for md, day in window.items():
        days.setdefault(day, []).append(md)
    return sorted((day, sorted(mds)) for day, mds in days.items())


def _birthday_why(born: dt.date, on: dt.date, today: dt.date) -> tuple[str, int | None]:
    age = on.year - born.year if born.year > UNKNOWN_BIRTH_YEAR and born < on else None
    ahead = (on - today).days
    when = tr("agenda.birthday_today") if ahead == 0 else tr("agenda.birthday_in", days=ahead)
    if age is not None:
        return tr("agenda.birthday_age", when=when, date=on.strftime("%m-%d"), age=age), age
    return tr("agenda.birthday_why", when=when, date=on.strftime("%m-%d")), None


def _as_date(value) -> dt.date:
    return dt.date.fromisoformat(value[:10]) if isinstance(value, str) else value


def _day_ordered(query, md, window: dict[str, dt.date], limit: int) -> list[dict]:
    """The rows of ``query`` in the order their birthday falls in the window, at most
    ``limit``: one indexed look-up per day, so a page never reads the whole window."""
    rows: list[dict] = []
    for _day, mds in _by_day(window):
        if len(rows) >= limit:
            break
        rows += list(query.where(md.in_(mds)).limit(limit - len(rows)).dicts())
    return rows


def key_contact_condition(store):
    """The contacts whose birthday the agenda lists: key people and decision makers."""
    K = store.Contact
    return (K.key_person == True) | (K.role == "decision_maker")  # noqa: E712


def birthdays(store, today: dt.date, owner: str | None, limit: int,
              days: int) -> tuple[list[Item], int]:
    """Birthdays in the ``days`` days from today, in day order: customers and the
    key contacts of their decision chain (key person or decision maker), each with
    the age when the year of birth is known."""
    # a role that sees birthdays masked is not told them by the agenda either
    if "birthday" not in store.schema or not store.guard.may_see(store.schema["birthday"]):
        return [], 0
    C, K = store.Customer, store.Contact
    window = window_days(today, days)
    wanted = sorted(window)
    md = month_day_sql(store, C.birthday)
    mine = _scoped(store, C.select(C.id, C.name, C.birthday).where(
        C.birthday.is_null(False), C.deleted_at.is_null()), owner).order_by(C.id)
    kmd = month_day_sql(store, K.birthday)
    theirs = _scoped(store, K.select(K.id, K.name, K.role, K.birthday, C.id.alias("customer"),
                                     C.name.alias("customer_name"))
                     .join(C, on=(K.customer == C.id))
                     .where(K.birthday.is_null(False), K.deleted_at.is_null(),
                            C.deleted_at.is_null(), key_contact_condition(store)),
                     owner).order_by(K.id)
    found = []
    for row in _day_ordered(mine, md, window, limit):
        born = _as_date(row["birthday"])
        on = window[born.strftime("%m%d")]
        why, age = _birthday_why(born, on, today)
        found.append(((on, row["id"], 0), Item(
            "birthday", f"birthday:{row['id']}:{on.isoformat()}", row["id"], row["name"], on,
            why, age=age)))
    for row in _day_ordered(theirs, kmd, window, limit):
        born = _as_date(row["birthday"])
        on = window[born.strftime("%m%d")]
        why, age = _birthday_why(born, on, today)
        role = store.schema.list_item("decision_roles", row["role"]) if row["role"] else None
        why = tr("agenda2.contact_birthday", contact=row["name"], why=why,
                 role=role.label() if role else tr("agenda2.key_person"))
        found.append(((on, row["customer"], row["id"]), Item(
            "birthday", f"birthday:c{row['id']}:{on.isoformat()}", row["customer"],
            row["customer_name"], on, why, age=age, contact_id=row["id"], contact=row["name"])))
    found.sort(key=lambda pair: pair[0])
    count = (capped_count(mine.where(md.in_(wanted)))
             + capped_count(theirs.where(kmd.in_(wanted))))
    return [item for _, item in found[:limit]], count


@dataclass(frozen=True)
class Churn:
    interval: float      # usual days between purchases
    days: int            # days since the last purchase
    score: float         # days / interval
    yearly: float        # average order x orders a year
    last_on: dt.date
    warned: bool

    def why(self) -> str:
        return tr("agenda.churn_why", interval=max(1, round(self.interval)), days=self.days)


def _churn_from(row, today: dt.date, cfg: CadenceConfig) -> Churn:
    last_on = row["last_on"]
    if isinstance(last_on, str):
        last_on = dt.date.fromisoformat(last_on[:10])
    days = (today - last_on).days
    interval = float(row["interval_days"])
    score = days / interval
    return Churn(interval, days, score, float(row["yearly"]), last_on,
                 score >= cfg.ratio - 1e-9)


def churn_for(store, customer_id: int, today: dt.date | None = None,
              config: CadenceConfig | None = None) -> Churn | None:
    """The customer's churn score and why (None: too few purchases for a rhythm)."""
    cfg = config or _config_or_default()
    R = agenda_models(store)["Rhythm"]
    row = R.select().where(R.customer_id == customer_id).dicts().first()
    return None if row is None else _churn_from(row, today or dt.date.today(), cfg)


def churn_warnings(store, today: dt.date, owner: str | None, limit: int,
                   cfg: CadenceConfig, hidden: set[str]) -> tuple[list[Item], int]:
    R = agenda_models(store)["Rhythm"]
    C = store.Customer
    query = _scoped(store, R.select(R.customer_id, R.last_on, R.interval_days, R.yearly, C.name)
                    .join(C, on=(R.customer_id == C.id))
                    .where(R.warn_on <= today, C.deleted_at.is_null()), owner)
    items = []
    for row in query.order_by(R.yearly.desc(), R.customer_id).limit(limit + len(hidden)).dicts():
        churn = _churn_from(row, today, cfg)
        items.append(Item("churn", f"churn:{row['customer_id']}:{churn.last_on.isoformat()}",
                          row["customer_id"], row["name"], churn.last_on, churn.why(),
                          score=churn.score, value=churn.yearly))
    return items, capped_count(query)


def verification_due(store, today: dt.date, owner: str | None, limit: int,
                     hidden: set[str]) -> tuple[list[Item], int]:
    """Customers due for verification by their grade's interval (``verification.yaml``)."""
    from . import verify

    try:
        policy = verify.load_policy(_app_config())
    except verify.PolicyError:
        policy = verify.load_policy()
    query, wanted = verify._due_query(store, policy, today, None)
    query = _scoped(store, query, owner)
    C = store.Customer
    items = []
    for row in query.order_by(C.id).limit(limit + len(hidden)).dicts():
        grade = row.get("grade")
        dues, every = [], {}
        for kind in wanted:
            days = kind.days_for(grade)
            if not days:
                continue
            last = row[f"{kind.key}__at"] or row["created_at"]
            if isinstance(last, str):
                last = dt.datetime.fromisoformat(last)
            on = verify.due_on(last, days)
            if on <= today:
                dues.append((on, kind))
                every[kind.key] = days
        if not dues:
            continue
        first = min(on for on, _ in dues)
        kinds = ", ".join(k.label() for _, k in dues)
        interval = "/".join(str(d) for d in sorted(set(every.values())))
        why = (tr("agenda2.verify_grade_why", kinds=kinds, date=first.isoformat(), grade=grade,
                  days=interval) if grade and any(dict(k.by_grade).get(grade) for _, k in dues)
               else tr("agenda2.verify_days_why", kinds=kinds, date=first.isoformat(),
                       days=interval))
        items.append(Item("verify", f"verify:{row['id']}:{first.isoformat()}", row["id"],
                          row["name"], first, why, kinds=[k.key for _, k in dues],
                          every=every, grade=grade))
    return items, capped_count(query)


def _app_config():
    try:
        from .config import load_config as load_app_config
        return load_app_config()
    except KehuError:
        return None


def build(store, today: dt.date | None = None, *, owner: str | None = None,
          limit: int = 50, days: int | None = None,
          config: CadenceConfig | None = None, resolve: bool = True) -> Agenda:
    """The agenda of ``owner`` (default the current user; ``*`` everybody) on ``today``."""
    today = today or dt.date.today()
    cfg = config or load_config()
    who = resolve_owner(store, owner) if resolve else owner
    hidden = _hidden(store, store.user, today)
    sections: dict[str, list[Item]] = {}
    counts: dict[str, int] = {}
    extra = limit + len(hidden)
    found = {
        "followup": followups(store, today, who, extra),
        "cadence": cadence_calls(store, today, who, extra, cfg),
        "birthday": birthdays(store, today, who, extra, days or cfg.birthday_days),
        "churn": churn_warnings(store, today, who, limit, cfg, hidden),
        "verify": verification_due(store, today, who, limit, hidden),
    }
    for kind, (items, count) in found.items():
        kept = [i for i in items if i.key not in hidden]
        gone = len(items) - len(kept)
        sections[kind] = kept[:limit]
        # past the cap the count stays COUNT_CAP + 1: "more than COUNT_CAP"
        counts[kind] = max(len(sections[kind]), count - gone) if count <= COUNT_CAP \
            else COUNT_CAP + 1
    return Agenda(today, who, sections, counts)


# --- a day typed ahead -----------------------------------------------------------

_AHEAD_RE = re.compile(r"^\+?\s*(\d{1,4})\s*([dwm天周月]?)$", re.I)
_AHEAD_UNIT = {"": 1, "d": 1, "天": 1, "w": 7, "周": 7, "m": 30, "月": 30}


def day_ahead(text: str, today: dt.date | None = None) -> dt.date | None:
    """A follow-up typed as the search box types days: ``7d``, ``+7d``, ``+3`` (days),
    ``2w``, ``1m`` (30 days), ``today``, ``tomorrow`` — counted forward from today
    (a follow-up is ahead). None when ``text`` is not one of these."""
    today = today or dt.date.today()
    word = text.strip().casefold()
    if word in ("today", "今天"):
        return today
    if word in ("tomorrow", "明天"):
        return today + dt.timedelta(days=1)
    match = _AHEAD_RE.match(word)
    if not match or (not match.group(2) and not word.startswith("+")):
        return None
    days = int(match.group(1)) * _AHEAD_UNIT[match.group(2)]
    return today + dt.timedelta(days=days) if days <= 36500 else None


# --- acting on an item ----------------------------------------------------------

def _remember(store, item: Item, until: dt.date | None) -> None:
    H = agenda_models(store)["Handled"]
    (H.insert(user=store.user, item=item.key, customer_id=item.customer_id, until=until,
              created_at=now())
     .on_conflict(conflict_target=[H.user, H.item],
                  update={H.until: until, H.created_at: now()})
     .execute())


def done(store, item: Item) -> None:
    """The item is handled: a follow-up is marked done, a verification due is
    recorded as verified (the kinds due, by this user, now) where the role may
    edit the customer, anything else stays away."""
    from . import timeline

    store.guard.require("view")
    with store.db.atomic():
        if item.kind == "followup" and item.entry_id is not None:
            timeline.mark_follow_up_done(store, item.entry_id)
        if item.kind == "verify" and store.guard.can(
                "edit", row=store.get_customer(item.customer_id)):
            from . import verify
            verify.mark_verified(store, item.customer_id, item.kinds or None)
        _remember(store, item, None)


def snooze(store, item: Item, days: int, today: dt.date | None = None) -> dt.date:
    """Hide the item for ``days`` days; returns the day it comes back."""
    if days < 1:
        raise CadenceError(tr("agenda.bad_snooze", days=days))
    until = (today or dt.date.today()) + dt.timedelta(days=days)
    _remember(store, item, until)
    return until


def log_call(store, item: Item, summary: str | None = None, **data) -> Any:
    """Log a call with the item's customer; it clears the item."""
    from . import timeline

    with store.db.atomic():
        entry = timeline.add_entry(store, item.customer_id, "call",
                                   summary=summary or tr("agenda.call_summary",
                                                         why=item.why), **data)
        done(store, item)
    return entry


def called(store, item: Item) -> None:
    """A call was logged for the item elsewhere (the call screen): clear the item."""
    done(store, item)
