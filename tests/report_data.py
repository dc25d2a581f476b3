"""The hand-computed data set of the segment and report tests (see test_segments.py)."""
from __future__ import annotations

import datetime as dt

from kehu.models.store import Store

TODAY = dt.date(2024, 7, 1)

PURCHASES = {
    "A": [(dt.date(2024, 6, 26), 50000), (dt.date(2024, 5, 1), 30000), (dt.date(2024, 3, 1), 20000)],
    "B": [(dt.date(2024, 6, 21), 10000), (dt.date(2024, 6, 1), 10000)],
    "C": [(dt.date(2023, 12, 1), 80000)],
    "D": [(dt.date(2023, m, 1), 5000) for m in (3, 4, 5, 6)],
    "E": [(dt.date(2022, 12, 1), 1000)],
    "H": [(dt.date(2024, 6, 30), 999999)],
}
REGIONS = {"A": "华东", "B": "华东", "C": "华北", "D": "华南", "E": "华南", "F": "华北", "G": "华东",
           "H": "华东"}
GRADES = {"A": "A", "B": "B", "C": "A", "D": "C", "E": "C", "F": "D", "G": "B", "H": "A"}
OWNERS = {"A": "王磊", "B": "王磊", "C": "李娜", "D": "李娜"}


def build(store: Store) -> dict[str, int]:
    """The data set above; returns {name: customer id}."""
    ids = {}
    for name in REGIONS:
        data = {"name": f"客户{name}", "region": REGIONS[name], "grade": GRADES[name]}
        if name in OWNERS:
            data["owner"] = OWNERS[name]
        ids[name] = store.create_customer(data).id
        if name not in OWNERS:  # no owner, whatever the schema's default owner is
            store.update_customer(ids[name], {"owner": None})
    for name, buys in PURCHASES.items():
        for day, amount in buys:
            store.add_interaction(ids[name], "purchase", amount=amount,
                                  occurred_at=dt.datetime.combine(day, dt.time(10, 30)))
    store.delete_customer(ids["H"])
    return ids
