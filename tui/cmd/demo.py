"""`kehu demo [--customers N]`: realistic demo data."""
from __future__ import annotations

import time

from kehu.models.db import redact
from kehu.models.demo import generate
from kehu.models.i18n import tr
from kehu.tui.cmd.progress import progress_bar


def register(sub) -> None:
    parser = sub.add_parser("demo", help=tr("demo.help"))
    parser.add_argument("--customers", type=int, default=2000, metavar="N",
                        help=tr("demo.opt_customers"))
    parser.add_argument("--seed", type=int, default=None, help=tr("demo.opt_seed"))
    parser.set_defaults(func=run)


def run(args, ctx) -> int:
    store = ctx.open_store()
    started = time.perf_counter()
    bar = progress_bar(ctx, tr("demo.generating"))
    try:
        count = generate(store, args.customers, seed=args.seed,
                         progress=lambda done: bar(done, args.customers))
    finally:
        bar.end()
    _score_segments(store)
    seconds = time.perf_counter() - started
    print(tr("demo.done", count=count, seconds=seconds, rate=count / max(seconds, 1e-9),
             url=redact(ctx.db_url)), file=ctx.out)
    return 0


def _score_segments(store) -> None:
    """Demo customers arrive with RFM scores and segments (models.segments)."""
    from kehu.models import segments

    if segments.available(store):
        try:
            segments.recompute(store)
        except segments.SegmentsError:
            pass  # a broken user segments.yaml: `kehu segments check` says what is wrong
