"""Re-importing a sheet finds the customers kehu already has (issue 16): by phone,
e-mail, or name and company; the user skips them (default), updates them, or
creates them anyway; the dry run says how many and which; revert undoes updates."""
import csv

import pytest

from kehu.models.import_dupes import DuplicateChoiceError, check_action
from kehu.models.importer import auto_mapping, list_imports, open_source, revert_import, run_import
from kehu.tui.cli import main

SHEET = [["姓名", "公司", "手机", "电话", "邮箱", "城市"],
         ["张三", "星辰科技", "13800138000", "", "", "北京"],
         ["李四", "华信", "", "", "", "上海"],
         ["王五", "", "", "", "Wang.Wu@Example.com", "广州"],
         ["赵六", "宏达", "", "010-88886666", "", "深圳"]]


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def do_import(store, path, **kw):
    source = open_source(path)
    return run_import(store, source, auto_mapping(store.schema, source), **kw)


def by_name(store):
    return {c.name: c for c in store.customers()}


def test_the_same_file_twice_skips_every_row_and_the_dry_run_says_which(store, tmp_path):
    path = write_csv(tmp_path / "客户.csv", SHEET)
    first = do_import(store, path, on_duplicate="skip")
    assert first.created == 4 and first.duplicates is None   # nothing to match yet
    ids = {n: c.id for n, c in by_name(store).items()}
    dry = do_import(store, path, on_duplicate="skip", dry_run=True)
    assert (dry.created, dry.rejected) == (0, 0)
    d = dry.duplicates
    assert (d.matched, d.skipped, d.ambiguous) == (4, 4, 0)
    assert [(e.row, e.customer_id, e.by) for e in d.examples] == [
        (2, ids["张三"], "Mobile"), (3, ids["李四"], "Name+Company"),
        (4, ids["王五"], "Email"), (5, ids["赵六"], "Phone")]
    assert "row 2 is #%d 张三 · 星辰科技 (same Mobile)" % ids["张三"] in d.example_lines()
    again = do_import(store, path, on_duplicate="skip")
    assert (again.created, again.duplicates.skipped) == (0, 4)
    assert store.count_customers() == 4


def test_a_phone_matches_across_mobile_and_phone_and_email_ignores_case(store, tmp_path):
    store.create_customer({"name": "张三", "phone": "13800138000"})
    store.create_customer({"name": "王五", "email": "wang.wu@example.com"})
    path = write_csv(tmp_path / "a.csv", [["姓名", "手机", "邮箱"], ["张三丰", "138 0013 8000", ""],
                                         ["Wang Wu", "", "WANG.WU@example.com"], ["新人", "13900139000", ""]])
    result = do_import(store, path, on_duplicate="skip")
    assert (result.created, result.duplicates.skipped) == (1, 2)
    assert sorted(by_name(store)) == ["张三", "新人", "王五"]


def test_a_same_name_with_another_mobile_is_another_person(store, tmp_path):
    store.create_customer({"name": "张伟", "mobile": "13800138000"})
    path = write_csv(tmp_path / "a.csv", [["姓名", "手机"], ["张伟", "13900139000"], ["张伟", ""]])
    result = do_import(store, path, on_duplicate="skip")
    # the first 张伟 has another mobile: a new customer; the second says nothing against it
    assert (result.created, result.duplicates.skipped) == (1, 1)


