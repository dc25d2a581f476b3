"""A big import cleans its rows in worker processes (models/workers.py): the same
customers, rejections and search results as cleaning in one process, a failing
worker stops the import with nothing written, and a machine where no worker
starts still imports."""
import csv

import pytest

from kehu.models import importer, workers
from kehu.models.importer import ImportFailed, auto_mapping, open_source, run_import
from kehu.models.results import ResultSet
from kehu.models.store import Store


def write_rows(path, count):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["姓名", "公司", "手机", "邮箱", "客户等级", "开发日期"])
        for i in range(count):
            bad_phone = i % 97 == 5
            out.writerow([f"张{'三四五'[i % 3]}{i}", "星辰科技有限公司" if i % 2 else "Acme Ltd",
                          "12345" if bad_phone else f"139{i:08d}", f"u{i}@example.com",
                          "ABCD"[i % 4] if i % 50 else "Z", f"2023-{i % 12 + 1:02d}-0{i % 9 + 1}"])
    return path


def snapshot(store):
    rows = store.db.execute_sql(
        'SELECT name, company, mobile, email, grade, acquired_on, search_text FROM "customer" '
        "ORDER BY id").fetchall()
    return [tuple(str(v) for v in r) for r in rows]


def import_with(store, path, workers_setting, monkeypatch, tmp_path, **kw):
    monkeypatch.setenv("KEHU_IMPORT_WORKERS", workers_setting)
    monkeypatch.setattr(importer, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(importer, "WORKER_CHUNK", 50)  # many chunks in flight
    source = open_source(path)
    return run_import(store, source, auto_mapping(store.schema, source),
                      report_path=tmp_path / f"report-{workers_setting}.csv", **kw)


def test_workers_give_what_one_process_gives(tmp_path, monkeypatch):
    path = write_rows(tmp_path / "many.csv", 1200)
    one, two = (Store.open(f"sqlite:///{tmp_path / name}", user="tester") for name in ("1.db", "2.db"))
    alone = import_with(one, path, "0", monkeypatch, tmp_path)
    shared = import_with(two, path, "2", monkeypatch, tmp_path)
    assert (shared.created, shared.rejected) == (alone.created, alone.rejected)
    assert alone.rejected == 13  # bad phones; grade Z keeps its row, the grade left empty
    assert [(u.value, u.count) for u in shared.unmatched] == [(u.value, u.count) for u in alone.unmatched] \
        == [("Z", 24)]
    assert snapshot(two) == snapshot(one)
    report = (tmp_path / "report-2.csv").read_text(encoding="utf-8-sig")
    assert report == (tmp_path / "report-0.csv").read_text(encoding="utf-8-sig")
    assert "12345" in report
    # the rows the workers cleaned are found by the search, pinyin included
    zhang_san = sum(1 for row in snapshot(one) if row[0].startswith("张三"))
    assert 350 < zhang_san < 400
    assert ResultSet(two, "zhangsan").count() == ResultSet(one, "zhangsan").count() == zhang_san
    assert ResultSet(two, "u77").count() == 11  # u77 and u770 … u779 (prefixes)


def test_a_dry_run_with_workers_counts_and_writes_nothing(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "many.csv", 300)
    result = import_with(store, path, "1", monkeypatch, tmp_path, dry_run=True)
    assert result.created == 300 - result.rejected > 0
    assert store.count_customers() == 0


def test_a_failing_worker_stops_the_import_and_nothing_is_written(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "many.csv", 300)
    # the worker's task raises on its second chunk
    monkeypatch.setattr(importer, "WORKER_TASK", "worker_tasks:clean_then_fail")
    with pytest.raises(ImportFailed, match="nothing was imported.*broken on purpose"):
        import_with(store, path, "1", monkeypatch, tmp_path)
    assert store.count_customers() == 0
    assert importer.list_imports(store) == []


def test_no_worker_can_start_the_rows_are_cleaned_here(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "many.csv", 200)

    def cannot_start(*args, **kwargs):
        raise workers.WorkerFailed("no second process on this machine")

    monkeypatch.setattr(importer, "start_workers", cannot_start)
    result = import_with(store, path, "2", monkeypatch, tmp_path)
    assert result.created == store.count_customers() == 200 - result.rejected


def test_a_worker_that_cannot_start_says_why():
    with pytest.raises(workers.WorkerFailed, match="No module named 'no_such_module'"):
        workers.start("no_such_module:f", "builtins:print", (), 1)


def test_ordered_stream_gives_the_shares_back_in_input_order():
    for workers_count in (1, 2, 3):
        pool = workers.start("worker_tasks:squares", "builtins:print", (), workers_count)
        assert list(workers.ordered_stream(pool)) == [i * i for i in range(10)]
    pool = workers.start("worker_tasks:refuse", "builtins:print", (), 2)
    with pytest.raises(workers.WorkerFailed) as failed:
        list(workers.ordered_stream(pool))
    assert (failed.value.kind, failed.value.message) == ("ImportFailed", "row 7 of the file cannot be read")


def test_a_bad_byte_far_into_the_file_names_the_row_with_or_without_workers(store, tmp_path, monkeypatch):
    path = write_rows(tmp_path / "many.csv", 300)
    with open(path, "ab") as fh:
        fh.write("李四,x,13900000000,x@example.com,A,2023-01-01\n".encode("gbk"))
    monkeypatch.setattr(importer, "PARALLEL_ROWS", 10)
    source = open_source(path, encoding="utf-8")  # the user said UTF-8; the last row is GBK
    for setting in ("0", "1"):
        monkeypatch.setenv("KEHU_IMPORT_WORKERS", setting)
        with pytest.raises(ImportFailed, match=r"cannot be read as utf-8 after row [12]\d\d .*nothing was imported"):
            run_import(store, source, auto_mapping(store.schema, source), report_path=tmp_path / "r.csv")
        assert store.count_customers() == 0
