"""Import benchmark: `python tests/bench/bench_import.py [ROWS] [DB_URL]`.

Writes a UTF-8 CSV of ROWS realistic customers (default 1,000,000; 5% have a
mobile number that is not allocated and are rejected), imports it with
validation, pinyin search text and the import record, and prints the time.
On SQLite it then measures the floor: the same rows copied by SQLite alone
(no Python) into an empty database with the same search index and indexes.
Goal: 1M rows in ≤ 60 s on SQLite.
"""
import csv
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.store import Store

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志红玉"
CITIES = [("北京", "华北"), ("上海", "华东"), ("广州", "华南"), ("武汉", "华中"), ("成都", "西南")]
COMPANIES = [a + b + "有限公司" for a in ("星辰", "华信", "东方", "宏达", "金桥", "长城")
             for b in ("科技", "贸易", "物流", "机械")]


def write_csv(path: Path, rows: int) -> None:
    rng = random.Random(7)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "公司", "手机", "邮箱", "城市", "区域", "客户等级", "生命周期", "开发日期", "备注"])
        for i in range(rows):
            city, region = rng.choice(CITIES)
            w.writerow([rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
                        rng.choice(COMPANIES), f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                        f"user{i}@example.com", city, region, rng.choice("ABCD"),
                        rng.choice(["潜在", "成长期", "成熟期"]),
                        f"20{rng.randrange(10, 24)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                        "" if i % 3 else "年底回访"])


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    folder = Path(tempfile.mkdtemp(prefix="kehu-bench-"))
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{folder / 'bench.db'}"
    path = folder / "customers.csv"
    t = time.perf_counter()
    write_csv(path, rows)
    print(f"wrote {rows:,} rows in {time.perf_counter() - t:.1f} s")
    store = Store.open(url, user="bench")
    t, cpu = time.perf_counter(), time.process_time()
    source = open_source(path)
    mapping = auto_mapping(store.schema, source)
    result = run_import(store, source, mapping)
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"imported {result.created:,} (rejected {result.rejected:,}) in {seconds:.1f} s "
          f"(CPU {cpu:.1f} s; the rest is waiting for the disk or other processes) "
          f"= {result.created / seconds:,.0f} rows/s")
    if url.startswith("sqlite:///"):
        store.close()
        floor = raw_floor(Path(url[len("sqlite:///"):]))
        print(f"SQLite alone (no Python) loads the same rows in {floor:.1f} s: "
              f"kehu takes {seconds / floor:.1f}x that")


def raw_floor(kehu_db: Path) -> float:
    """Seconds SQLite alone takes to load the imported rows into an empty copy of
    the schema: one INSERT … SELECT, the search index filled, indexes built."""
    raw_path = kehu_db.with_name("raw.db")
    src = sqlite3.connect(kehu_db)
    ddl = src.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
                      "(tbl_name = 'customer' OR name = 'customer_fts')").fetchall()
    src.close()
    db = sqlite3.connect(raw_path, isolation_level=None)
    db.execute("PRAGMA journal_mode = delete")  # as kehu loads a first big import
    db.execute("PRAGMA cache_size = -262144")
    for kind, name, sql in ddl:
        if kind == "table" or name == "customer_fts":
            db.execute(sql)
    db.execute(f"ATTACH '{kehu_db}' AS src")
    t = time.perf_counter()
    db.execute("BEGIN")
    db.execute("INSERT INTO customer SELECT * FROM src.customer")
    db.execute("INSERT INTO customer_fts(rowid, search_text) SELECT id, search_text FROM customer")
    for kind, name, sql in ddl:
        if kind == "index":
            db.execute(sql)
    db.execute("ANALYZE customer")
    db.execute("COMMIT")
    return time.perf_counter() - t


if __name__ == "__main__":
    main()
