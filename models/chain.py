"""The decision chain (决策链) of a customer: its contacts, who reports to whom.

Every operation takes the ``Store``. A contact's place in the tree is its
``reports_to``; moving a contact under one of its own reports is refused (it
would make a loop), and deleting one (softly) hands its reports up to its own
manager so nobody falls out of the tree. The whole tree of a customer comes
from one query.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email

from .errors import KehuError
from .i18n import tr
from .store import NotFound, now
from .validate import FieldError, RecordInvalid, normalise_phone, parse_date
from .verify import cutoff as verify_cutoff
from .verify import load_policy

EDITABLE = ("name", "title", "department", "phone", "email", "role", "stance", "key_person",
            "notes", "birthday")


class ChainError(KehuError, ValueError):
    """An edit of the decision chain that cannot be made (one sentence why)."""


@dataclass
class ContactNode:
    contact: Any
    children: list["ContactNode"] = field(default_factory=list)
    depth: int = 0

    @property
    def id(self) -> int:
        return self.contact.id

    def walk(self):
        yield self
        for child in self.children:
            yield from child.walk()


# --- reading ----------------------------------------------------------------

def live_row(model, row_id: int, include_deleted: bool, not_found: str):
    """The row ``row_id`` of a soft-deleting model, or ``NotFound(not_found)``."""
    query = model.select().where(model.id == row_id)
    if not include_deleted:
        query = query.where(model.deleted_at.is_null())
    row = query.first()
    if row is None:
        raise NotFound(not_found)
    return row


def get_contact(store, contact_id: int, *, include_deleted: bool = False):
    return live_row(store.Contact, contact_id, include_deleted,
                    tr("chain.contact_not_found", id=contact_id))


def masked_fields(store) -> dict[str, Any]:
    """The contact fields this user sees masked: a contact's phone or email is as
    private as the customer field of the same key, so a role that may not see a
    customer's phone in clear does not see a contact's either."""
    guard = store.guard
    return {key: spec for key in EDITABLE
            if (spec := store.schema.get(key)) is not None and not guard.may_see(spec)}


def shown(store, row, masked: dict[str, Any] | None = None):
    """``row`` as this user may see it (what screens and sub-commands get)."""
    masked = masked_fields(store) if masked is None else masked
    for key, spec in masked.items():
        setattr(row, key, store.guard.mask(spec, getattr(row, key)))
    return row


def contact_tree(store, customer_id: int) -> list[ContactNode]:
    """The customer's live contacts as a forest (roots first, by id), one query,
    masked for the user (``shown``).

    A contact whose manager is gone or belongs elsewhere becomes a root; a loop
    that got into the data some other way is cut where it is first met, so the
    tree always shows every contact exactly once.
    """
    masked = masked_fields(store)
    rows = [shown(store, row, masked) for row in store.contacts(customer_id)]
    nodes = {row.id: ContactNode(row) for row in rows}
    roots: list[ContactNode] = []
    for row in rows:
        parent = nodes.get(row.reports_to_id)
        if parent is None or parent is nodes[row.id]:
            roots.append(nodes[row.id])
        else:
            parent.children.append(nodes[row.id])
    placed: set[int] = set()

    def settle(node: ContactNode, depth: int) -> None:
        placed.add(node.id)
        node.depth = depth
        node.children = [c for c in node.children if c.id not in placed]
        for child in node.children:
            settle(child, depth + 1)

    for root in roots:
        settle(root, 0)
    for row in rows:  # members of a loop never reached from a root
        if row.id not in placed:
            roots.append(nodes[row.id])
            settle(nodes[row.id], 0)
    return roots


def ancestors(store, contact_id: int) -> list[int]:
    """Ids above ``contact_id`` (its manager first), stopping at a loop."""
    C = store.Contact
    out: list[int] = []
    current = C.select(C.reports_to).where(C.id == contact_id).scalar()
    while current is not None and current not in out and current != contact_id:
        out.append(current)
        current = C.select(C.reports_to).where(C.id == current).scalar()
    return out


# --- validation ---------------------------------------------------------------

def clean_contact(store, data: dict[str, Any]) -> dict[str, Any]:
    """Validated contact values; ``RecordInvalid`` names every bad field."""
    unknown = set(data) - set(EDITABLE) - {"reports_to"}
    if unknown:
        raise ChainError(tr("chain.unknown_fields", fields=", ".join(sorted(unknown))))
    errors: dict[str, FieldError] = {}
    out: dict[str, Any] = {}
    for key, raw in data.items():
        value = raw.strip() if isinstance(raw, str) else raw
        try:
            if key == "name":
                if not value:
                    raise FieldError("name", tr("validate.required"), tr("chain.field.name"))
                if len(value) > 100:
                    raise FieldError("name", tr("validate.too_long", length=len(value), max=100),
                                     tr("chain.field.name"))
            elif key == "phone" and value:
                try:
                    value = normalise_phone(value)
                except ValueError:
                    raise FieldError("phone", tr("validate.bad_phone", value=value),
                                     tr("chain.field.phone")) from None
            elif key == "email" and value:
                try:
                    value = validate_email(value, check_deliverability=False).normalized
                except EmailNotValidError as exc:
                    raise FieldError("email", tr("validate.bad_email", value=value, reason=exc),
                                     tr("chain.field.email")) from None
            elif key in ("role", "stance"):
                list_name = "decision_roles" if key == "role" else "stances"
                try:
                    value = store._check_list(list_name, key, value)
                except FieldError as exc:
                    raise FieldError(key, exc.message, tr(f"chain.field.{key}")) from None
            elif key == "key_person":
                value = bool(value)
            elif key == "birthday" and value not in (None, ""):
                value = _birthday(value)
            elif value == "":
                value = None
        except FieldError as exc:
            errors[key] = exc
            continue
        out[key] = value
    if errors:
        raise RecordInvalid(errors)
    return out


def _birthday(value: Any) -> dt.date:
    """A contact's birthday: a date, or text as the customer's date fields take it."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return parse_date(str(value))
    except ValueError:
        raise FieldError("birthday", tr("validate.not_date", value=value),
                         tr("chain.field.birthday")) from None


