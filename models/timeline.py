"""The chronicle of dealings with a customer (来往大事记) and its follow-ups.

Entries are ``Interaction`` rows: a kind from the schema's
``interaction_kinds`` list, when, who, which contact, a summary, an amount for
the kinds that carry one (``has_amount: true`` — purchases, opportunities) and
an optional next follow-up date. Purchases feed the customer's computed
purchase totals on every add, edit and delete. Lists come in pages straight
from the database so a customer with ten thousand entries opens at once.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Iterable

import peewee

from . import satisfaction
from .errors import KehuError
from .i18n import tr
from .chain import live_row
from .schema import value_limit
from .store import money_from_sql, money_sums, now
from .validate import FieldError, RecordInvalid, parse_date, parse_datetime, parse_decimal

EDITABLE = ("kind", "occurred_at", "contact", "summary", "details", "amount", "outcome",
            "duration_seconds", "next_follow_up", "user", "score")
PURCHASE = "purchase"


class TimelineError(KehuError, ValueError):
    """An entry that cannot be saved as asked (one sentence why)."""


def kind_items(store) -> list:
    """The interaction kinds (ListItem) in the order the schema lists them."""
    return store.schema.list_items("interaction_kinds")


def kind_has_amount(store, kind: str) -> bool:
    item = store.schema.list_item("interaction_kinds", kind)
    return bool(item and item.extra.get("has_amount"))


def _label(key: str) -> str:
    return tr(f"timeline.field.{key}")


def clean_entry(store, customer_id: int, data: dict[str, Any],
                current: Any = None) -> dict[str, Any]:
    """Validated entry values; ``RecordInvalid`` names every bad field.

    ``current`` is the saved entry when editing, so that an amount is checked
    against the kind it will have after the edit.
    """
    unknown = set(data) - set(EDITABLE)
    if unknown:
        raise TimelineError(tr("timeline.unknown_fields", fields=", ".join(sorted(unknown))))
    errors: dict[str, FieldError] = {}
    out: dict[str, Any] = {}

    def fail(key: str, message: str) -> None:
        errors[key] = FieldError(key, message, _label(key))

    for key, raw in data.items():
        value = raw.strip() if isinstance(raw, str) else raw
        if value == "":
            value = None
        try:
            if key == "kind":
                if value is None:
                    fail("kind", tr("validate.required"))
                    continue
                value = store._check_list("interaction_kinds", "kind", value)
            elif key == "occurred_at":
                if value is None:
                    value = now()
                elif isinstance(value, dt.datetime):
                    pass
                elif isinstance(value, dt.date):
                    value = dt.datetime.combine(value, dt.time())
                else:
                    try:
                        value = parse_datetime(str(value))
                    except ValueError:
                        fail(key, tr("validate.not_datetime", value=value))
                        continue
            elif key == "next_follow_up" and value is not None:
                if isinstance(value, dt.datetime):
                    value = value.date()
                elif not isinstance(value, dt.date):
                    from .agenda import day_ahead   # 7d, +3, 2w: ahead of today
                    try:
                        value = day_ahead(str(value)) or parse_date(str(value))
                    except ValueError:
                        fail(key, tr("validate.not_date", value=value))
                        continue
            elif key == "amount" and value is not None:
                try:
                    value = value if isinstance(value, Decimal) else parse_decimal(str(value))
                except ValueError:
                    fail(key, tr("validate.not_number", value=value))
                    continue
                if not value.is_finite() or value > value_limit(2):
                    fail(key, tr("money.out_of_range", value=str(raw)[:40],
                                 limit=f"{value_limit(2):,}"))
                    continue
                if value < 0:
                    fail(key, tr("validate.below_min", min=0))
                    continue
                value = value.quantize(Decimal("0.01"))
            elif key == "score" and value is not None:   # satisfaction: the field's scale
                from .satisfaction import clean_score
                value = clean_score(store, value)
            elif key == "duration_seconds" and value is not None:
                try:
                    value = int(value)
                except (TypeError, ValueError):
                    fail(key, tr("validate.not_integer", value=value))
                    continue
            elif key == "contact" and value is not None:
                contact_id = getattr(value, "id", value)
                C = store.Contact
                found = C.select().where(C.id == contact_id, C.customer == customer_id,
                                         C.deleted_at.is_null()).first()
                if found is None:
                    fail(key, tr("timeline.no_such_contact", id=contact_id))
                    continue
                value = found.id
        except FieldError as exc:
            fail(key, exc.message)
            continue
        out[key] = value
    kind = out.get("kind", getattr(current, "kind", None))
    if out.get("amount") is not None and kind and not kind_has_amount(store, kind):
        item = store.schema.list_item("interaction_kinds", kind)
        with_amount = ", ".join(i.label() for i in kind_items(store) if i.extra.get("has_amount"))
        fail("amount", tr("timeline.amount_not_for_kind", kind=item.label() if item else kind,
                          kinds=with_amount))
    if errors:
        raise RecordInvalid(errors)
    return out


# --- editing ------------------------------------------------------------------

def get_entry(store, entry_id: int, *, include_deleted: bool = False):
    return live_row(store.Interaction, entry_id, include_deleted,
                    tr("timeline.entry_not_found", id=entry_id))


def add_entry(store, customer_id: int, kind: str, **data):
    """A new entry; a purchase updates the customer's purchase totals."""
    store.guard.require("edit", store.get_customer(customer_id))
    from . import automations   # rules on purchase_logged and a stage it moves
    seen = automations.before(store, customer_id)
    data.setdefault("occurred_at", None)
    values = clean_entry(store, customer_id, {"kind": kind, **data})
    values.setdefault("user", store.user)
    stamp = now()
    scored = values.get("score") is not None
    with store.db.atomic():
        if scored:   # a satisfaction value typed before the history becomes its first entry
            satisfaction.before_scored_entry(store, customer_id)
        row = store.Interaction.create(customer=customer_id, created_at=stamp, updated_at=stamp,
                                       **values)
        store.audit.child_created(row)
        from .agenda import touch_contact   # the customer's last contact follows
        touch_contact(store, customer_id, row.occurred_at)
        if values["kind"] == PURCHASE:
            store.refresh_purchase_totals(customer_id)
        if scored:   # the satisfaction field shows the latest score
            satisfaction.refresh_latest(store, customer_id)
    automations.after(store, customer_id, seen,
                      purchase=row.id if values["kind"] == PURCHASE else None)
    return get_entry(store, row.id)


