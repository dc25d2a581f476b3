"""Workbench benchmark: `python tests/bench/bench_workbench.py DB_URL [--rounds N]`.

Drives the real app headless (Textual's ``run_test``) over an existing
database (make one with `kehu --db URL demo --customers 1000000`) and prints,
from one run:

* start → first paint: ``Store.open`` + app start until the table shows rows
  (plus, separately, the Python import time of the app in a fresh process);
* keystroke → first page rendered, for inputs of 1–4 characters, Latin,
  pinyin, digits and Chinese, typed one character at a time (the previous
  keystroke's count is still running, as when a person types): from setting
  the search box to the table having swapped in the new rows and drawn every
  visible line; median and p95;
* full count after the last keystroke;
* page render: drawing every visible line of a page already fetched;
* scroll a page (PgDn, page not cached) and jump to the end (End, until the
  last rows are drawn); sort change (until the first page is drawn);
* RSS: anonymous memory (file-backed mmap of the database excluded) and VmRSS.

Goals at 1M customers: keystroke p95 ≤ 25 ms, page render p95 ≤ 5 ms,
jump ≤ 50 ms, first paint ≤ 1 s, RSS ≤ 100 MiB.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time

TYPED = ["zs", "zhang", "1380", "张三", "john", "wang", "李", "gz"]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def memory() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) // 1024
    return out


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise TimeoutError("the table did not update in time")
        # not sleep(0): a loop that never sleeps holds the GIL, and the query thread
        # must take it back after every sqlite3_step (a GIL convoy: p95 292 ms → 41 ms)
        await asyncio.sleep(0.001)


async def settle(app) -> None:
    """Wait for the workers running now (a cancelled one is fine: a newer query replaced it)."""
    from textual.worker import WorkerCancelled

    while True:
        try:
            await app.workers.wait_for_complete()
            return
        except WorkerCancelled:
            continue


async def run(url: str, rounds: int) -> None:
    from kehu.models import i18n
    from kehu.models.store import Store
    from kehu.tui.app import KehuApp
    from kehu.tui.widgets.customer_table import CustomerTable

    i18n.set_lang("en")
    started = time.perf_counter()
    store = Store.open(url)
    opened = time.perf_counter()
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        table = None

        def painted() -> bool:
            nonlocal table
            try:
                table = app.screen.query_one(CustomerTable)
            except Exception:  # noqa: BLE001 - screen not mounted yet
                return False
            return table.row_count > 0

        await until(painted)
        draw = lambda: [table.render_line(y) for y in range(table.size.height)]  # noqa: E731
        draw()
        first_paint = time.perf_counter()
        print(f"store open                 {ms(opened - started)}")
        print(f"start → first paint        {ms(first_paint - started)}  (in-process, after imports)")
        await settle(app)
        print(f"customers                  {table.row_count:,}")

        screen = app.screen
        search = screen.query_one("#search")
        keystrokes: dict[int, list[float]] = {1: [], 2: [], 3: [], 4: []}
        counts: list[float] = []
        for _ in range(rounds):
            for word in TYPED:
                for n in range(1, len(word) + 1):
                    shown = table.source
                    t0 = time.perf_counter()
                    search.value = word[:n]
                    await until(lambda: table.source is not shown)
                    draw()
                    keystrokes[min(n, 4)].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await until(lambda: table.count_exact)
                counts.append(time.perf_counter() - t0 + keystrokes[min(len(word), 4)][-1])
                search.value = ""
                await settle(app)
        every = [v for values in keystrokes.values() for v in values]
        print(f"keystroke → first page     median {ms(statistics.median(every))}  "
              f"p95 {ms(p95(every))}  ({len(every)} keystrokes)")
        for n, values in keystrokes.items():
            if values:
                print(f"  {n}{'+' if n == 4 else ' '} chars                 median "
                      f"{ms(statistics.median(values))}  p95 {ms(p95(values))}")
        print(f"full count after typing    median {ms(statistics.median(counts))}  "
              f"p95 {ms(p95(counts))}")

        await settle(app)
        table.focus()
        renders, cpu = [], []
        for _ in range(50):
            table._lines.clear()
            t0, c0 = time.perf_counter(), time.thread_time()
            draw()
            renders.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)
        print(f"page render (cached page)  median {ms(statistics.median(renders))}  "
              f"p95 {ms(p95(renders))}  (CPU median {ms(statistics.median(cpu))})")

        scrolls = []
        for _ in range(10):
            target = table.cursor_row + table.body_height
            t0 = time.perf_counter()
            await pilot.press("pagedown")
            await until(lambda: table.row_at(min(target, table.display_rows - 1)) is not None)
            draw()
            scrolls.append(time.perf_counter() - t0)
        print(f"page down                  median {ms(statistics.median(scrolls))}  "
              f"p95 {ms(p95(scrolls))}")

        t0 = time.perf_counter()
        await pilot.press("end")
        last = table.display_rows - 1
        await until(lambda: table.row_at(last) is not None)
        draw()
        print(f"jump to end                {ms(time.perf_counter() - t0)}")
        await pilot.press("home")
        await settle(app)

        for sort in ([("name", "asc")], [("purchase_total", "desc")], [("acquired_on", "asc")]):
            shown = table.source
            t0 = time.perf_counter()
            screen._sort_chosen(sort)
            await until(lambda: table.source is not shown)
            draw()
            print(f"sort by {sort[0][0]:<18} {ms(time.perf_counter() - t0)}")
            await settle(app)

        mem = memory()
        print(f"RSS anon {mem.get('RssAnon')} MiB (mmap/file excluded); VmRSS {mem.get('VmRSS')} "
              f"MiB; peak {mem.get('VmHWM')} MiB")
    store.close()


def import_time() -> float:
    code = "import time; t=time.perf_counter(); import kehu.tui.app, kehu.tui.screens.workbench; " \
           "print(time.perf_counter()-t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"python imports (fresh)     {ms(import_time())}")
    asyncio.run(run(args.url, args.rounds))


if __name__ == "__main__":
    main()
