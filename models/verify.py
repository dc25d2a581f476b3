"""Verification (核实): when each customer's base data, credit status and key
decision makers were last checked, by whom, and which customers are due.

The kinds and how many days a check stays good come from
``models/verification.yaml``: by the customer's grade (``grade:``, for every
kind; a kind's own ``grade:`` wins), else the kind's ``days``; ``config.yaml``
may change both under ``verification:``. The last check of each kind is one row of the
``verification`` table (customer, kind, verified_at, verified_by). A customer
never checked counts from the day it was entered, so a new customer is not
due at once.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import peewee
import yaml

from .errors import KehuError
from .i18n import label as pick_label
from .i18n import tr
from .store import now
from .validate import MINUTES

POLICY_FILE = Path(__file__).with_name("verification.yaml")


class PolicyError(KehuError, ValueError):
    """A bad verification setting; the message names the file and the key."""


@dataclass(frozen=True)
class VerifyKind:
    key: str
    labels: dict[str, str]
    days: int                                   # a customer with no grade, or one not listed;
    by_grade: tuple[tuple[str, int], ...] = ()  # 0 switches the kind off for every grade
                                                # (grade, days); 0: never due for that grade

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.key

    def days_for(self, grade: str | None) -> int:
        """How many days a check of this kind stays good for a customer of ``grade``."""
        if not self.days or not grade:
            return self.days
        return dict(self.by_grade).get(grade, self.days)

    @property
    def can_fall_due(self) -> bool:
        return self.days > 0


@dataclass(frozen=True)
class Policy:
    kinds: tuple[VerifyKind, ...]

    @property
    def keys(self) -> list[str]:
        return [k.key for k in self.kinds]

    @property
    def active(self) -> list[VerifyKind]:
        """The kinds that can fall due (days > 0 for some grade)."""
        return [k for k in self.kinds if k.can_fall_due]

    def get(self, key: str) -> VerifyKind | None:
        return next((k for k in self.kinds if k.key == key), None)

    def interval(self, key: str, grade: str | None = None) -> int:
        """Days a check of ``key`` stays good (for a customer of ``grade``); 0: never due."""
        kind = self.get(key)
        return kind.days_for(grade) if kind else 0

    def resolve(self, name: str) -> VerifyKind:
        """A kind by key or by its zh/en label; ``PolicyError`` otherwise."""
        folded = str(name).strip().casefold()
        for kind in self.kinds:
            if folded == kind.key or folded in {v.casefold() for v in kind.labels.values()}:
                return kind
        raise PolicyError(tr("verify.unknown_kind", kind=name, known=", ".join(self.keys)))


def _days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PolicyError(tr("verify.bad_days", where=where, value=value))
    return value


def _grade_days(value: Any, where: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PolicyError(tr("verify.bad_grades", where=where))
    return {str(g): _days(d, f"{where}.{g}") for g, d in value.items()}


def load_policy(config: Any = None, path: Path = POLICY_FILE) -> Policy:
    """The verification kinds and intervals; ``config`` (a Config or a dict of
    ``{kind: days, "grade": {grade: days}}``) overrides the days."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    grades = _grade_days(raw.get("grade"), f"{path.name}: grade")
    kinds = []
    for item in raw.get("kinds", []):
        where = f"{path.name}: {item['key']}"
        kinds.append((VerifyKind(item["key"], {k: item[k] for k in ("zh", "en") if k in item},
                                 _days(item.get("days", 0), where)),
                      _grade_days(item.get("grade"), f"{where}.grade")))
    overrides = config
    where = "config.yaml: verification"
    if config is not None and not isinstance(config, dict):
        overrides = getattr(config, "extra", {}).get("verification")
        where = f"{getattr(config, 'path', 'config.yaml')}: verification"
    if overrides is not None and not isinstance(overrides, dict):
        raise PolicyError(tr("verify.bad_section", where=where))
    overrides = dict(overrides or {})
    if "grade" in overrides:
        grades = grades | _grade_days(overrides.pop("grade"), f"{where}.grade")
    by_key = {k.key: k for k, _ in kinds}
    for key, days in overrides.items():
        if key not in by_key:
            raise PolicyError(tr("verify.unknown_kind_in", where=f"{where}.{key}", kind=key,
                                 known=", ".join([*by_key, "grade"])))
        by_key[key] = VerifyKind(key, by_key[key].labels, _days(days, f"{where}.{key}"))
    return Policy(tuple(VerifyKind(k.key, k.labels, by_key[k.key].days,
                                   tuple((grades | own).items()))
                        for k, own in kinds))


def cutoff(today: dt.date, days: int) -> dt.datetime:
    """A check made before this moment is out of date on ``today``.

    Good for ``days`` days: checked on day D, due again on D + days.
    """
    return dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time())


def due_on(last: dt.datetime, days: int) -> dt.date:
    return last.date() + dt.timedelta(days=days)


# --- recording ------------------------------------------------------------------

