"""`kehu due`: follow-ups due; `kehu verify`: record or list verification (核实)."""
from __future__ import annotations

from kehu.models import timeline, verify
from kehu.models.i18n import tr
from kehu.models.store import NotFound


def register(sub) -> None:
    parser = sub.add_parser("due", help=tr("due.cli_help"))
    parser.add_argument("--bucket", choices=timeline.BUCKETS, action="append",
                        help=tr("due.opt_bucket"))
    parser.add_argument("--limit", type=int, default=50, metavar="N", help=tr("due.opt_limit"))
    parser.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    parser.set_defaults(func=run_due)

    parser = sub.add_parser("verify", help=tr("verify.cli_help"))
    parser.add_argument("customer", type=int, nargs="?", metavar="ID", help=tr("verify.opt_id"))
    parser.add_argument("--kind", action="append", metavar="KIND", help=tr("verify.opt_kind"))
    parser.add_argument("--due", action="store_true", help=tr("verify.opt_due"))
    parser.add_argument("--limit", type=int, default=50, metavar="N", help=tr("due.opt_limit"))
    parser.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    parser.set_defaults(func=run_verify)


def run_due(args, ctx) -> int:
    store = ctx.open_store()
    counts = timeline.follow_up_counts(store)
    if args.json:
        ctx.print_json({bucket: {"count": counts[bucket], "items": [
            {"date": f"{row.next_follow_up:%Y-%m-%d}",
             "customer_id": row.customer_id, "customer": row.customer_name, "kind": row.kind,
             "summary": row.summary or ""}
            for row in timeline.follow_ups(store, bucket, limit=args.limit)]}
            for bucket in args.bucket or timeline.BUCKETS})
        return 0
    for bucket in args.bucket or timeline.BUCKETS:
        print(f"{tr('timeline.bucket.' + bucket)} ({counts[bucket]})", file=ctx.out)
        for row in timeline.follow_ups(store, bucket, limit=args.limit):
            item = store.schema.list_item("interaction_kinds", row.kind)
            print(f"  {row.next_follow_up:%Y-%m-%d}  #{row.customer_id} {row.customer_name}  "
                  f"{item.label() if item else row.kind}  {row.summary or ''}".rstrip(),
                  file=ctx.out)
    return 0


def run_verify(args, ctx) -> int:
    try:
        policy = verify.load_policy(ctx.config)
    except verify.PolicyError as exc:
        print(f"kehu: {exc}", file=ctx.err)
        return 2
    store = ctx.open_store()
    if (args.due or args.customer is None) and args.json:
        ctx.print_json({"count": verify.count_due(store, policy), "items": [
            {"id": row.id, "name": row.name, "grade": row.grade, "due": list(row.due),
             "every_days": {k: row.every.get(k) for k in row.due},
             "last_verified": {k: (row.last.get(k) or (None,))[0] for k in row.due}}
            for row in verify.due_for_verification(store, policy, limit=args.limit)]})
        return 0
    if args.due or args.customer is None:
        print(tr("verify.cli_due", count=verify.count_due(store, policy)), file=ctx.out)
        for row in verify.due_for_verification(store, policy, limit=args.limit):
            kinds = ", ".join(policy.get(k).label() for k in row.due)
            print(f"  #{row.id} {row.name}  {kinds}", file=ctx.out)
        return 0
    try:
        kinds = verify.mark_verified(store, args.customer, args.kind, policy=policy)
    except (verify.PolicyError, NotFound) as exc:
        print(f"kehu: {exc}", file=ctx.err)
        return 2
    name = store.get_customer(args.customer).name
    print(tr("due.verified", name=name, kinds=", ".join(policy.get(k).label() for k in kinds)),
          file=ctx.out)
    return 0
