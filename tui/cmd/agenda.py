"""`kehu agenda [--json] [--owner NAME|*] [--days N] [--today DATE] [--limit N]`:
today's agenda (follow-ups, cadence calls, birthdays, churn warnings,
verification) for cron and scripts."""
from __future__ import annotations

import datetime as dt
import json

from kehu.models import agenda
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.tui.cmd import agenda_act


class BadToday(KehuError):
    """--today is not a date."""


def register(sub) -> None:
    parser = sub.add_parser("agenda", help=tr("agenda.cli_help"))
    parser.add_argument("--json", action="store_true", help=tr("agenda.opt_json"))
    parser.add_argument("--owner", metavar="NAME", help=tr("agenda.opt_owner"))
    parser.add_argument("--days", type=int, metavar="N", help=tr("agenda.opt_days"))
    parser.add_argument("--today", metavar="DATE", help=tr("agenda.opt_today"))
    parser.add_argument("--limit", type=int, default=50, metavar="N", help=tr("agenda.opt_limit"))
    agenda_act.add_arguments(parser)   # --done/--snooze/--call KEY: the screen's keys
    parser.set_defaults(func=run)


def run(args, ctx) -> int:
    today = None
    if args.today:
        try:
            today = dt.date.fromisoformat(args.today)
        except ValueError:
            raise BadToday(tr("agenda.bad_today", value=args.today)) from None
    store = ctx.open_store()
    if agenda_act.wanted(args):
        return agenda_act.act(args, ctx, store, today)
    result = agenda.build(store, today, owner=args.owner, limit=max(1, args.limit),
                          days=args.days)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1), file=ctx.out)
        return 0
    print(tr("agenda.cli_title", owner=result.owner or tr("agenda.everybody"),
             today=result.today.isoformat()), file=ctx.out)
    for kind in agenda.KINDS:
        items = result.sections[kind]
        print(f"{tr('agenda.section.' + kind)} ({result.count_text(kind)})", file=ctx.out)
        if not items:
            print(tr("agenda.nothing"), file=ctx.out)
        for item in items:
            print(f"  #{item.customer_id} {item.name}  {item.why}", file=ctx.out)
    return 0
