"""`kehu log CUSTOMER KIND "notes" [--follow-up +7d|DATE] [--amount N] [--at WHEN]
[--satisfaction SCORE]`:
one timeline entry (models/timeline.py), headless. CUSTOMER as in `kehu contact`."""
from __future__ import annotations

import datetime as dt
import re

from kehu.models import timeline
from kehu.models.i18n import tr
from kehu.tui.cmd.contact import _label, find_customer

_RELATIVE = re.compile(r"^\+(\d{1,4})\s*([dwm天周月]?)$", re.IGNORECASE)


def follow_up_date(text: str | None, today: dt.date | None = None) -> dt.date | str | None:
    """``+7d`` / ``+2w`` / ``+1m`` (``+7`` is days) from today; anything else is left
    to the timeline's own date parsing (and its error sentence)."""
    if text is None:
        return None
    match = _RELATIVE.match(text.strip())
    if not match:
        return text
    today = today or dt.date.today()
    n, unit = int(match[1]), (match[2] or "d").lower()
    if unit in ("w", "周"):
        return today + dt.timedelta(weeks=n)
    if unit in ("m", "月"):
        month = today.month - 1 + n
        year, month = today.year + month // 12, month % 12 + 1
        for day in (today.day, 30, 29, 28):
            try:
                return dt.date(year, month, day)
            except ValueError:
                continue
    return today + dt.timedelta(days=n)


def register(sub) -> None:
    p = sub.add_parser("log", help=tr("cli16.log_help"), description=tr("cli16.log_description"))
    p.add_argument("customer", metavar="CUSTOMER", help=tr("cli16.opt_customer"))
    p.add_argument("kind", metavar="KIND", help=tr("cli16.opt_kind"))
    p.add_argument("summary", metavar="TEXT", nargs="?", default=None)
    p.add_argument("--details", metavar="TEXT")
    p.add_argument("--follow-up", metavar="WHEN", help=tr("cli16.opt_follow_up"))
    p.add_argument("--amount", metavar="N")
    p.add_argument("--satisfaction", "--score", dest="score", metavar="SCORE",
                   help=tr("cli.log_satisfaction", scale="0–10"))
    p.add_argument("--at", metavar="WHEN", help=tr("cli16.opt_at"))
    p.add_argument("--contact", metavar="CONTACT", help=tr("cli16.opt_contact"))
    p.set_defaults(func=run)


def run(args, ctx) -> int:
    from kehu.tui.cmd.contact import _find_contact

    store = ctx.open_store()
    customer = find_customer(store, args.customer)
    data = {"summary": args.summary, "details": args.details, "amount": args.amount,
            "next_follow_up": follow_up_date(args.follow_up), "score": args.score}
    if args.at:
        data["occurred_at"] = args.at
    if args.contact:
        data["contact"] = _find_contact(store, customer.id, args.contact).id
    row = timeline.add_entry(store, customer.id, args.kind,
                             **{k: v for k, v in data.items() if v not in (None, "")})
    item = store.schema.list_item("interaction_kinds", row.kind)
    line = tr("cli16.logged", id=row.id, kind=item.label() if item else row.kind,
              customer=_label(customer))
    if row.amount is not None:
        line += " " + tr("cli16.logged_amount", amount=f"{row.amount:,.2f}")
    if row.score is not None:
        from kehu.models.satisfaction import format_score
        line += " " + tr("cli.logged_score", score=format_score(row.score, store))
    if row.next_follow_up:
        line += " " + tr("cli16.logged_follow_up", date=row.next_follow_up.isoformat())
    print(line, file=ctx.out)
    return 0
