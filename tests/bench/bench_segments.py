"""Segmentation and reports benchmark.

    python tests/bench/bench_segments.py DB_URL [--customers 1000000] [--purchases 5000000]

Fills an empty database (or tops up one made by ``kehu demo``) with customers
and purchase entries straight in SQL (seconds, not the demo's minutes), then
times, on that database:

* a full RFM / segment / stage recompute, first run (every buyer changes) and
  a second run (nothing changes);
* one new purchase through ``Store.add_interaction``, which re-scores that
  customer (median of 20);
* every report over all customers.

Goal at 1M customers and 5M purchases: a full recompute in minutes at most,
a purchase in milliseconds.
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

from kehu.models import reports, search, segments
from kehu.models.store import Store

REGIONS = ["华北", "华东", "华南", "华中", "西南", "西北", "东北", "港澳台", "海外"]
OWNERS = ["王磊", "李娜", "张伟", "刘洋", "陈静"]


def _array(values: list[str], index_sql: str, pg: bool) -> str:
    """A SQL expression picking ``values[index]`` (index an integer expression)."""
    whens = " ".join(f"WHEN {i} THEN '{v}'" for i, v in enumerate(values))
    return f"CASE ({index_sql}) {whens} END"


def fill(store: Store, customers: int, purchases: int) -> None:
    db, pg = store.db, store.is_postgres
    have = store.count_customers()
    if have < customers:
        n = customers - have
        t = time.perf_counter()
        if pg:
            seq = f"SELECT g AS i FROM generate_series(1, {n}) g"
            rnd = "floor(random() * 1000000)::int"
            acquired = "(DATE '2024-07-01' - mod(i, 3650))"
        else:
            seq = (f"WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
                   f"SELECT i FROM s")
            rnd = "abs(random() % 1000000)"
            acquired = "date('2024-07-01', '-' || (i % 3650) || ' days')"
        def mod(n: int) -> str:  # psycopg2 reads a bare % as a parameter
            return f"mod({rnd}, {n})" if pg else f"{rnd} % {n}"

        region = _array(REGIONS, mod(len(REGIONS)), pg)
        owner = _array(OWNERS, mod(len(OWNERS)), pg)
        grade = _array(list("ABCD"), mod(4), pg)
        with search.bulk_loading(store), db.atomic():
            db.execute_sql(
                "INSERT INTO customer (name, region, grade, owner, stage, acquired_on, "
                "created_at, updated_at, version) "
                f"SELECT 'Bench ' || i, {region}, {grade}, {owner}, 'lead', {acquired}, "
                f"CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM ({seq}) q")
        print(f"customers: +{n:,} in {time.perf_counter() - t:.1f} s", flush=True)
    lo, hi = db.execute_sql("SELECT MIN(id), MAX(id) FROM customer").fetchone()
    have_p = db.execute_sql("SELECT COUNT(*) FROM interaction WHERE kind = 'purchase'").fetchone()[0]
    if have_p < purchases:
        n = purchases - have_p
        # 60% of the customers buy, ~8 purchases each over ten years
        span = max(1, int((hi - lo + 1) * 0.6))
        t = time.perf_counter()
        if pg:
            seq = f"SELECT g FROM generate_series(1, {n}) g"
            cust = f"{lo} + floor(random() * {span})::int"
            when = "TIMESTAMP '2024-07-01 10:00' - (floor(random() * 3650)::int * INTERVAL '1 day')"
            amount = "500 + floor(random() * 500000)::int"
        else:
            seq = (f"WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) "
                   f"SELECT g FROM s")
            cust = f"{lo} + abs(random() % {span})"
            when = "datetime('2024-07-01 10:00', '-' || abs(random() % 3650) || ' days')"
            amount = "500 + abs(random() % 500000)"
        with db.atomic():
            db.execute_sql(
                "INSERT INTO interaction (customer_id, kind, occurred_at, amount, follow_up_done, "
                "created_at, updated_at, version) "
                f"SELECT {cust}, 'purchase', {when}, {amount}, {'false' if pg else 0}, "
                f"CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1 FROM ({seq}) q")
        print(f"purchases: +{n:,} in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        store.refresh_purchase_totals()
        print(f"purchase totals of every customer: {time.perf_counter() - t:.1f} s", flush=True)
    if pg:
        db.execute_sql("ANALYZE")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=5_000_000)
    args = parser.parse_args(argv)
    store = Store.open(args.url, user="bench")
    fill(store, args.customers, args.purchases)
    n = store.count_customers()
    p = store.db.execute_sql("SELECT COUNT(*) FROM interaction WHERE kind = 'purchase' "
                             "AND deleted_at IS NULL").fetchone()[0]
    print(f"database: {n:,} customers, {p:,} purchases", flush=True)

    for label in ("full recompute (first run)", "full recompute (again)"):
        t = time.perf_counter()
        result = segments.recompute(store, progress=lambda step: None)
        print(f"{label}: {time.perf_counter() - t:.1f} s — {result.buyers:,} buyers, "
              f"{result.changed:,} rows changed", flush=True)

    ids = [r[0] for r in store.db.execute_sql(
        "SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY id LIMIT 20").fetchall()]
    times = []
    for cid in ids:
        t = time.perf_counter()
        store.add_interaction(cid, "purchase", amount=1234, occurred_at=dt.datetime.now())
        times.append(time.perf_counter() - t)
    print(f"one purchase incl. re-scoring: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms", flush=True)

    for key in reports.REPORTS:
        t = time.perf_counter()
        report = reports.run(store, key)
        print(f"report {key:15s} {time.perf_counter() - t:6.2f} s  ({len(report.rows)} rows)",
              flush=True)
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
