"""Reading real office sheets for import (issue 16, models/import_read.py): a title row
above the header (WPS/Excel CSV in GBK or UTF-8, XLSX with a merged title cell), Big5
files with Traditional headers, Excel serial dates, the columns no field takes kept in
the customer's Other columns (``extra``), and the rejected rows written as they were so
that the fixed file imports again. The files are written as the real exporters do."""
import csv
import datetime as dt
import json

import openpyxl
import pytest

from kehu.models import i18n
from kehu.models.import_read import detect_encoding, extra_items
from kehu.models.importer import (ImportFailed, auto_mapping, mapping_summary, open_source,
                                  revert_import, run_import)
from kehu.models.store import Store
from kehu.tui.cli import main

TITLE = "2026年客户信息管理表"
HEADER = ["序号", "客户姓名", "单位", "手机号码", "电子邮箱", "所属区域", "介绍人", "开发日期"]
ROWS = [
    ["1", "张三", "北京星辰科技有限公司", "13800138000", "zhang@example.com", "华北", "王经理",
     "2023-03-05"],
    ["2", "李四", "上海华信", "12345", "li@example.com", "华东", "", "2023-04-01"],
    ["3", "王五", "深圳宏达", "13900139000", "", "华南", "老客户转介", ""],
]


def wps_csv(path, encoding, rows=ROWS, header=HEADER, title=TITLE):
    """As WPS / Excel save a sheet with a title row as CSV: every row as wide as the
    table, the title in the first cell, the blank row as commas."""
    width = len(header)
    lines = [[title] + [""] * (width - 1), [""] * width, header, *rows]
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(lines)
    return path


def titled_xlsx(path, rows, header=HEADER, epoch=None):
    """An Excel sheet as offices make them: a title merged across the table, a blank
    row, the header in row 3."""
    wb = openpyxl.Workbook()
    if epoch is not None:
        wb.epoch = epoch
    ws = wb.active
    ws["A1"] = TITLE
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append([])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def do_import(store, path, **kw):
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    return run_import(store, source, mapping, **kw)


def by_name(store):
    return {c.name: c for c in store.customers()}


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


# --- the header row -----------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8", "utf-8-sig"])
def test_a_wps_csv_with_a_title_row_imports_from_the_header_below_it(store, tmp_path, encoding):
    path = wps_csv(tmp_path / "客户信息.csv", encoding)
    source = open_source(path, schema=store.schema)
    assert source.header_row == 3 and source.titles == [TITLE]
    assert source.headers == HEADER
    result = run_import(store, source, auto_mapping(store.schema, source),
                        report_path=tmp_path / "rejects.csv")
    assert (result.created, result.rejected) == (2, 1)
    people = by_name(store)
    assert set(people) == {"张三", "王五"}
    assert people["张三"].company == "北京星辰科技有限公司"
    assert people["张三"].mobile == "+8613800138000" and people["张三"].region == "华北"
    assert people["张三"].acquired_on == dt.date(2023, 3, 5)
    # the rejected row is reported with its number in the file (row 5: title, blank, header)
    assert result.problems[0].row == 5


def test_an_xlsx_with_a_merged_title_and_excel_serial_dates(store, tmp_path):
    rows = [["1", "张三", "星辰科技", 13800138000, "", "华北", "", 44270],   # General: a number
            ["2", "李四", "华信", 13900139000, "", "华东", "", dt.datetime(2021, 3, 16)],
            ["3", "王五", "宏达", 13700137000, "", "华南", "", 44271.75]]
    path = titled_xlsx(tmp_path / "客户.xlsx", rows)
    source = open_source(path, schema=store.schema)
    assert (source.header_row, source.titles, source.headers) == (3, [TITLE], HEADER)
    result = do_import(store, path)
    assert (result.created, result.rejected) == (3, 0)
    people = by_name(store)
    assert people["张三"].acquired_on == dt.date(2021, 3, 15)
    assert people["李四"].acquired_on == dt.date(2021, 3, 16)
    assert people["王五"].acquired_on == dt.date(2021, 3, 16)   # the time of day dropped
    assert people["张三"].mobile == "+8613800138000"


