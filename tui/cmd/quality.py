"""`kehu quality [--json] [--scan | --no-scan] [--view V] [--query Q] [--today DATE]`
and `kehu satisfaction recompute`.

``kehu quality`` prints the data-quality lists (models/quality.py): each line
with how many customers it holds and the query that lists them (paste it into
the search box, or keep it as a view). Values are checked against the schema's
rules when no check was made yet, or with ``--scan``.
"""
from __future__ import annotations

import datetime as dt
import json

from kehu.models import quality, reports, satisfaction
from kehu.models.i18n import tr
from kehu.tui.cmd.progress import progress_bar


def register(sub) -> None:
    parser = sub.add_parser("quality", help=tr("cli.quality_help"))
    parser.add_argument("--json", action="store_true", help=tr("cli.quality_json"))
    scan = parser.add_mutually_exclusive_group()
    scan.add_argument("--scan", action="store_true", help=tr("cli.quality_scan"))
    scan.add_argument("--no-scan", action="store_true", help=tr("cli.quality_no_scan"))
    parser.add_argument("--view", metavar="V", help=tr("cli.report_view"))
    parser.add_argument("--query", "-q", metavar="Q", default="", help=tr("cli.report_query"))
    parser.add_argument("--today", metavar="YYYY-MM-DD", help=tr("cli.report_today"))
    parser.set_defaults(func=run_quality)

    sat = sub.add_parser("satisfaction", help=tr("cli.satisfaction_help"))
    sat_sub = sat.add_subparsers(dest="satisfaction_command", metavar="ACTION", required=True)
    recompute = sat_sub.add_parser("recompute", help=tr("cli.satisfaction_recompute"))
    recompute.set_defaults(func=run_recompute)


def run_quality(args, ctx) -> int:
    from kehu.tui.cmd.report import _today

    today = _today(ctx, args.today) or dt.date.today()
    store = ctx.open_store()
    scope = reports.scope(store, view=args.view, query=args.query)
    if args.scan or (not args.no_scan and quality.findings_readable(store)
                     and quality.scanned_at(store) is None):
        bar = progress_bar(ctx, tr("cli.quality_scanning"))
        try:
            quality.scan(store, progress=bar)
        finally:
            bar.end()
    if args.json:
        print(json.dumps(quality.as_dict(store, scope, today), ensure_ascii=False, indent=1),
              file=ctx.out)
        return 0
    report = reports.run(store, "quality", scope, today=today)
    print(f"{report.title} · {report.scope} · {today.isoformat()}", file=ctx.out)
    section = None
    for row in report.rows:
        if row["section"] != section:
            section = row["section"]
            print(section, file=ctx.out)
        share = reports.format_value("percent", row["share"])
        line = f"  {row['item']}: {row['customers']:,} ({share})"
        if row["detail"]:
            line += f"  {row['detail']}"
        if row["query"] and row["customers"]:
            line += "  → " + row["query"]
        print(line, file=ctx.out)
    print(tr("cli.quality_total", customers=f"{report.totals['customers']:,}"), file=ctx.out)
    return 0


def run_recompute(args, ctx) -> int:
    store = ctx.open_store()
    opened, changed = satisfaction.recompute(store)
    print(tr("cli.satisfaction_done", opened=opened, changed=changed), file=ctx.out)
    return 0
