"""`kehu report [NAME] [--view V] [--query Q] [--csv [FILE] | --json [FILE] | --xlsx FILE]
[--svg FILE]` and `kehu segments recompute|check`.

The same numbers as the reports screen, headless. Without a format the report
prints as a table; ``--svg`` draws the reports screen (100x30) and saves it
as a picture.
"""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from kehu.models.errors import KehuError
from kehu.models import reports, segments
from kehu.models.i18n import tr


def register(sub) -> None:
    parser = sub.add_parser("report", help=tr("cli.report_help"))
    parser.add_argument("name", nargs="?", metavar="NAME", help=tr("cli.report_name"))
    parser.add_argument("--view", metavar="V", help=tr("cli.report_view"))
    parser.add_argument("--query", "-q", metavar="Q", default="", help=tr("cli.report_query"))
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--csv", nargs="?", const="-", metavar="FILE", help=tr("cli.report_csv"))
    fmt.add_argument("--json", nargs="?", const="-", metavar="FILE", help=tr("cli.report_json"))
    fmt.add_argument("--xlsx", metavar="FILE", help=tr("cli.report_xlsx"))
    parser.add_argument("--svg", metavar="FILE", help=tr("cli.report_svg"))
    parser.add_argument("--today", metavar="YYYY-MM-DD", help=tr("cli.report_today"))
    parser.set_defaults(func=run_report)

    seg = sub.add_parser("segments", help=tr("cli.segments_help"))
    seg_sub = seg.add_subparsers(dest="segments_command", metavar="ACTION", required=True)
    recompute = seg_sub.add_parser("recompute", help=tr("cli.segments_recompute"))
    recompute.add_argument("--today", metavar="YYYY-MM-DD", help=tr("cli.report_today"))
    recompute.set_defaults(func=run_recompute)
    check = seg_sub.add_parser("check", help=tr("cli.segments_check"))
    check.set_defaults(func=run_check)


def _fail(ctx, message: str) -> int:
    print(f"kehu: {message}", file=ctx.err)
    return 2


def _today(ctx, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise reports.ReportError(tr("cli.report_bad_date", value=value)) from None


def run_report(args, ctx) -> int:
    if not args.name:
        print(tr("cli.report_list"), file=ctx.out)
        for key in reports.REPORTS:
            print(f"  {key:15s} {reports.title(key)} — {tr('report.help.' + key)}", file=ctx.out)
        return 0
    try:
        today = _today(ctx, args.today)
        key = reports.find(args.name)
        store = ctx.open_store()
        scope = reports.scope(store, view=args.view, query=args.query)
        report = reports.run(store, key, scope, today=today)
    except KehuError as exc:  # ReportError, QueryError, SegmentsError, a bad date
        return _fail(ctx, str(exc))
    if args.csv or args.json or args.xlsx or args.svg:
        _require_export(store)   # a report written to a file is an export (roles.yaml)
    try:
        if args.csv:
            _write_text(args.csv, ctx, report.to_csv)
        elif args.json:
            _write_text(args.json, ctx, lambda fh: fh.write(report.to_json() + "\n"))
        elif args.xlsx:
            report.to_xlsx(args.xlsx)
            print(tr("cli.report_written", title=report.title, path=args.xlsx), file=ctx.err)
        elif not args.svg:
            _print_table(report, ctx)
        if args.svg:
            path = save_svg(store, ctx, key, scope, Path(args.svg), today)
            print(tr("cli.report_written", title=report.title, path=path), file=ctx.out)
    except OSError as exc:
        return _fail(ctx, tr("cli.report_cannot_write", path=exc.filename or "", error=exc.strerror
                             or exc))
    return 0


def _require_export(store) -> None:
    guard = getattr(store, "guard", None)
    if guard is not None:
        guard.require("export")


def _write_text(target: str, ctx, write) -> None:
    if target == "-":
        write(ctx.out)
        return
    # a BOM so that Excel opens Chinese CSV correctly
    encoding = "utf-8-sig" if target.lower().endswith(".csv") else "utf-8"
    with open(target, "w", encoding=encoding, newline="") as fh:
        write(fh)
    print(tr("cli.report_file_written", path=target), file=ctx.err)


def _print_table(report: reports.Report, ctx) -> None:
    from rich.console import Console
    from rich.table import Table

    cells = report.table()
    table = Table(show_lines=False)
    for col, label in zip(report.columns, cells[0]):
        table.add_column(label, justify="right" if col.kind in ("count", "money", "percent", "score")
                         else "left")
    for i, line in enumerate(cells[1:]):
        is_total = report.totals and i == len(cells) - 2
        table.add_row(*line, style="bold" if is_total else None, end_section=(
            bool(report.totals) and i == len(cells) - 3))
    width = 200 if not getattr(ctx.out, "isatty", lambda: False)() else None
    console = Console(file=ctx.out, width=width, highlight=False)
    console.print(report.title, style="bold", markup=False)
    console.print(f"{report.scope} · {report.as_of.isoformat()}", markup=False)
    console.print(table)


def save_svg(store, ctx, key: str, scope, path: Path, today: dt.date | None,
             size: tuple[int, int] = (100, 30)) -> Path:
    """Draw the reports screen headless and save it as an SVG picture."""
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.reports import ReportsScreen

    path = path.resolve()
    path.parent.mkdir(parents=True, exist_ok=True)

    async def draw() -> None:
        app = KehuApp(store, ctx.config, keymap=ctx.args.keymap, theme=ctx.args.theme)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            screen = ReportsScreen(scope, key, today=today)
            await app.push_screen(screen)
            for _ in range(50):
                await app.workers.wait_for_complete()
                await pilot.pause()
                if screen.report is not None and screen.report.key == key:
                    break
            await pilot.pause()
            screen.save_picture(path)

    asyncio.run(draw())
    return path


def run_recompute(args, ctx) -> int:
    try:
        today = _today(ctx, args.today)
        store = ctx.open_store()
        result = segments.recompute(store, today)
    except KehuError as exc:
        return _fail(ctx, str(exc))
    print(tr("cli.segments_done", customers=result.customers, buyers=result.buyers,
             changed=result.changed, seconds=result.seconds), file=ctx.out)
    spec = store.schema["segment"]
    order = [c.value for c in spec.choices]
    for value in sorted(result.segments, key=lambda v: (v is None, order.index(v) if v in order
                                                        else len(order))):
        label = spec.choice_label(value) if value else tr("cli.segments_none")
        print(tr("cli.segments_count", segment=label, count=result.segments[value]), file=ctx.out)
    return 0


def run_check(args, ctx) -> int:
    try:
        cfg = segments.load_config(ctx.load_schema())
    except segments.SegmentsError as exc:
        return _fail(ctx, str(exc))
    print(tr("cli.segments_ok", files=", ".join(cfg.sources)), file=ctx.out)
    for metric, scoring in cfg.scoring.items():
        bounds = f" {[str(b) for b in scoring.bounds]}" if scoring.bounds else ""
        print(f"  {metric}: {scoring.method}{bounds}", file=ctx.out)
    for rule in cfg.segments:
        print(f"  segment {rule.value}: {rule.sql()}", file=ctx.out)
    for rule in cfg.lifecycle:
        print(f"  {cfg.lifecycle_field} {rule.value}: {rule.sql()}", file=ctx.out)
    return 0