def mark_verified(store, customer_id: int, kinds: Iterable[str] | None = None, *,
                  policy: Policy | None = None, user: str | None = None,
                  when: dt.datetime | None = None, note: str | None = None) -> list[str]:
    """Record that the customer was verified now (all kinds unless ``kinds``).

    Verifying the key decision makers also stamps each key person of the chain.
    Returns the kinds recorded.
    """
    policy = policy or load_policy()
    keys = policy.keys if kinds is None else [policy.resolve(k).key for k in kinds]
    when = when or now()
    user = user or store.user
    V, C = store.Verification, store.Contact
    with store.db.atomic():
        store.guard.require("edit", store.get_customer(customer_id))
        for key in keys:
            (V.insert(customer=customer_id, kind=key, verified_at=when, verified_by=user,
                      note=note)
             .on_conflict(conflict_target=[V.customer, V.kind],
                          update={V.verified_at: when, V.verified_by: user, V.note: note})
             .execute())
        if "decision_makers" in keys:
            C.update(verified_at=when).where(C.customer == customer_id, C.key_person == True,  # noqa: E712
                                             C.deleted_at.is_null()).execute()
        store.audit.record("update", "verification", None, customer_id=customer_id,
                           fields={f"verified.{k}": [None, f"{when:{MINUTES}} {user}"]
                                   for k in keys})
    return keys


@dataclass(frozen=True)
class VerifyStatus:
    kind: VerifyKind
    verified_at: dt.datetime | None
    verified_by: str | None
    due_on: dt.date | None  # None: this kind never falls due
    is_due: bool


def status(store, customer_id: int, policy: Policy | None = None,
           today: dt.date | None = None) -> list[VerifyStatus]:
    """Each kind's last check of one customer, and whether it is due."""
    policy = policy or load_policy()
    today = today or dt.date.today()
    customer = store.get_customer(customer_id)
    grade = _grade_of(store, customer)
    V = store.Verification
    rows = {r.kind: r for r in V.select().where(V.customer == customer_id)}
    out = []
    for kind in policy.kinds:
        row = rows.get(kind.key)
        last = row.verified_at if row else None
        days = kind.days_for(grade)
        when_due = due_on(last or customer.created_at, days) if days else None
        out.append(VerifyStatus(kind, last, row.verified_by if row else None, when_due,
                                when_due is not None and when_due <= today))
    return out


# --- what is due --------------------------------------------------------------------

def _grade_of(store, customer) -> str | None:
    return getattr(customer, "grade", None) if "grade" in store.schema else None


@dataclass(frozen=True)
class DueCustomer:
    id: int
    name: str
    created_at: dt.datetime
    last: dict[str, tuple[dt.datetime | None, str | None]]  # kind → (verified_at, by)
    due: list[str]  # the kinds due
    grade: str | None = None
    every: dict[str, int] = field(default_factory=dict)   # kind → days, for this grade


def _kind_due(store, kind: VerifyKind, last, today: dt.date):
    """``last`` (a verification time or the customer's creation) is too old for the
    interval of the customer's grade (a condition; None: never due)."""
    C = store.Customer
    if not kind.days:
        return None
    by_grade = dict(kind.by_grade) if "grade" in store.schema else {}
    parts = []
    for days in sorted(set(by_grade.values()) - {0}):
        grades = sorted(g for g, d in by_grade.items() if d == days)
        parts.append(C.grade.in_(grades) & (last < cutoff(today, days)))
    other = last < cutoff(today, kind.days)
    if by_grade:
        other &= C.grade.is_null() | C.grade.not_in(sorted(by_grade))
    parts.append(other)
    return functools.reduce(lambda a, b: a | b, parts) if parts else None


def _due_query(store, policy: Policy, today: dt.date, kinds: Iterable[str] | None):
    C, V = store.Customer, store.Verification
    wanted = [k for k in policy.active if kinds is None or k.key in set(kinds)]
    aliases = {k.key: V.alias(f"v_{k.key}") for k in wanted}
    columns = [C.id, C.name, C.created_at]
    if "grade" in store.schema:
        columns.append(C.grade)
    for key, alias in aliases.items():
        columns += [alias.verified_at.alias(f"{key}__at"), alias.verified_by.alias(f"{key}__by")]
    query = C.select(*columns)
    for key, alias in aliases.items():
        query = query.join_from(C, alias, peewee.JOIN.LEFT_OUTER,
                                on=(alias.customer == C.id) & (alias.kind == key))
    due_any = [cond for k, alias in zip(wanted, aliases.values())
               if (cond := _kind_due(store, k, peewee.fn.COALESCE(alias.verified_at,
                                                                    C.created_at), today))
               is not None]
    condition = C.deleted_at.is_null()
    if due_any:
        condition &= functools.reduce(lambda a, b: a | b, due_any)
    else:
        condition &= peewee.SQL("1 = 0")
    return query.where(condition), wanted


def due_for_verification(store, policy: Policy | None = None, today: dt.date | None = None, *,
                         kinds: Iterable[str] | None = None, after_id: int | None = None,
                         offset: int = 0, limit: int = 100) -> list[DueCustomer]:
    """A page of customers due for verification, by id (pass the last id seen as
    ``after_id``, or an ``offset``)."""
    policy = policy or load_policy()
    today = today or dt.date.today()
    query, wanted = _due_query(store, policy, today, kinds)
    C = store.Customer
    if after_id is not None:
        query = query.where(C.id > after_id)
    out = []
    for row in query.order_by(C.id).offset(offset or None).limit(limit).dicts():
        last = {k.key: (row[f"{k.key}__at"], row[f"{k.key}__by"]) for k in wanted}
        grade = row.get("grade")
        every = {k.key: k.days_for(grade) for k in wanted if k.days_for(grade)}
        due = [key for key, days in every.items()
               if due_on(last[key][0] or row["created_at"], days) <= today]
        out.append(DueCustomer(row["id"], row["name"], row["created_at"], last, due, grade,
                               every))
    return out


def count_due(store, policy: Policy | None = None, today: dt.date | None = None, *,
              kinds: Iterable[str] | None = None) -> int:
    policy = policy or load_policy()
    query, _ = _due_query(store, policy, today or dt.date.today(), kinds)
    return query.count()
