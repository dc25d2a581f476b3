"""Verification (核实): when each customer's base data, credit status and key
decision makers were last checked, by whom, and which customers are due.

The kinds and how many days a check stays good come from
``models/verification.yaml``; ``config.yaml`` may change the days under
``verification:``. The last check of each kind is one row of the
``verification`` table (customer, kind, verified_at, verified_by). A customer
never checked counts from the day it was entered, so a new customer is not
due at once.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
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
    days: int

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.key


@dataclass(frozen=True)
class Policy:
    kinds: tuple[VerifyKind, ...]

    @property
    def keys(self) -> list[str]:
        return [k.key for k in self.kinds]

    @property
    def active(self) -> list[VerifyKind]:
        """The kinds that can fall due (days > 0)."""
        return [k for k in self.kinds if k.days > 0]

    def get(self, key: str) -> VerifyKind | None:
        return next((k for k in self.kinds if k.key == key), None)

    def interval(self, key: str) -> int:
        kind = self.get(key)
        return kind.days if kind else 0

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


def load_policy(config: Any = None, path: Path = POLICY_FILE) -> Policy:
    """The verification kinds and intervals; ``config`` (a Config or a dict of
    ``{kind: days}``) overrides the days."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    kinds = []
    for item in raw.get("kinds", []):
        kinds.append(VerifyKind(item["key"], {k: item[k] for k in ("zh", "en") if k in item},
                                _days(item.get("days", 0), f"{path.name}: {item['key']}")))
    overrides = config
    where = "config.yaml: verification"
    if config is not None and not isinstance(config, dict):
        overrides = getattr(config, "extra", {}).get("verification")
        where = f"{getattr(config, 'path', 'config.yaml')}: verification"
    if overrides is None:
        return Policy(tuple(kinds))
    if not isinstance(overrides, dict):
        raise PolicyError(tr("verify.bad_section", where=where))
    by_key = {k.key: k for k in kinds}
    for key, days in overrides.items():
        if key not in by_key:
            raise PolicyError(tr("verify.unknown_kind_in", where=f"{where}.{key}", kind=key,
                                 known=", ".join(by_key)))
        by_key[key] = VerifyKind(key, by_key[key].labels, _days(days, f"{where}.{key}"))
    return Policy(tuple(by_key[k.key] for k in kinds))


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
    V = store.Verification
    rows = {r.kind: r for r in V.select().where(V.customer == customer_id)}
    out = []
    for kind in policy.kinds:
        row = rows.get(kind.key)
        last = row.verified_at if row else None
        when_due = due_on(last or customer.created_at, kind.days) if kind.days else None
        out.append(VerifyStatus(kind, last, row.verified_by if row else None, when_due,
                                when_due is not None and when_due <= today))
    return out


# --- what is due --------------------------------------------------------------------

@dataclass(frozen=True)
class DueCustomer:
    id: int
    name: str
    created_at: dt.datetime
    last: dict[str, tuple[dt.datetime | None, str | None]]  # kind → (verified_at, by)
    due: list[str]  # the kinds due


def _due_query(store, policy: Policy, today: dt.date, kinds: Iterable[str] | None):
    C, V = store.Customer, store.Verification
    wanted = [k for k in policy.active if kinds is None or k.key in set(kinds)]
    aliases = {k.key: V.alias(f"v_{k.key}") for k in wanted}
    columns = [C.id, C.name, C.created_at]
    for key, alias in aliases.items():
        columns += [alias.verified_at.alias(f"{key}__at"), alias.verified_by.alias(f"{key}__by")]
    query = C.select(*columns)
    for key, alias in aliases.items():
        query = query.join_from(C, alias, peewee.JOIN.LEFT_OUTER,
                                on=(alias.customer == C.id) & (alias.kind == key))
    due_any = [peewee.fn.COALESCE(alias.verified_at, C.created_at) < cutoff(today, k.days)
               for k, alias in zip(wanted, aliases.values())]
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
        due = [k.key for k in wanted
               if due_on(last[k.key][0] or row["created_at"], k.days) <= today]
        out.append(DueCustomer(row["id"], row["name"], row["created_at"], last, due))
    return out


def count_due(store, policy: Policy | None = None, today: dt.date | None = None, *,
              kinds: Iterable[str] | None = None) -> int:
    policy = policy or load_policy()
    query, _ = _due_query(store, policy, today or dt.date.today(), kinds)
    return query.count()
