"""`kehu contact add CUSTOMER NAME [--title --mobile --email --reports-to]` and
`kehu contact list CUSTOMER [--json]`: the decision chain (models/chain.py), headless.

CUSTOMER is an id (``12`` or ``#12``) or a search (the search box's language)
that finds exactly one customer; otherwise one sentence lists the candidates.
"""
from __future__ import annotations

import json

from kehu.models import chain
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.models.results import ResultSet
from kehu.models.store import NotFound

SHOW_CANDIDATES = 10


class CustomerNotFound(KehuError):
    """CUSTOMER given on the command line finds no customer, or more than one."""



def _label(row) -> str:
    company = row.get("company") if isinstance(row, dict) else getattr(row, "company", None)
    name = row["name"] if isinstance(row, dict) else row.name
    ident = row["id"] if isinstance(row, dict) else row.id
    return f"#{ident} {name}" + (f" · {company}" if company else "")


def find_customer(store, text: str):
    """The one customer ``text`` names: an id, or a search matching exactly one."""
    text = text.strip()
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit():
        try:
            return store.get_customer(int(digits))
        except NotFound:
            if text.startswith("#"):
                raise
    rows = ResultSet(store, text)
    found = list(rows.select().limit(SHOW_CANDIDATES + 1).dicts())
    if not found:
        raise CustomerNotFound(tr("cli16.no_customer", query=text))
    if len(found) > 1:
        total = rows.count()
        shown = "; ".join(_label(r) for r in found[:SHOW_CANDIDATES])
        more = tr("cli16.more_candidates", count=total - SHOW_CANDIDATES) \
            if total > SHOW_CANDIDATES else ""
        raise CustomerNotFound(tr("cli16.several_customers", query=text, count=total,
                                  candidates=shown + more))
    return store.get_customer(found[0]["id"])


def _find_contact(store, customer_id: int, text: str):
    """A contact of the customer by id or by (unique) name."""
    contacts = list(store.contacts(customer_id))
    digits = text[1:] if text.startswith("#") else text
    if digits.isdigit():
        for c in contacts:
            if c.id == int(digits):
                return c
    named = [c for c in contacts if c.name == text.strip()]
    if len(named) == 1:
        return named[0]
    if not named:
        raise CustomerNotFound(tr("cli16.no_contact", name=text, customer=customer_id))
    raise CustomerNotFound(tr("cli16.several_contacts", name=text,
                              ids=", ".join(f"#{c.id}" for c in named)))


def register(sub) -> None:
    p = sub.add_parser("contact", help=tr("cli16.contact_help"))
    actions = p.add_subparsers(dest="contact_action", metavar="ACTION", required=True)
    a = actions.add_parser("add", help=tr("cli16.contact_add_help"))
    a.add_argument("customer", metavar="CUSTOMER", help=tr("cli16.opt_customer"))
    a.add_argument("name", metavar="NAME")
    a.add_argument("--title", metavar="TEXT")
    a.add_argument("--department", metavar="TEXT")
    a.add_argument("--mobile", "--phone", dest="phone", metavar="NUMBER")
    a.add_argument("--email", metavar="ADDRESS")
    a.add_argument("--role", metavar="ROLE")
    a.add_argument("--reports-to", metavar="CONTACT", help=tr("cli16.opt_reports_to"))
    a.add_argument("--notes", metavar="TEXT")
    a.add_argument("--birthday", metavar="DATE", help=tr("cli.opt_contact_birthday"))
    a.set_defaults(func=run_add)
    a = actions.add_parser("list", help=tr("cli16.contact_list_help"))
    a.add_argument("customer", metavar="CUSTOMER", help=tr("cli16.opt_customer"))
    a.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    a.set_defaults(func=run_list)


def run_add(args, ctx) -> int:
    store = ctx.open_store()
    customer = find_customer(store, args.customer)
    parent = _find_contact(store, customer.id, args.reports_to).id if args.reports_to else None
    data = {k: getattr(args, k) for k in ("title", "department", "phone", "email", "role", "notes",
                                           "birthday")
            if getattr(args, k) not in (None, "")}
    row = chain.add_contact(store, customer.id, parent, name=args.name, **data)
    print(tr("cli16.contact_added", id=row.id, name=row.name, customer=_label(customer)),
          file=ctx.out)
    return 0


def _contact_dict(row) -> dict:
    return {"id": row.id, "name": row.name, "title": row.title, "department": row.department,
            "phone": row.phone, "email": row.email, "role": row.role, "stance": row.stance,
            "reports_to": row.reports_to_id, "key_person": bool(row.key_person),
            "notes": row.notes,
            "birthday": row.birthday.isoformat() if row.birthday else None}


def run_list(args, ctx) -> int:
    store = ctx.open_store()
    customer = find_customer(store, args.customer)
    nodes = [n for root in chain.contact_tree(store, customer.id) for n in root.walk()]
    if args.json:
        print(json.dumps([_contact_dict(n.contact) | {"depth": n.depth} for n in nodes],
                         ensure_ascii=False, indent=1), file=ctx.out)
        return 0
    print(_label(customer), file=ctx.out)
    if not nodes:
        print("  " + tr("cli16.no_contacts"), file=ctx.out)
    for node in nodes:
        c = node.contact
        details = "  ".join(str(v) for v in (c.title, c.phone, c.email) if v)
        star = "★ " if c.key_person else ""
        print(f"  {'  ' * node.depth}#{c.id} {star}{c.name}  {details}".rstrip(), file=ctx.out)
    return 0
