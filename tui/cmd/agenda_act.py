"""`kehu agenda --done KEY`, `--snooze KEY [--snooze-days N]`, `--call KEY [--note TEXT]`:
the agenda screen's x / s / w / c for scripts. KEY is an item's ``key`` in
``kehu agenda --json`` (e.g. ``cadence:12:2026-10-01``, ``followup:345``)."""
from __future__ import annotations

from kehu.models import agenda
from kehu.models.errors import KehuError
from kehu.models.i18n import tr

#: How many lines per list are looked through for a key (the user's, then everybody's).
SEARCH_LIMIT = 1000


class NotOnAgenda(KehuError):
    """The key names no item on the agenda (handled already, or mistyped)."""


def add_arguments(parser) -> None:
    parser.add_argument("--done", action="append", default=[], metavar="KEY",
                        help=tr("agenda_act.opt_done"))
    parser.add_argument("--snooze", action="append", default=[], metavar="KEY",
                        help=tr("agenda_act.opt_snooze"))
    parser.add_argument("--snooze-days", type=int, default=3, metavar="N",
                        help=tr("agenda_act.opt_snooze_days"))
    parser.add_argument("--call", action="append", default=[], metavar="KEY",
                        help=tr("agenda_act.opt_call"))
    parser.add_argument("--note", metavar="TEXT", help=tr("agenda_act.opt_note"))


def wanted(args) -> bool:
    return bool(args.done or args.snooze or args.call)


def _find(store, today, owner, key: str) -> agenda.Item:
    for who, limit in ((owner, SEARCH_LIMIT), ("*", SEARCH_LIMIT)):
        found = agenda.build(store, today, owner=who, limit=limit)
        item = next((i for i in found.items if i.key == key), None)
        if item is not None:
            return item
    raise NotOnAgenda(tr("agenda_act.not_found", key=key))


def act(args, ctx, store, today) -> int:
    """Each --done, --snooze and --call in turn; one line each saying what was done."""
    for key in args.done:
        item = _find(store, today, args.owner, key)
        agenda.done(store, item)
        print(tr("agenda_act.done", id=item.customer_id, name=item.name, why=item.why),
              file=ctx.out)
    for key in args.snooze:
        item = _find(store, today, args.owner, key)
        until = agenda.snooze(store, item, args.snooze_days, today)
        print(tr("agenda_act.snoozed", id=item.customer_id, name=item.name,
                 date=until.isoformat()), file=ctx.out)
    for key in args.call:
        item = _find(store, today, args.owner, key)
        entry = agenda.log_call(store, item, args.note)
        print(tr("agenda_act.called", id=item.customer_id, name=item.name, entry=entry.id),
              file=ctx.out)
    return 0