def update_entry(store, entry_id: int, **changes):
    """Save the given fields of an entry; purchase totals follow."""
    I = store.Interaction
    with store.db.atomic(), store.audit.child_change(I, entry_id):
        current = get_entry(store, entry_id)
        values = clean_entry(store, current.customer_id, changes, current)
        new_kind = values.get("kind", current.kind)
        if (not kind_has_amount(store, new_kind) and "amount" not in values
                and current.amount is not None):
            values["amount"] = None  # the amount went with a kind that had one
        if values.get("score") is not None and current.score is None:
            satisfaction.before_scored_entry(store, current.customer_id)
        if values:
            I.update(**values, updated_at=now(), version=I.version + 1).where(
                I.id == entry_id).execute()
        if PURCHASE in (current.kind, new_kind):
            store.refresh_purchase_totals(current.customer_id)
        if current.score is not None or values.get("score") is not None:
            satisfaction.refresh_latest(store, current.customer_id)
    return get_entry(store, entry_id)


def delete_entry(store, entry_id: int) -> None:
    """Soft delete; the entry leaves the timeline and the purchase totals."""
    I = store.Interaction
    with store.db.atomic(), store.audit.child_change(I, entry_id, "delete"):
        current = get_entry(store, entry_id)
        I.update(deleted_at=now(), version=I.version + 1).where(I.id == entry_id).execute()
        if current.kind == PURCHASE:
            store.refresh_purchase_totals(current.customer_id)
        if current.score is not None:
            satisfaction.refresh_latest(store, current.customer_id)


def restore_entry(store, entry_id: int):
    I = store.Interaction
    with store.db.atomic(), store.audit.child_change(I, entry_id, "restore"):
        current = get_entry(store, entry_id, include_deleted=True)
        I.update(deleted_at=None, version=I.version + 1).where(I.id == entry_id).execute()
        if current.kind == PURCHASE:
            store.refresh_purchase_totals(current.customer_id)
        if current.score is not None:
            satisfaction.refresh_latest(store, current.customer_id)
    return get_entry(store, entry_id)


