"""kill -9 trials: what kehu said was saved is there after a crash, and the file is sound.

    python tests/bench/kill_trials.py [--trials 30] [--db URL]

Each trial starts a writer process that creates customers (the same
``Store.create_customer`` the form and ``kehu`` use), updates earlier ones with
their version, and prints the id of every write once it returned — what the
user would have seen as "Saved". The trial kills it with SIGKILL after a random
0.2–1.5 s, reopens the database and checks that every reported write is there
with its value, and (SQLite) that ``PRAGMA integrity_check`` says ok. Prints
one line per trial and a summary: trials, writes confirmed, writes lost,
damaged files.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

WRITER = r"""
import sys
from kehu.models.store import Store
store = Store.open(sys.argv[1], user="killtrial")
n = 0
while True:
    n += 1
    c = store.create_customer({"name": f"kill {sys.argv[2]}-{n}", "notes": f"n={n}"})
    print(f"C {c.id} {n}", flush=True)
    if n % 3 == 0:
        c2 = store.update_customer(c.id, {"notes": f"u={n}"}, expected_version=c.version)
        print(f"U {c.id} {n}", flush=True)
"""


def trial(url: str, number: int, rng: random.Random) -> tuple[int, int, bool]:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, url, str(number)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    time.sleep(rng.uniform(0.8, 2.5))   # start-up (~0.6 s) plus a random stretch of writes
    os.kill(proc.pid, signal.SIGKILL)
    out, _ = proc.communicate()
    from kehu.models.store import Store

    store = Store.open(url, user="killtrial")
    confirmed = lost = 0
    for line in out.splitlines():
        kind, cid, n = line.split()
        row = store.Customer.get_or_none(store.Customer.id == int(cid))
        want = f"n={n}" if kind == "C" else f"u={n}"
        confirmed += 1
        if row is None or (kind == "U" and row.notes != want) or (kind == "C" and row.name != f"kill {number}-{n}"):
            lost += 1
    sound = True
    if not store.is_postgres:
        sound = store.db.execute_sql("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()
    return confirmed, lost, sound


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--db", help="database URL (default: a new SQLite file)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    url = args.db or f"sqlite:///{tempfile.mkdtemp()}/kill.db"
    rng = random.Random(args.seed)
    total = lost = damaged = 0
    for i in range(1, args.trials + 1):
        c, l, ok = trial(url, i, rng)
        total, lost, damaged = total + c, lost + l, damaged + (not ok)
        print(f"trial {i:3d}: {c:4d} writes confirmed, {l} lost, file {'ok' if ok else 'DAMAGED'}",
              flush=True)
    print(f"{args.trials} kills, {total} confirmed writes, {lost} lost, {damaged} damaged files")
    return 1 if lost or damaged else 0


if __name__ == "__main__":
    sys.exit(main())
