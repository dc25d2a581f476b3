"""`kehu bench [--customers N] [--db URL]`: how fast the customer table's
queries are on a big database (the model layer: what each keystroke, scroll,
jump and sort asks the database for).

It builds a demo database once (``models.demo``; a million customers takes
about half an hour on a 2-core machine) or reuses one, then prints the median
and 95th percentile of each measurement, and for SQLite the time of the very
same SQL run through a bare ``sqlite3`` connection (``raw``) — the cost kehu
adds on top is the ratio.
"""
from __future__ import annotations

import resource
import sqlite3
import statistics
import time
from pathlib import Path

from kehu.models.config import data_dir
from kehu.models.db import redact, sqlite_path
from kehu.models.i18n import tr
from kehu.models.results import ResultSet

PAGE = 50
#: What a user types, one keystroke at a time: (kind, final text).
TYPED = [("latin", "john"), ("pinyin", "zhan"), ("initials", "zs"), ("chinese", "张伟"),
         ("chinese", "星辰"), ("digits", "1380")]
SORTS = [("name", "asc"), ("purchase_total", "desc"), ("acquired_on", "asc"),
         ("region", "asc"), ("notes", "asc")]
GOALS = {"first page": 25.0, "count": 100.0, "scroll page": 5.0, "jump to end": 50.0}


def register(sub) -> None:
    parser = sub.add_parser("bench", help=tr("cmd_bench.help"))
    parser.add_argument("--customers", type=int, default=1_000_000, metavar="N",
                        help=tr("cmd_bench.opt_customers"))
    parser.add_argument("--repeat", type=int, default=15, metavar="R", help=tr("cmd_bench.opt_repeat"))
    parser.add_argument("--db", dest="bench_db", metavar="URL", help=tr("cmd_bench.opt_db"))
    parser.add_argument("--grow", action="store_true", help=tr("cmd_bench.opt_grow"))
    parser.set_defaults(func=run)


def default_bench_url() -> str:
    return "sqlite:///" + str(data_dir() / "kehu-bench.db")


def timed(fn, repeat: int) -> tuple[list[float], object]:
    """Milliseconds of ``repeat`` calls (after one warm-up call), and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


class Report:
    def __init__(self, out):
        self.out, self.rows = out, []

    def add(self, what: str, detail: str, times: list[float], raw: list[float] | None = None,
            goal: float | None = None) -> None:
        med, top = statistics.median(times), p95(times)
        ratio = f"{med / max(statistics.median(raw), 1e-6):5.1f}x" if raw else "     "
        mark = "" if goal is None else (" ok" if top <= goal else f" >{goal:g}")
        line = f"{what:<13} {detail:<28} {med:8.2f} {top:8.2f} {ratio}{mark}"
        self.rows.append(line)
        print(line, file=self.out, flush=True)

    def header(self) -> None:
        print(f"{tr('cmd_bench.header'):<13} {'':<28} {'median':>8} {'p95':>8} vs raw  (ms)",
              file=self.out)


def ensure_data(store, customers: int, out, url: str, grow: bool = False) -> int:
    """Make sure the database has ``customers`` rows, adding demo customers only to a
    database this benchmark created (empty when first seen) or when ``grow`` is set:
    a user's real database is measured as it is, never written to."""
    have = store.count_customers()
    if have >= customers:
        print(tr("cmd_bench.reusing", url=redact(url), count=have), file=out)
        return have
    if have == 0:
        store.set_meta("bench_created", True)
    elif not (grow or store.get_meta("bench_created")):
        print(tr("cmd_bench.not_growing", url=redact(url), count=have, wanted=customers), file=out)
        return have
    from kehu.models import search
    from kehu.models.demo import generate

    print(tr("cmd_bench.building", url=redact(url), count=customers - have), file=out, flush=True)
    with search.bulk_loading(store):
        generate(store, customers - have, seed=0)
    return store.count_customers()


def raw_runner(store):
    """The same SQL through a bare sqlite3 connection (None on PostgreSQL)."""
    path = sqlite_path(store.url or "")
    if store.is_postgres or path is None:
        return None
    conn = sqlite3.connect(str(path))

    def run_sql(query) -> list:
        sql, params = query.sql()
        return conn.execute(sql, params).fetchall()
    return run_sql