# --- reading in pages -------------------------------------------------------------

def _timeline_query(store, customer_id: int, kinds: Iterable[str] | None,
                    contact_id: int | None):
    I = store.Interaction
    query = I.select().where(I.customer == customer_id, I.deleted_at.is_null())
    if kinds:
        query = query.where(I.kind.in_(list(kinds)))
    if contact_id is not None:
        query = query.where(I.contact == contact_id)
    return query


def entries(store, customer_id: int, *, kinds: Iterable[str] | None = None,
            contact_id: int | None = None, offset: int = 0, limit: int = 100) -> list:
    """One page of the customer's entries, newest first (optionally of some kinds
    or about one contact). Each row has ``contact_name`` (or None)."""
    I, C = store.Interaction, store.Contact
    query = (_timeline_query(store, customer_id, kinds, contact_id)
             .select_extend(C.name.alias("contact_name"))
             .join(C, peewee.JOIN.LEFT_OUTER, on=(I.contact == C.id))
             .order_by(I.occurred_at.desc(), I.id.desc())
             .offset(offset).limit(limit))
    return list(query.objects())


def count_entries(store, customer_id: int, *, kinds: Iterable[str] | None = None,
                  contact_id: int | None = None) -> int:
    return _timeline_query(store, customer_id, kinds, contact_id).count()


# --- follow-ups ----------------------------------------------------------------------

BUCKETS = ("overdue", "today", "week")


def bucket_range(bucket: str, today: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """[start, end) of a bucket: overdue (before today), today, week (the 7 days after)."""
    if bucket == "overdue":
        return None, today
    if bucket == "today":
        return today, today + dt.timedelta(days=1)
    if bucket == "week":
        return today + dt.timedelta(days=1), today + dt.timedelta(days=8)
    raise ValueError(bucket)


def _follow_up_query(store, bucket: str, today: dt.date):
    I, Cu = store.Interaction, store.Customer
    start, end = bucket_range(bucket, today)
    query = (I.select().join(Cu, on=(I.customer == Cu.id))
             .where(I.next_follow_up.is_null(False), I.follow_up_done == False,  # noqa: E712
                    I.deleted_at.is_null(), Cu.deleted_at.is_null()))
    if start is not None:
        query = query.where(I.next_follow_up >= start)
    return query.where(I.next_follow_up < end)


def follow_ups(store, bucket: str, today: dt.date | None = None, *, offset: int = 0,
               limit: int = 100) -> list:
    """Open follow-ups of one bucket across all customers, earliest first.
    Each row has ``customer_name`` and ``contact_name``."""
    I, Cu, C = store.Interaction, store.Customer, store.Contact
    query = (_follow_up_query(store, bucket, today or dt.date.today())
             .select_extend(Cu.name.alias("customer_name"), C.name.alias("contact_name"))
             .join_from(I, C, peewee.JOIN.LEFT_OUTER, on=(I.contact == C.id))
             .order_by(I.next_follow_up, I.id).offset(offset).limit(limit))
    return list(query.objects())


def follow_up_counts(store, today: dt.date | None = None) -> dict[str, int]:
    today = today or dt.date.today()
    return {b: _follow_up_query(store, b, today).count() for b in BUCKETS}


def mark_follow_up_done(store, entry_id: int, done: bool = True):
    I = store.Interaction
    entry = get_entry(store, entry_id)
    if entry.next_follow_up is None:
        raise TimelineError(tr("timeline.no_follow_up"))
    with store.db.atomic(), store.audit.child_change(I, entry_id):
        I.update(follow_up_done=done, updated_at=now(), version=I.version + 1).where(
            I.id == entry_id).execute()
    return get_entry(store, entry_id)


@dataclass(frozen=True)
class Summary:
    count: int
    purchases: Decimal


def summary(store, customer_id: int) -> Summary:
    I = store.Interaction
    live = (I.customer == customer_id) & I.deleted_at.is_null()
    total = money_sums(store, lambda SUM: I.select(SUM(I.amount)).where(
        live, I.kind == PURCHASE).scalar())
    return Summary(I.select().where(live).count(), money_from_sql(total) or Decimal("0.00"))
