"""Bulk-change benchmark: `python tests/bench/bench_bulk.py [ROWS] [CHANGED] [DB_PATH]`.

Builds (once, kept at DB_PATH) a SQLite database of ROWS customers (default
1,000,000) with the import benchmark's generator and import, then changes
CHANGED customers (default 100,000) in one bulk change: owner set and a tag
added (search text rebuilt, one audit entry each, journal for undo), checks
the search index finds the new tag, and undoes the change.
Goal: 100,000 customers changed at 1M in ≤ 10 s on SQLite.
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_import import write_csv  # noqa: E402

from kehu.models import bulk  # noqa: E402
from kehu.models.importer import auto_mapping, open_source, run_import  # noqa: E402
from kehu.models.results import ResultSet  # noqa: E402
from kehu.models.store import Store  # noqa: E402


def build(path: Path, rows: int) -> None:
    csv_path = path.with_suffix(".csv")
    t = time.perf_counter()
    write_csv(csv_path, rows)
    store = Store.open(f"sqlite:///{path}", user="bench")
    source = open_source(csv_path)
    result = run_import(store, source, auto_mapping(store.schema, source))
    store.close()
    csv_path.unlink()
    print(f"built {result.created:,} customers in {time.perf_counter() - t:.1f} s")


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    changed = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    path = Path(sys.argv[3]) if len(sys.argv) > 3 else \
        Path(tempfile.mkdtemp(prefix="kehu-bench-")) / "bulk.db"
    if not path.exists():
        build(path, rows)
    store = Store.open(f"sqlite:///{path}", user="bench")
    C = store.Customer
    ids = [r[0] for r in C.select(C.id).where(C.deleted_at.is_null())
           .order_by(C.id).limit(changed).tuples()]
    print(f"{store.count_customers():,} customers; changing {len(ids):,}")
    selection = bulk.Selection(ids=frozenset(ids))
    stamp = int(time.time())
    for label, change in [
        ("owner only (the search text does not change)",
         bulk.Change(set={"owner": f"owner{stamp}"})),
        ("owner and a new tag (the search index rewritten for each)",
         bulk.Change(set={"owner": f"owner{stamp}"}, add_tags=[f"bench{stamp}"])),
    ]:
        t, cpu = time.perf_counter(), time.process_time()
        result = bulk.apply(store, selection, change)
        seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"{label}: {result.changed:,} changed in {seconds:.1f} s (CPU {cpu:.1f} s) "
              f"= {result.changed / seconds:,.0f} customers/s  [goal: 100,000 in ≤ 10 s]")
        t = time.perf_counter()
        found = ResultSet(store, f"owner:owner{stamp}").count()
        if change.add_tags:
            found = ResultSet(store, change.add_tags[0]).count()
        print(f"  found by the new value: {found:,} ({time.perf_counter() - t:.2f} s)")
        assert found == result.changed
        t, cpu = time.perf_counter(), time.process_time()
        undone = bulk.undo(store, result.batch_id)
        print(f"  undo: {undone.restored:,} put back in {time.perf_counter() - t:.1f} s "
              f"(CPU {time.process_time() - cpu:.1f} s)")
    store.close()


if __name__ == "__main__":
    main()