def run(args, ctx) -> int:
    out = ctx.out
    if args.bench_db:
        args.db = args.bench_db
    elif not args.db:
        args.db = default_bench_url()
        Path(sqlite_path(args.db)).parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store = ctx.open_store()
    opened_ms = (time.perf_counter() - started) * 1000
    total = ensure_data(store, args.customers, out, ctx.db_url, grow=args.grow)
    raw = raw_runner(store)
    repeat = max(3, args.repeat)
    report = Report(out)
    print(f"{total:,} customers · {redact(ctx.db_url)}", file=out)
    report.header()

    start = time.perf_counter()
    ResultSet(store, "").page(0, PAGE)
    report.add("cold start", "open store + first page", [opened_ms + (time.perf_counter() - start) * 1000])

    # keystrokes: every prefix of what is typed, first page then count
    for kind, text in TYPED:
        for n in range(1, len(text) + 1):
            typed = text[:n]
            rs_query = ResultSet(store, typed)
            times, _ = timed(lambda: ResultSet(store, typed).page(0, PAGE), repeat)
            raw_times = timed(lambda: raw(rs_query.select().limit(PAGE)), repeat)[0] if raw else None
            report.add("first page", f"{kind} '{typed}'", times, raw_times, GOALS["first page"])
        for n in range(1, len(text) + 1):
            typed = text[:n]
            times, count = timed(lambda: ResultSet(store, typed).count(), repeat)
            goal = GOALS["count"] if len(typed) >= 2 else None
            report.add("count", f"{kind} '{typed}' ({count:,})", times, None, goal)

    # scrolling and jumping on the whole table, sorted by name
    rs = ResultSet(store, "", sort=[("name", "asc")])
    count = rs.count()
    offsets = iter(range(0, 10**9, PAGE))
    times, _ = timed(lambda: rs.page(next(offsets) % 5000, PAGE), repeat)
    report.add("scroll page", "OFFSET, first 5000 rows", times, None, GOALS["scroll page"])
    last = max(0, count - PAGE)
    times, _ = timed(lambda: rs.page(last, PAGE), repeat)
    raw_times = timed(lambda: raw(rs.select().offset(last).limit(PAGE)), repeat)[0] if raw else None
    report.add("jump to end", "OFFSET", times, raw_times, GOALS["jump to end"])
    times, _ = timed(lambda: ResultSet(store, "", sort=[("name", "asc")]).snapshot(), 3)
    report.add("id snapshot", f"{count:,} ids, once", times)
    rs.snapshot()
    times, _ = timed(lambda: rs.page(last, PAGE), repeat)
    report.add("jump to end", "with the id snapshot", times, None, GOALS["jump to end"])
    offsets = iter(range(0, 10**9, 997 * PAGE))
    times, _ = timed(lambda: rs.page(next(offsets) % max(1, count), PAGE), repeat)
    report.add("scroll page", "snapshot, anywhere", times, None, GOALS["scroll page"])

    # sort changes: first page of the whole table, then with a typed word
    for key, direction in SORTS:
        for typed in ("", "zh"):
            sort = [(key, direction)]
            rs_sort = ResultSet(store, typed, sort=sort)
            flag = " (no index)" if rs_sort.slow_sort else ""
            times, _ = timed(lambda: ResultSet(store, typed, sort=sort).page(0, PAGE),
                             max(3, repeat // 3))
            raw_times = (timed(lambda: raw(rs_sort.select().limit(PAGE)), max(3, repeat // 3))[0]
                         if raw else None)
            label = f"{key} {direction}" + (f" '{typed}'" if typed else "") + flag
            report.add("sort change", label, times, raw_times, GOALS["first page"])

    times, _ = timed(lambda: ResultSet(store, "").sums(), 3)
    report.add("sums", "money fields, all rows", times)
    times, _ = timed(lambda: ResultSet(store, "", sort=[("region", "asc")]).groups("region"), 3)
    report.add("groups", "by region, count + sums", times)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS {rss:.0f} MiB (includes the mmap-free SQLite page cache)", file=out)
    return 0
