"""Bulk-change benchmark: `python tests/bench/bench_bulk.py [ROWS] [CHANGED] [DB_PATH] [RUNS]`.

Builds (once, kept at DB_PATH) a SQLite database of ROWS customers (default
1,000,000) with the import benchmark's generator and import, then changes
CHANGED customers (default 100,000) in one bulk change: owner set and a tag
added (search text rebuilt, one audit entry each, journal for undo), checks
the search index finds exactly the changed rows by the new tag or owner, and
undoes the change (checking the word finds nothing after); RUNS times (default
3), printing each run and the medians.
Goal: 100,000 customers changed at 1M in ≤ 10 s on SQLite.
"""
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_import import write_csv  # noqa: E402

from kehu.models import bulk, search  # noqa: E402
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
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    if not path.exists():
        build(path, rows)
    store = Store.open(f"sqlite:///{path}", user="bench")
    C = store.Customer
    ids = [r[0] for r in C.select(C.id).where(C.deleted_at.is_null())
           .order_by(C.id).limit(changed).tuples()]
    print(f"{store.count_customers():,} customers; changing {len(ids):,}; load average "
          "(1, 5 min) %.2f %.2f" % os.getloadavg()[:2])
    search.run_pinyin("张三")   # pypinyin's dictionaries load once per process (~2 s), not per change
    selection = bulk.Selection(ids=frozenset(ids))
    for label, make in [
        ("owner only (the search text does not change)",
         lambda stamp: bulk.Change(set={"owner": f"owner{stamp}"})),
        ("owner and a new tag (the search index rewritten)",
         lambda stamp: bulk.Change(set={"owner": f"owner{stamp}"}, add_tags=[f"bench{stamp}"])),
    ]:
        applied, undone = [], []
        for run in range(runs):
            stamp = f"{int(time.time())}x{run}"
            change = make(stamp)
            t, cpu = time.perf_counter(), time.process_time()
            result = bulk.apply(store, selection, change)
            applied.append(time.perf_counter() - t)
            cpu = time.process_time() - cpu
            word = change.add_tags[0] if change.add_tags else f"owner:owner{stamp}"
            found = ResultSet(store, word).count()
            assert found == result.changed == len(ids), (found, result.changed)
            t = time.perf_counter()
            back = bulk.undo(store, result.batch_id)
            undone.append(time.perf_counter() - t)
            assert back.restored == len(ids) and ResultSet(store, word).count() == 0
            print(f"  run {run + 1}: change {applied[-1]:.1f} s (CPU {cpu:.1f} s), "
                  f"found by '{word}': {found:,}, undo {undone[-1]:.1f} s", flush=True)
        print(f"{label}: {len(ids):,} customers, median change {statistics.median(applied):.1f} s "
              f"= {len(ids) / statistics.median(applied):,.0f}/s, median undo "
              f"{statistics.median(undone):.1f} s  [goal: 100,000 in ≤ 10 s]", flush=True)
    store.close()


if __name__ == "__main__":
    main()