def test_a_mac_workbook_counts_serial_dates_from_1904(store, tmp_path):
    from openpyxl.utils.datetime import CALENDAR_MAC_1904

    path = titled_xlsx(tmp_path / "mac.xlsx", [["1", "张三", "", "", "", "", "", 42808]],
                       epoch=CALENDAR_MAC_1904)
    do_import(store, path)
    assert by_name(store)["张三"].acquired_on == dt.date(2021, 3, 15)


def test_a_number_too_big_for_a_serial_date_is_rejected_with_its_reason(store, tmp_path):
    path = titled_xlsx(tmp_path / "big.xlsx", [["1", "张三", "", "", "", "", "", 2_000_000]])
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    assert result.rejected == 1 and result.problems[0].field == "Acquired"


def test_the_header_row_can_be_given(store, tmp_path):
    path = wps_csv(tmp_path / "a.csv", "gbk")
    source = open_source(path, header_row=3)
    assert source.headers == HEADER
    # the title row as the header: nothing maps (the user sees why), row 3 again: fine
    wrong = source.with_header_row(1)
    assert wrong.headers[0] == TITLE and wrong.header_row == 1
    assert wrong.with_header_row(3).headers == HEADER
    with pytest.raises(ImportFailed, match="row 2 is empty and cannot be the header"):
        source.with_header_row(2)
    with pytest.raises(ImportFailed, match="row 40 cannot be the header: the file has 6 rows"):
        open_source(path, header_row=40)
    # a header further down than detection looks (25 lines of notes first): given, it is read
    far = tmp_path / "far.csv"
    far.write_text("".join(f"说明第{i}行\n" for i in range(24)) + "\n姓名,手机\n张三,13800138000\n",
                   encoding="utf-8")
    assert open_source(far, header_row=26).headers == ["姓名", "手机"]
    xlsx = titled_xlsx(tmp_path / "a.xlsx", [["1", "张三", "", "", "", "", "", ""]])
    assert open_source(xlsx, header_row=3).headers == HEADER
    assert open_source(xlsx).with_header_row(1).headers[0] == TITLE


