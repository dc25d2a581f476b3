"""The agenda at scale: how long `kehu agenda` / the agenda screen takes to build.

    kehu --db sqlite:////tmp/big.db demo --customers 1000000      # ~10 min, then
    python tests/bench/bench_agenda.py sqlite:////tmp/big.db [--owner NAME] [--runs 5]
                                       [--recompute]

Times, best and median of ``--runs``, ``agenda.build`` for one owner (default
the first owner of the demo, 王磊, about a sixth of the customers) and for
everybody (``*``, a manager's view), and each of its five lists alone.
``--recompute`` first times ``kehu segments recompute`` (which also rebuilds the
purchase rhythm and the last contacts the agenda reads). ``--contact-birthdays``
gives every key contact without one a birthday (the demo makes none), so the
key contacts' birthdays are measured too. The goal (issue 18): the agenda opens
in at most 1 s at 1M customers (the median of ``--runs`` is what is compared).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import time

from kehu.models import agenda, segments
from kehu.models.store import Store
from timing import timed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--owner", default="王磊")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--recompute", action="store_true")
    parser.add_argument("--contact-birthdays", action="store_true")
    args = parser.parse_args()

    store = Store.open(args.url, user=args.owner)
    print("load average (1, 5 min): %.2f %.2f" % os.getloadavg()[:2])
    print(f"customers: {store.count_customers():,}  purchases: "
          f"{store.Interaction.select().where(store.Interaction.kind == 'purchase').count():,}")
    if args.contact_birthdays:
        start = time.perf_counter()
        with store.db.atomic():
            store.db.execute_sql(
                "UPDATE contact SET birthday = date('1950-01-01', '+' || (abs(random()) % 18000) "
                "|| ' days') WHERE key_person AND birthday IS NULL")
        print(f"key contacts given a birthday: {time.perf_counter() - start:.1f} s")
    if args.recompute:
        start = time.perf_counter()
        result = segments.recompute(store)
        print(f"segments recompute (with rhythm and last contact): "
              f"{time.perf_counter() - start:.1f} s ({result.changed:,} changed)")
    R = agenda.agenda_models(store)["Rhythm"]
    print(f"customers with a purchase rhythm: {R.select().count():,}")
    today = dt.date.today()
    cfg = agenda.load_config()
    for owner in (args.owner, "*"):
        best, median, got = timed(lambda: agenda.build(store, today, owner=owner, config=cfg),
                                  args.runs)
        print(f"agenda.build owner={owner}: best {best:.3f} s, median {median:.3f} s  "
              f"[goal ≤ 1 s: {'met' if median <= 1 else 'NOT met'}]  counts {got.counts}")
        who = agenda.resolve_owner(store, owner)
        parts = {
            "followup": lambda: agenda.followups(store, today, who, 50),
            "cadence": lambda: agenda.cadence_calls(store, today, who, 50, cfg),
            "birthday": lambda: agenda.birthdays(store, today, who, 50, cfg.birthday_days),
            "churn": lambda: agenda.churn_warnings(store, today, who, 50, cfg, set()),
            "verify": lambda: agenda.verification_due(store, today, who, 50, set()),
        }
        for name, fn in parts.items():
            best, median, _ = timed(fn, args.runs)
            print(f"    {name:9s} best {best:.3f} s, median {median:.3f} s")
    store.close()


if __name__ == "__main__":
    main()
