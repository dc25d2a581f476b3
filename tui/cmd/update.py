"""`kehu update QUERY --set field=value [--add-tag T] [--remove-tag T] [--log KIND:TEXT]
[--delete] [--dry-run]` and `kehu update --undo [ID]`: the workbench's bulk change, headless.

Everything the query finds (within the user's row scope) is changed in one
transaction, with one audit entry per customer; the line printed says how many
were changed, skipped and why, and the batch number to undo it with.
"""
from __future__ import annotations


from kehu.models import bulk
from kehu.models.i18n import tr


def register(sub) -> None:
    p = sub.add_parser("update", help=tr("cmd_update.help"), description=tr("cmd_update.description"))
    p.add_argument("query", nargs="*", default=[], help=tr("cmd_update.opt_query"))
    p.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                   help=tr("cmd_update.opt_set"))
    p.add_argument("--add-tag", action="append", default=[], metavar="TAG",
                   help=tr("cmd_update.opt_add_tag"))
    p.add_argument("--remove-tag", action="append", default=[], metavar="TAG",
                   help=tr("cmd_update.opt_remove_tag"))
    p.add_argument("--log", metavar="KIND:TEXT", help=tr("cmd_update.opt_log"))
    p.add_argument("--delete", action="store_true", help=tr("cmd_update.opt_delete"))
    p.add_argument("--dry-run", action="store_true", help=tr("cmd_update.opt_dry_run"))
    p.add_argument("--undo", nargs="?", const=0, type=int, metavar="ID",
                   help=tr("cmd_update.opt_undo"))
    p.set_defaults(func=run)



def run(args, ctx) -> int:
    store = ctx.open_store()
    if args.undo is not None:
        batch = args.undo or bulk.last_batch(store)
        if batch is None:
            raise bulk.BulkError(tr("bulk.none_to_undo"))
        print(bulk.undo(store, batch).sentence(), file=ctx.out)
        return 0
    log = None
    if args.log:
        kind, _, text = args.log.partition(":")
        log = {"kind": kind.strip() or "note", "summary": text.strip() or None}
    change = bulk.Change(set=bulk.parse_assignments(store, args.set), add_tags=args.add_tag,
                         remove_tags=args.remove_tag, log=log, delete=args.delete)
    selection = bulk.Selection.of_query(" ".join(args.query))
    result = bulk.apply(store, selection, change, dry_run=args.dry_run)
    print(result.sentence(), file=ctx.out)
    return 0