def test_a_plain_sheet_still_has_its_header_in_row_1(store, tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("姓名,手机\n张三,13800138000\n", encoding="utf-8")
    source = open_source(path)
    assert (source.header_row, source.titles, source.headers) == (1, [], ["姓名", "手机"])
    # a sheet whose headers are no field's names: the first row of words is the header
    other = tmp_path / "other.csv"
    other.write_text("清单\n\n甲列,乙列,丙列\n1,2,3\n", encoding="utf-8")
    assert open_source(other).headers == ["甲列", "乙列", "丙列"]


def test_kehu_import_with_a_title_row_and_header_row_option(store, tmp_path, capsys):
    path = wps_csv(tmp_path / "客户信息.csv", "gbk")
    url = store.url
    store.close()
    assert main(["--db", url, "import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"Header: row 3, above it: {TITLE}" in out
    assert "would create 2" in out and "reject 1" in out
    assert not list(tmp_path.glob("*rejected*"))   # a dry run writes no file unless asked
    assert main(["--db", url, "import", str(path), "--dry-run", "--rejects",
                 str(tmp_path / "asked.csv")]) == 0
    assert str(tmp_path / "asked.csv") in capsys.readouterr().out
    assert read_csv(tmp_path / "asked.csv")[1][1] == "5"
    assert main(["--db", url, "import", str(path), "--header-row", "1", "--dry-run"]) == 2
    assert "no column goes to the required field" in capsys.readouterr().err
    assert main(["--db", url, "import", str(path), "--header-row", "3"]) == 0
    out = capsys.readouterr().out
    assert "2 created" in out
    rejects = list(tmp_path.glob("客户信息-rejected-*.csv"))
    assert len(rejects) == 1 and str(rejects[0]) in out   # beside the file, and said where


# --- encodings ----------------------------------------------------------------------------

BIG5_HEADER = ["客戶姓名", "單位", "手機號碼", "職位", "備註"]
BIG5_ROWS = [["陳國強", "台北華碩電腦股份有限公司", "13800138000", "總經理", "老客戶"],
             ["林美玲", "高雄港務物流有限公司", "13900139000", "採購經理", "需要回訪"]]


def test_a_big5_file_is_read_as_big5_and_its_traditional_headers_match(store, tmp_path):
    path = tmp_path / "客戶.csv"
    text = "\r\n".join(",".join(r) for r in [BIG5_HEADER, *BIG5_ROWS]) + "\r\n"
    path.write_bytes(text.encode("big5"))
    assert detect_encoding(path) == "big5"
    source = open_source(path, schema=store.schema)
    assert source.encoding == "big5" and source.headers == BIG5_HEADER
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header() == {"客戶姓名": "name", "單位": "company", "手機號碼": "mobile",
                                   "職位": "title", "備註": "notes"}
    result = run_import(store, source, mapping, report_path=tmp_path / "r.csv")
    assert result.created == 2, result.problems
    chen = by_name(store)["陳國強"]   # values are kept as written, only headers are folded
    assert chen.company == "台北華碩電腦股份有限公司" and chen.notes == "老客戶"
    assert chen.title == "總經理"


def test_big5_with_a_title_row_and_gbk_stays_gbk(store, tmp_path):
    path = tmp_path / "big5.csv"
    lines = ["客戶資料表,,,,", ",,,,", ",".join(BIG5_HEADER), *(",".join(r) for r in BIG5_ROWS)]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp950"))
    source = open_source(path, schema=store.schema)
    assert source.encoding in ("big5", "cp950") and source.header_row == 3
    gbk = wps_csv(tmp_path / "gbk.csv", "gbk")
    assert detect_encoding(gbk) == "gbk"


def test_a_western_outlook_export_in_cp1252(store, tmp_path):
    path = tmp_path / "outlook.csv"
    path.write_bytes("Name,Company,Notes\nJosé Müller,Café Zürich,Grüße\n".encode("cp1252"))
    assert detect_encoding(path) == "cp1252"
    do_import(store, path)
    assert by_name(store)["José Müller"].company == "Café Zürich"


def test_an_unknown_encoding_is_one_sentence(store, tmp_path):
    path = tmp_path / "bin.csv"
    path.write_bytes(b"Name\n\xff\xfe\xfd\x80\x81\n")
    with pytest.raises(ImportFailed, match="encoding could not be recognised.*--encoding"):
        open_source(path)


# --- nothing silently dropped: the columns no field takes ---------------------------------------

def test_unmapped_columns_are_kept_in_other_columns(store, tmp_path):
    path = wps_csv(tmp_path / "a.csv", "utf-8")
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    notes = {h: note for h, _label, note in mapping_summary(mapping, store.schema)}
    assert notes["介绍人"] == "no field takes it: kept in Other columns"
    assert notes["序号"] == "no field takes it: kept in Other columns"
    run_import(store, source, mapping, report_path=tmp_path / "r.csv")
    people = by_name(store)
    assert extra_items(people["张三"]) == [("序号", "1"), ("介绍人", "王经理")]
    assert extra_items(people["王五"]) == [("序号", "3"), ("介绍人", "老客户转介")]
    assert json.loads(people["张三"].extra) == {"序号": "1", "介绍人": "王经理"}


def test_skipped_columns_and_skip_unmapped_keep_nothing(store, tmp_path):
    path = wps_csv(tmp_path / "a.csv", "utf-8")
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    mapping.set(HEADER.index("序号"), None, store.schema)   # the wizard's "skip"
    run_import(store, source, mapping, report_path=tmp_path / "r.csv")
    assert extra_items(by_name(store)["张三"]) == [("介绍人", "王经理")]
    url = store.url
    store.close()
    other = wps_csv(tmp_path / "b.csv", "utf-8", rows=[["9", "赵六", "", "", "", "", "某人", ""]])
    assert main(["--db", url, "import", str(other), "--skip-unmapped"]) == 0
    again = Store.open(url)
    try:
        assert again.customers().where(again.Customer.name == "赵六").get().extra is None
    finally:
        again.close()


def test_columns_without_a_header_or_with_a_repeated_one_are_kept_by_letter(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("姓名,备忘,,备忘\n张三,甲,乙,丙\n", encoding="utf-8")
    source = open_source(path)
    mapping = auto_mapping(store.schema, source)
    run_import(store, source, mapping)
    assert extra_items(by_name(store)["张三"]) == [("备忘 (B)", "甲"), ("Column C", "乙"),
                                                   ("备忘 (D)", "丙")]


def test_an_update_adds_its_columns_to_the_kept_ones_and_revert_puts_them_back(store, tmp_path):
    first = tmp_path / "a.csv"
    first.write_text("客户编号,姓名,介绍人\nK1,张三,王经理\n", encoding="utf-8")
    do_import(store, first)
    second = tmp_path / "b.csv"
    second.write_text("客户编号,姓名,介绍人,送礼记录\nK1,张三,李经理,中秋月饼\n", encoding="utf-8")
    result = do_import(store, second, update_by="external_id")
    assert result.updated == 1
    zhang = by_name(store)["张三"]
    assert json.loads(zhang.extra) == {"介绍人": "李经理", "送礼记录": "中秋月饼"}
    revert_import(store, result.batch_id)
    assert json.loads(by_name(store)["张三"].extra) == {"介绍人": "王经理"}


def test_an_older_database_gets_the_extra_column(db_url, tmp_path):
    store = Store.open(db_url)
    store.db.execute_sql('ALTER TABLE "customer" DROP COLUMN "extra"')
    assert "extra" not in {c.name for c in store.db.get_columns("customer")}
    store.close()
    store = Store.open(db_url)
    try:
        assert "extra" in {c.name for c in store.db.get_columns("customer")}
    finally:
        store.close()


# --- the rejected rows, to fix and import again ----------------------------------------------

def test_the_rejects_file_holds_the_original_rows_and_imports_again_once_fixed(store, tmp_path):
    path = wps_csv(tmp_path / "客户信息.csv", "gbk")
    rejects = tmp_path / "rejects.csv"
    result = do_import(store, path, report_path=rejects)
    assert result.rejected == 1
    rows = read_csv(rejects)
    assert rows[0] == ["Why not imported", "Original row", *HEADER]
    assert rows[1][1:] == ["5", *ROWS[1]]
    assert rows[1][0].startswith("Mobile: ") and "12345" in rows[1][0]
    # fixed in a spreadsheet: the number corrected, the two columns of kehu left as they are
    rows[1][2 + HEADER.index("手机号码")] = "13600136000"
    with open(rejects, "w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    source = open_source(rejects, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    assert mapping.fields[:2] == [None, None] and 0 not in mapping.extra_columns
    assert 1 not in mapping.extra_columns
    again = run_import(store, source, mapping, report_path=tmp_path / "r2.csv")
    assert (again.created, again.rejected) == (1, 0)
    li = by_name(store)["李四"]
    assert li.mobile == "+8613600136000"
    assert json.loads(li.extra) == {"序号": "2"}   # the reason and row are not kept


def test_the_rejects_file_speaks_the_users_language(store, tmp_path):
    i18n.set_lang("zh")
    path = wps_csv(tmp_path / "客户信息.csv", "gbk")
    result = do_import(store, path, report_path=tmp_path / "未导入.csv")
    rows = read_csv(result.report)
    assert rows[0][:2] == ["未导入原因", "原行号"]
    assert rows[1][0].startswith("手机：") or rows[1][0].startswith("手机:")


def test_a_dry_run_writes_the_rejects_file_only_when_asked(store, tmp_path):
    path = wps_csv(tmp_path / "客户信息.csv", "gbk")
    result = do_import(store, path, dry_run=True)
    assert result.rejected == 1 and result.report is None
    assert not list(tmp_path.glob("*rejected*"))
    result = do_import(store, path, dry_run=True, report_path=tmp_path / "asked.csv")
    assert result.report == tmp_path / "asked.csv" and len(read_csv(result.report)) == 2


def test_rows_rejected_after_cleaning_are_written_from_the_file(store, tmp_path):
    """An update-by value two customers have: the row is rejected after its cells were
    cleaned; the rejects file still holds the row as it was."""
    store.create_customer({"name": "张三", "external_id": "K1"})
    store.create_customer({"name": "张三二", "external_id": "K1"})
    path = tmp_path / "u.csv"
    path.write_text("客户编号,姓名,介绍人\nK1,张三,王经理\nK2,李四,\n", encoding="utf-8")
    result = do_import(store, path, update_by="external_id", report_path=tmp_path / "r.csv")
    assert result.rejected == 1
    rows = read_csv(tmp_path / "r.csv")
    assert rows[1][1:] == ["2", "K1", "张三", "王经理"] and "#" in rows[1][0]


def test_an_xlsx_rejects_file_keeps_the_cells_as_the_sheet_shows_them(store, tmp_path):
    path = titled_xlsx(tmp_path / "x.xlsx", [[1, "李四", "华信", 12345, "", "华东", "", 44270]])
    do_import(store, path, report_path=tmp_path / "r.csv")
    rows = read_csv(tmp_path / "r.csv")
    assert rows[1][1:] == ["4", "1", "李四", "华信", "12345", "", "华东", "", "44270"]


# --- the kept columns leave with the customers and show on their page ------------------------

def _imported_with_extra(store, tmp_path):
    path = wps_csv(tmp_path / "客户信息.csv", "gbk")
    do_import(store, path, report_path=tmp_path / "r.csv")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_an_export_has_the_kept_columns_and_imports_back_the_same(store, tmp_path, suffix):
    from kehu.models.exporter import export

    _imported_with_extra(store, tmp_path)
    out = tmp_path / f"out{suffix}"
    result = export(store, out)
    if suffix == ".csv":
        rows = read_csv(out)
    else:
        wb = openpyxl.load_workbook(out)
        rows = [["" if v is None else str(v) for v in r] for r in wb.active.iter_rows(values_only=True)]
    assert rows[0][-2:] == ["序号", "介绍人"]
    zhang = next(r for r in rows if "张三" in r)
    assert zhang[-2:] == ["1", "王经理"]
    assert result.rows == 2
    other = Store.open(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        do_import(other, out, report_path=tmp_path / "r2.csv")
        assert json.loads(by_name(other)["张三"].extra) == {"序号": "1", "介绍人": "王经理"}
    finally:
        other.close()


def test_a_view_export_has_only_its_columns(store, tmp_path):
    from kehu.models.exporter import export

    _imported_with_extra(store, tmp_path)
    export(store, tmp_path / "v.csv", columns=["name", "mobile"])
    assert read_csv(tmp_path / "v.csv")[0] == ["Name", "Mobile"]


def test_export_all_carries_kept_columns_and_import_updates_and_leaves_bookkeeping(
        db_url, tmp_path, worker_id):
    """--all: the kept columns travel with the customers, an import's updates with the
    import (revertible in the new database); merges, audit trail, meta and agenda marks
    stay (they are one database's own bookkeeping)."""
    from conftest import pg_url_or_skip
    from kehu.models import dedupe
    from kehu.models.whole_db import TABLES, export_all, import_all

    source = Store.open(db_url, user="tester")
    first = tmp_path / "a.csv"
    first.write_text("客户编号,姓名,介绍人\nK1,张三,王经理\nK2,李四,\nK3,李四,\n", encoding="utf-8")
    do_import(source, first)
    second = tmp_path / "b.csv"
    second.write_text("客户编号,姓名,介绍人\nK1,张三丰,李经理\n", encoding="utf-8")
    assert do_import(source, second, update_by="external_id").updated == 1
    ids = sorted(c.id for c in source.customers() if c.name == "李四")
    dedupe.merge(source, ids[0], ids[1], {})
    export_all(source, tmp_path / "all")
    source.close()
    assert sorted(p.stem for p in (tmp_path / "all").iterdir()) == sorted(TABLES)
    target_url = (pg_url_or_skip(worker_id) if db_url.startswith("sqlite")
                  else f"sqlite:///{tmp_path / 'target.db'}")
    target = Store.open(target_url, user="tester")
    try:
        result = import_all(target, tmp_path / "all")
        assert result.counts["import_changes"] == 1 and result.left_out == []
        zhang = by_name(target)["张三丰"]
        assert json.loads(zhang.extra) == {"介绍人": "李经理"}
        from kehu.models.importer import list_imports

        moved = [b for b in list_imports(target) if b.update_by == "external_id"]
        assert len(moved) == 1
        revert_import(target, moved[0].id)
        zhang = target.get_customer(zhang.id)
        assert zhang.name == "张三" and json.loads(zhang.extra) == {"介绍人": "王经理"}
        assert dedupe.list_merges(target) == []   # merges are the old database's
    finally:
        target.close()


async def test_the_customer_page_shows_the_kept_columns(store, tmp_path):
    from textual.widgets import Static

    from kehu.tui.app import KehuApp
    from kehu.tui.screens.detail import DetailScreen

    _imported_with_extra(store, tmp_path)
    zhang = by_name(store)["张三"]
    plain = store.create_customer({"name": "赵六"})
    app = KehuApp(store)
    async with app.run_test(size=(100, 30)) as pilot:
        app.open_customer(zhang.id)
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        block = app.screen.query_one("#import-extra", Static)
        assert str(block.render()) == "Other columns from import\n序号: 1\n介绍人: 王经理"
        assert block.parent is app.screen.form   # at the end of the form, below the fields
        await pilot.press("escape")
        await pilot.pause()
        app.open_customer(plain.id)
        await pilot.pause()
        assert not app.screen.query("#import-extra")


def test_a_role_that_may_not_see_every_field_gets_no_kept_columns(store, tmp_path):
    """The kept columns hold whatever the file had (an ID number …): a viewer, who sees some
    fields masked, does not see them on the page nor get them in an export."""
    from kehu.models.import_read import export_extra_keys, extra_for
    from kehu.models.results import ResultSet
    from kehu.models.security import add_user

    _imported_with_extra(store, tmp_path)
    zhang = by_name(store)["张三"]
    assert extra_for(store, zhang.id) == [("序号", "1"), ("介绍人", "王经理")]
    add_user(store, "vic", "viewer")
    viewer = Store.open(store.url, user="vic")
    try:
        assert extra_for(viewer, zhang.id) == []
        assert export_extra_keys(viewer, ResultSet(viewer)) == []   # (viewers do not export
        assert export_extra_keys(store, ResultSet(store)) == ["序号", "介绍人"]   # at all today)
    finally:
        viewer.close()


def test_template_rows_with_only_a_running_number_are_empty_not_rejected(store, tmp_path):
    """An office template numbers 100 rows in 序号 and fills a few: the rest are empty rows,
    not customers missing a name (the kept columns alone make no customer)."""
    rows = [ROWS[0]] + [[str(i)] + [""] * (len(HEADER) - 1) for i in range(2, 8)]
    path = wps_csv(tmp_path / "模板.csv", "gbk", rows=rows)
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    assert (result.created, result.rejected, result.empty) == (1, 0, 6)
    assert not (tmp_path / "r.csv").exists()