# --- editing ------------------------------------------------------------------

def _parent_for(store, customer_id: int, parent_id: int | None):
    if parent_id is None:
        return None
    parent = get_contact(store, parent_id)
    if parent.customer_id != customer_id:
        raise ChainError(tr("chain.other_customer", name=parent.name))
    return parent


def add_contact(store, customer_id: int, parent_id: int | None = None, **data):
    """A new contact of the customer, reporting to ``parent_id`` (None: a root)."""
    store.guard.require("edit", store.get_customer(customer_id))
    if "name" not in data:
        data["name"] = ""
    values = clean_contact(store, data)
    with store.db.atomic():
        _parent_for(store, customer_id, parent_id)
        stamp = now()
        row = store.Contact.create(customer=customer_id, reports_to=parent_id,
                                   created_at=stamp, updated_at=stamp, **values)
        store.audit.child_created(row)
        return row


def update_contact(store, contact_id: int, **changes):
    """Save the given fields of a contact (the others stay as they are).

    A field the user sees masked that comes back as shown is left alone (a whole
    form can be saved); any other change to it is refused, naming the field."""
    changes.pop("reports_to", None)
    masked = masked_fields(store)
    if masked.keys() & changes.keys():
        current = get_contact(store, contact_id)
        for key in masked.keys() & changes.keys():
            was = getattr(current, key)
            if changes[key] in (None, "") and was in (None, "") or \
                    changes[key] == store.guard.mask(masked[key], was):
                del changes[key]
            else:
                store.guard.require("sensitive", spec=masked[key])
    values = clean_contact(store, changes)
    C = store.Contact
    with store.db.atomic(), store.audit.child_change(C, contact_id):
        get_contact(store, contact_id)
        if values:
            C.update(**values, updated_at=now(), version=C.version + 1).where(
                C.id == contact_id).execute()
    return get_contact(store, contact_id)


