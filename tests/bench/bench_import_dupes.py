"""Re-import benchmark: `python tests/bench/bench_import_dupes.py [ROWS] [DB_URL]`.

Writes the CSV of bench_import.py (ROWS customers), imports it into an empty
database, then imports the same file again three times, each time into a copy
of that state: as before duplicate detection (every row created again), with
--on-duplicate skip (every row matched and left out) and with update (every row
matched and compared). Prints the seconds of each and the ratio to the first
import. The customers are read once into memory for the lookups (a table of up to
import_dupes.PRELOAD rows, or smaller than the file); the last two runs import
half the file, first so, then with the customers queried per chunk by indexed IN
queries, as for a table bigger than PRELOAD.
"""
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_import import write_csv  # noqa: E402

from kehu.models.importer import auto_mapping, open_source, run_import  # noqa: E402
from kehu.models.store import Store  # noqa: E402


def timed_import(url: str, path: Path, on_duplicate):
    store = Store.open(url, user="bench")
    t, cpu = time.perf_counter(), time.process_time()
    source = open_source(path)
    result = run_import(store, source, auto_mapping(store.schema, source), on_duplicate=on_duplicate)
    seconds = time.perf_counter() - t
    result.cpu = time.process_time() - cpu   # this process's: the wall time varies with the load
    store.close()
    return seconds, result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    folder = Path(tempfile.mkdtemp(prefix="kehu-bench-dupes-"))
    path = folder / "customers.csv"
    write_csv(path, rows)
    base = folder / "base.db"
    first, result = timed_import(f"sqlite:///{base}", path, None)
    print(f"first import: {result.created:,} created in {first:.1f} s (CPU {result.cpu:.1f} s)")
    from kehu.models import import_dupes

    half = folder / "half.csv"   # a file smaller than the table, as a bigger table would be
    with open(path, encoding="utf-8") as src, open(half, "w", encoding="utf-8") as dst:
        for n, line in enumerate(src):
            if n > rows // 2:
                break
            dst.write(line)
    runs = [(path, None, None), (path, "skip", None), (path, "update", None),
            (half, "skip", None), (half, "skip", 0)]
    for n, (file, action, preload) in enumerate(runs):
        import_dupes.PRELOAD = 200_000 if preload is None else preload
        copy = folder / f"again-{n}.db"
        shutil.copy(base, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(base) + suffix).exists():
                shutil.copy(Path(str(base) + suffix), Path(str(copy) + suffix))
        seconds, result = timed_import(f"sqlite:///{copy}", file, action)
        d = result.duplicates
        how = ("" if file == path else ", half the file") + (
            ", customers queried per chunk" if preload == 0 else "")
        print(f"again{how}, on_duplicate={action}: {seconds:.1f} s ({seconds / first:.2f}x the first; "
              f"CPU {result.cpu:.1f} s); "
              f"created {result.created:,}, updated {result.updated:,}, "
              f"matched {d.matched if d else 0:,}, skipped {d.skipped if d else 0:,}", flush=True)
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
