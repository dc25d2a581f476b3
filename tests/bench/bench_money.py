"""Money at scale: how long the three money queries take on a big database.

    python tests/bench/bench_money.py sqlite:////tmp/big.db [--runs 5] [--no-migrate]

Opens the database (timing the open, which on a database made before kehu kept
money in minor units converts its money columns once), then times, best and
median of ``--runs``:

- the sum of every customer's purchases (ResultSet.sums: the summary line),
- the first page of 50 sorted by purchases, largest first (ResultSet.page),
- the count and sum per grade (ResultSet.groups: a grouped view),

each through kehu and as the bare SQL statement. Uses only APIs older kehu
versions have too, so the same script measures the code before a change (run
it with that code on the path). ``kehu demo --customers 1000000`` makes a
database to try it on (about 5 minutes).
"""
from __future__ import annotations

import argparse
import time

from kehu.models.results import ResultSet
from kehu.models.store import Store
from timing import timed

MONEY = "purchase_total"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-migrate", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    store = Store.open(args.url, migrate=not args.no_migrate)
    print(f"open (with any migration): {time.perf_counter() - start:.2f} s")
    db = store.db
    print(f"customers: {store.count_customers():,}  storage: "
          f"{db.execute_sql(f'SELECT typeof({MONEY}), COUNT(*) FROM customer GROUP BY 1').fetchall()}")

    cases = {
        "sum, all rows": lambda: ResultSet(store, "").sums([MONEY]),
        "sort desc, first 50": lambda: [r[MONEY] for r in
                                        ResultSet(store, "", sort=[(MONEY, "desc")]).page(0, 50)],
        "group by grade + sum": lambda: [(g.value, g.count, g.sums[MONEY]) for g in
                                         ResultSet(store, "").groups("grade", sums=[MONEY])],
        "SQL SUM": lambda: db.execute_sql(f"SELECT SUM({MONEY}) FROM customer").fetchall(),
        "SQL ORDER BY LIMIT 50": lambda: db.execute_sql(
            f"SELECT id, {MONEY} FROM customer ORDER BY {MONEY} DESC LIMIT 50").fetchall(),
        "SQL GROUP BY grade, SUM": lambda: db.execute_sql(
            f"SELECT grade, COUNT(*), SUM({MONEY}) FROM customer GROUP BY grade").fetchall(),
    }
    for name, fn in cases.items():
        best, median, result = timed(fn, args.runs)
        shown = repr(result)
        print(f"{name:26s} best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms  "
              f"{shown[:90]}")
    store.close()


if __name__ == "__main__":
    main()