def move_contact(store, contact_id: int, new_parent_id: int | None):
    """Make ``contact_id`` report to ``new_parent_id`` (None: to nobody).

    Refused with ``ChainError`` when the new manager is the contact itself or
    one of the people who report to it, directly or through others.
    """
    C = store.Contact
    with store.db.atomic(), store.audit.child_change(C, contact_id):
        contact = get_contact(store, contact_id)
        parent = _parent_for(store, contact.customer_id, new_parent_id)
        if parent is not None:
            if parent.id == contact.id:
                raise ChainError(tr("chain.move_onto_self", name=contact.name))
            if contact.id in ancestors(store, parent.id):
                raise ChainError(tr("chain.move_cycle", name=contact.name, target=parent.name))
        C.update(reports_to=new_parent_id, updated_at=now(), version=C.version + 1).where(
            C.id == contact_id).execute()
    return get_contact(store, contact_id)


def set_key_person(store, contact_id: int, key: bool | None = None):
    """Mark or unmark a key person (``None`` toggles)."""
    contact = get_contact(store, contact_id)
    value = (not contact.key_person) if key is None else bool(key)
    return update_contact(store, contact_id, key_person=value)


def mark_contact_verified(store, contact_id: int, when: dt.datetime | None = None):
    """Record that this person's details were checked now."""
    C = store.Contact
    get_contact(store, contact_id)
    with store.db.atomic(), store.audit.child_change(C, contact_id):
        C.update(verified_at=when or now(), version=C.version + 1).where(C.id == contact_id).execute()
    return get_contact(store, contact_id)


def delete_contact(store, contact_id: int) -> int:
    """Soft delete; the contact's reports now report to its own manager.

    Returns how many reports moved up.
    """
    C = store.Contact
    with store.db.atomic(), store.audit.child_change(C, contact_id, "delete"):
        contact = get_contact(store, contact_id)
        moved = (C.update(reports_to=contact.reports_to_id, updated_at=now(),
                          version=C.version + 1)
                 .where(C.reports_to == contact_id, C.deleted_at.is_null()).execute())
        C.update(deleted_at=now(), version=C.version + 1).where(C.id == contact_id).execute()
    return moved


def restore_contact(store, contact_id: int):
    """Bring a deleted contact back, under its old manager if that one is still there."""
    C = store.Contact
    with store.db.atomic(), store.audit.child_change(C, contact_id, "restore"):
        contact = get_contact(store, contact_id, include_deleted=True)
        parent = contact.reports_to_id
        if parent is not None and C.select().where(C.id == parent,
                                                    C.deleted_at.is_null()).count() == 0:
            parent = None
        C.update(deleted_at=None, reports_to=parent, version=C.version + 1).where(
            C.id == contact_id).execute()
    return get_contact(store, contact_id)


# --- warnings -------------------------------------------------------------------

@dataclass(frozen=True)
class ChainWarning:
    code: str  # no_decision_maker | decision_maker_opposes | key_people_unverified
    message: str


def chain_warnings(store, customer_id: int, policy=None, today: dt.date | None = None
                   ) -> list[ChainWarning]:
    """What needs attention in this customer's chain, in plain sentences."""
    policy = policy or load_policy()
    contacts = list(store.contacts(customer_id))
    out: list[ChainWarning] = []
    if not contacts:
        return out
    deciders = [c for c in contacts if c.role == "decision_maker"]
    if not deciders:
        out.append(ChainWarning("no_decision_maker", tr("chain.warn.no_decision_maker")))
    opposed = [c.name for c in deciders if c.stance == "opponent"]
    if opposed:
        out.append(ChainWarning("decision_maker_opposes",
                                tr("chain.warn.decision_maker_opposes", names="、".join(opposed))))
    grade = getattr(store.get_customer(customer_id), "grade", None) \
        if "grade" in store.schema else None
    days = policy.interval("decision_makers", grade)   # the customer's grade's interval
    if days:
        cutoff = verify_cutoff(today or dt.date.today(), days)
        stale = [c.name for c in contacts
                 if c.key_person and (c.verified_at or c.created_at) < cutoff]
        if stale:
            out.append(ChainWarning("key_people_unverified",
                                    tr("chain.warn.key_people_unverified",
                                       names="、".join(stale), days=days)))
    return out
