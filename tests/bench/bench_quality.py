"""Data quality and satisfaction at scale: how long each list takes.

    kehu --db sqlite:////tmp/big.db demo --customers 1000000      # ~10 min, then
    python tests/bench/bench_quality.py sqlite:////tmp/big.db [--runs 3] [--scan]

Times (best and median of ``--runs``): opening the database the first time with
this version (adds interaction.score, builds the completeness index), the
completeness per important field (one scan of the customers), ``completeness<50``
counted and its first page (from the expression index), the same expression
without the index (what the index saves), verification overdue per kind, the
whole ``quality`` report, the satisfaction report, and with ``--scan`` the check
of every stored value against the schema's rules (customers per second).
"""
from __future__ import annotations

import argparse
import datetime as dt
import time

from kehu.models import quality, reports
from kehu.models.results import ResultSet
from kehu.models.store import Store
from timing import timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--scan", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    store = Store.open(args.url, user="bench")
    print(f"open (migration: score column, completeness index): "
          f"{time.perf_counter() - start:.2f} s")
    print(f"customers: {store.count_customers():,}")
    everyone = reports.scope(store)
    today = dt.date.today()

    def show(what: str, fn) -> object:
        best, median, result = timed(fn, args.runs)
        print(f"{what:48s} best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms")
        return result

    show("completeness per important field (report)", lambda: quality.field_counts(store, everyone))
    n = show("completeness<50: count", lambda: ResultSet(store, "completeness<50").count())
    print(f"  → {n:,} customers")
    show("completeness<50: first page of 100", lambda: ResultSet(store, "completeness<50")
         .page(0, 100))
    sql = quality.completeness_sql(store.schema)
    show("the same count without the index", lambda: store.db.execute_sql(
        f"SELECT COUNT(*) FROM customer NOT INDEXED WHERE {sql} < 50" if not store.is_postgres
        else f"SELECT COUNT(*) FROM customer WHERE {sql} + 0 < 50").fetchone())
    show("verify:credit count", lambda: ResultSet(store, "verify:credit").count())
    show("quality report (all lines)", lambda: reports.run(store, "quality", everyone,
                                                           today=today))
    show("satisfaction report (12 months)", lambda: reports.run(store, "satisfaction", everyone,
                                                                today=today))
    if args.scan:
        start = time.perf_counter()
        counts = quality.scan(store)
        seconds = time.perf_counter() - start
        rate = store.count_customers() / seconds if seconds else 0
        print(f"scan of every stored value: {seconds:.1f} s ({rate:,.0f} customers/s); "
              f"invalid: {counts}")
    store.close()


if __name__ == "__main__":
    main()