def test_update_fills_and_overwrites_through_the_guarded_path_and_revert_undoes_it(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    do_import(store, path)
    zhang = by_name(store)["张三"]
    store.update_customer(zhang.id, {"city": "天津"}, expected_version=zhang.version)
    changed = [row[:] for row in SHEET]
    changed[1][5] = "北京"                       # city back to 北京 (was edited to 天津)
    changed[2][4] = "lisi@example.com"           # 李四 gains an e-mail
    changed.append(["钱七", "新公司", "13700137000", "", "", "杭州"])
    path2 = write_csv(tmp_path / "b.csv", changed)
    result = do_import(store, path2, on_duplicate="update")
    assert (result.created, result.duplicates.updated) == (1, 4)
    assert result.updated == 2 and result.unchanged == 2
    now = by_name(store)
    assert now["张三"].city == "北京" and now["李四"].email == "lisi@example.com"
    assert now["钱七"].company == "新公司" and store.count_customers() == 5
    history = store.audit.history(now["李四"].id)
    assert any(c.action == "import" for c in history)
    batch = list_imports(store)[0]
    assert (batch.created, batch.updated) == (1, 2)
    undone = revert_import(store, batch.id)
    assert (undone.deleted, undone.restored) == (1, 2)
    back = by_name(store)
    assert back["张三"].city == "天津" and back["李四"].email is None and "钱七" not in back


def test_create_anyway_makes_new_customers_and_counts_them(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    do_import(store, path)
    result = do_import(store, path, on_duplicate="create")
    assert (result.created, result.duplicates.matched, result.duplicates.created) == (4, 4, 4)
    assert store.count_customers() == 8


def test_a_row_matching_two_customers_is_not_updated_and_says_which(store, tmp_path):
    a = store.create_customer({"name": "李四", "company": "华信"}).id
    b = store.create_customer({"name": "李四", "company": "华信"}).id
    path = write_csv(tmp_path / "a.csv", [["姓名", "公司", "城市"], ["李四", "华信", "上海"]])
    result = do_import(store, path, on_duplicate="update", report_path=tmp_path / "r.csv")
    assert (result.created, result.updated, result.rejected) == (0, 0, 1)
    assert f"matches 2 customers (#{a}, #{b})" in result.problems[0].reason
    assert result.problems[0].row == 2
    skip = do_import(store, path, on_duplicate="skip")
    assert (skip.created, skip.duplicates.skipped, skip.duplicates.ambiguous) == (0, 1, 1)


def test_deleted_customers_are_not_matched(store, tmp_path):
    gone = store.create_customer({"name": "张三", "mobile": "13800138000"})
    store.delete_customer(gone.id)
    path = write_csv(tmp_path / "a.csv", [["姓名", "手机"], ["张三", "13800138000"]])
    assert do_import(store, path, on_duplicate="skip").created == 1


def test_many_rows_over_several_chunks(store, tmp_path):
    rows = [["姓名", "手机"]] + [[f"客户{i}", f"138{i:08d}"] for i in range(1200)]
    path = write_csv(tmp_path / "a.csv", rows)
    do_import(store, path, chunk=500)
    rows.append(["新客户", "13999999999"])
    result = do_import(store, write_csv(tmp_path / "b.csv", rows), on_duplicate="skip", chunk=500)
    assert (result.created, result.duplicates.skipped) == (1, 1200)


def test_unknown_action_is_refused():
    assert check_action("update") == "update"
    with pytest.raises(DuplicateChoiceError, match="skip, update, create"):
        check_action("merge")


def test_cli_skips_by_default_and_says_so(db_url, tmp_path, capsys):
    path = write_csv(tmp_path / "客户.csv", SHEET, encoding="gbk")
    argv = ["--db", db_url, "--lang", "en", "import", str(path)]
    assert main(argv) == 0
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "0 created" in out and "4 rows match customers kehu already has: 4 skipped" in out
    assert "row 2 is #" in out and "张三 · 星辰科技 (same Mobile)" in out
    assert main(argv + ["--on-duplicate", "create", "--dry-run"]) == 0
    assert "would create 4" in capsys.readouterr().out
    assert main(["--db", db_url, "--lang", "zh", "import", str(path), "--on-duplicate", "update"]) == 0
    assert "4 行与已有客户相同" in capsys.readouterr().out


@pytest.mark.parametrize("preload", [0, 200_000])
def test_the_same_rows_are_found_with_the_customers_in_memory_or_queried(store, tmp_path, monkeypatch,
                                                                          preload):
    """A big table is queried per chunk (its indexes), a small one read once: the same matches,
    and rows created by this import are not matched by its later rows either way. (Queried,
    an e-mail matches as written or in lower case; in memory, in any case.)"""
    from kehu.models import import_dupes

    monkeypatch.setattr(import_dupes, "PRELOAD", preload)
    loads = []
    monkeypatch.setattr(import_dupes.Finder, "_preload",
                        lambda self, real=import_dupes.Finder._preload: loads.append(1) or real(self))
    for i in range(8):   # more customers than the file has rows
        store.create_customer({"name": f"老{i}", "mobile": f"1370013700{i}"})
    store.create_customer({"name": "王五", "email": "Wang.Wu@Example.com"})
    store.create_customer({"name": "李四", "company": "华信"})
    store.create_customer({"name": "张三", "phone": "13800138000"})
    rows = [["姓名", "公司", "手机", "邮箱"], ["张三丰", "", "13800138000", ""],
            ["Wang", "", "", "Wang.Wu@EXAMPLE.com"], ["李四", "华信", "", ""]]
    rows += [[f"新{i}", "", "13900139000", ""] for i in range(3)]   # one person, three rows
    result = do_import(store, write_csv(tmp_path / "a.csv", rows), on_duplicate="skip", chunk=2)
    assert (result.created, result.duplicates.skipped) == (3, 3)
    assert len(loads) == (0 if preload == 0 else 1)


def test_a_sales_user_is_not_shown_another_owners_customer(sqlite_url, tmp_path):
    """(SQLite: a sales user is a kehu user here; on PostgreSQL users are login roles.)
    The rows are still matched against every customer, so nobody's customer is imported
    twice, but one outside the user's rows is named by its number only."""
    from kehu.models.security import add_user
    from kehu.models.store import Store

    admin = Store.open(sqlite_url, user="admin")
    theirs = admin.create_customer({"name": "张三", "mobile": "13800138000", "owner": "olga",
                                    "company": "星辰"}).id
    mine = admin.create_customer({"name": "李四", "mobile": "13900139000", "owner": "sam"}).id
    add_user(admin, "sam", "sales")
    admin.close()
    sam = Store.open(sqlite_url, user="sam")
    path = write_csv(tmp_path / "a.csv", [["姓名", "手机"], ["张三", "13800138000"], ["李四", "13900139000"]])
    result = do_import(sam, path, on_duplicate="skip", dry_run=True)
    assert result.duplicates.skipped == 2
    lines = result.duplicates.example_lines()
    assert lines[0] == f"row 2 is #{theirs} (a customer outside your rows) (same Mobile)"
    assert lines[1] == f"row 3 is #{mine} 李四 (same Mobile)"
    sam.close()
