"""Whose agenda a manager may look at: the owners of the customers the user
can read (``kehu agenda --owner NAME`` and the agenda screen's ``o`` key)."""
from __future__ import annotations

from .i18n import tr

#: At most this many owners are offered (a team has a few dozen).
LIMIT = 500


def owners(store) -> list[str]:
    """Distinct owners of the live customers within the user's row scope, sorted;
    the current user first when they own customers."""
    if "owner" not in store.schema:
        return []
    C = store.Customer
    query = C.select(C.owner).where(C.deleted_at.is_null(), C.owner.is_null(False)).distinct()
    scope = store.guard.row_scope()
    if scope is not None:
        query = query.where(scope)
    found = sorted({row.owner for row in query.order_by(C.owner).limit(LIMIT) if row.owner})
    if store.user in found:
        found.remove(store.user)
        found.insert(0, store.user)
    return found


def choices(store) -> list[tuple[str, str | None]]:
    """(label, owner) for a picker: each owner (the user's own first), then
    everybody (``*``)."""
    out = [(tr("agenda_owner.mine", user=name) if name == store.user else name, name)
           for name in owners(store)]
    if store.user not in [v for _, v in out]:
        out.insert(0, (tr("agenda_owner.mine", user=store.user), store.user))
    return out + [(tr("agenda_owner.everybody"), "*")]
