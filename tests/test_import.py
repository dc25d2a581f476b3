"""Importing the spreadsheets users keep today (CSV in any Chinese encoding, XLSX,
Google Contacts and Outlook exports), with a report of rejected rows, update-by
and revert. Fixture files are written by the tests themselves."""
import csv
import datetime as dt
from decimal import Decimal

import openpyxl
import pytest

from kehu.models.importer import (ImportFailed, auto_mapping, list_imports, load_profile,
                                  open_source, revert_import, run_import, save_profile)
from kehu.models.store import Store

CHINESE_SHEET = [
    ["序号", "客户姓名", "单位", "手机号码", "电子邮箱", "客户等级", "所属区域", "开发日期", "备注"],
    ["1", "张三", "北京星辰科技有限公司", "138 0013 8000", "zhangsan@example.com", "A 重点", "华北",
     "2023/3/5", "老客户，年底回访"],
    ["2", "李四", "上海华信", "12345", "not-an-email", "Z", "华东", "2023-02-30", ""],
    ["3", "", "", "", "", "", "", "", ""],
    ["4", "王五", "深圳宏达", "+86 139-0013-9000", "", "B", "华南", "", ""],
    ["5", "", "无名公司", "13700137000", "", "", "", "", ""],
]


def write_csv(path, rows, encoding="utf-8", delimiter=","):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def do_import(store, path, **kw):
    source = open_source(path)
    mapping = auto_mapping(store.schema, source, overrides=kw.pop("overrides", None))
    return run_import(store, source, mapping, **kw)


def names(store):
    return sorted(c.name for c in store.customers())


def test_gbk_csv_from_a_chinese_spreadsheet(store, tmp_path):
    path = write_csv(tmp_path / "客户.csv", CHINESE_SHEET, encoding="gbk")
    source = open_source(path)
    assert source.encoding == "gbk"
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header() == {
        "序号": None, "客户姓名": "name", "单位": "company", "手机号码": "mobile",
        "电子邮箱": "email", "客户等级": "grade", "所属区域": "region", "开发日期": "acquired_on",
        "备注": "notes"}
    result = run_import(store, source, mapping)
    assert (result.created, result.rejected, result.empty) == (2, 2, 1)
    zhang = store.customers().where(store.Customer.name == "张三").get()
    assert zhang.mobile == "+8613800138000"
    assert zhang.grade == "A" and zhang.region == "华北"
    assert zhang.acquired_on == dt.date(2023, 3, 5)
    assert zhang.notes == "老客户，年底回访"
    assert zhang.customer_type == "person" and zhang.stage == "lead"  # schema defaults
    assert names(store) == ["张三", "王五"]


def test_rejected_rows_are_in_the_report_with_row_field_and_reason(store, tmp_path):
    path = write_csv(tmp_path / "客户.csv", CHINESE_SHEET, encoding="gbk")
    result = do_import(store, path, report_path=tmp_path / "report.csv")
    with open(result.report, encoding="utf-8-sig", newline="") as fh:
        report = list(csv.reader(fh))
    # the rejected rows as they were, under the original header, the reason in front
    assert report[0] == ["Why not imported", "Original row", *CHINESE_SHEET[0]]
    assert [r[1:] for r in report[1:]] == [["3", *CHINESE_SHEET[2]], ["6", *CHINESE_SHEET[5]]]
    reasons = {r[1]: r[0].split("; ") for r in report[1:]}
    # (grade Z is no choice: listed, and no reason to reject a row — import_values)
    assert [r.split(":")[0] for r in reasons["3"]] == ["Mobile", "Email", "Acquired"]
    assert "12345" in reasons["3"][0]
    assert reasons["6"] == ["Name: is required"]
    assert [(u.label, u.value, u.rows) for u in result.unmatched] == [("Grade", "Z", [3])]
    # every row is accounted for: created + rejected + empty
    assert result.rows == result.created + result.rejected + result.empty == 5


def test_gb18030_utf8_bom_and_semicolons_are_detected(store, tmp_path):
    rows = [["姓名", "手机"], ["王𠮷", "13800138000"]]  # 𠮷 is not in GBK
    path = write_csv(tmp_path / "a.csv", rows, encoding="gb18030")
    assert open_source(path).encoding == "gb18030"
    bom = write_csv(tmp_path / "b.csv", [["Name", "Mobile"], ["Zoë", "13900139000"]],
                    encoding="utf-8-sig", delimiter=";")
    source = open_source(bom)
    assert (source.encoding, source.delimiter, source.headers) == ("utf-8-sig", ";",
                                                                   ["Name", "Mobile"])
    do_import(store, path)
    do_import(store, bom)
    assert names(store) == ["Zoë", "王𠮷"]


GOOGLE_HEADERS = ["First Name", "Middle Name", "Last Name", "Nickname", "File As",
                  "Organization Name", "Organization Title", "Organization Department", "Birthday",
                  "Notes", "Labels", "E-mail 1 - Label", "E-mail 1 - Value", "Phone 1 - Label",
                  "Phone 1 - Value", "Phone 2 - Label", "Phone 2 - Value", "Address 1 - Formatted",
                  "Address 1 - City", "Website 1 - Label", "Website 1 - Value"]


def test_google_contacts_csv(store, tmp_path):
    rows = [GOOGLE_HEADERS,
            ["Ada", "", "Lovelace", "", "", "Analytical Engines Ltd", "CTO", "R&D", "1815-12-10",
             "met at expo", "* myContacts ::: VIP", "Work", "ada@example.com ::: ada@home.org",
             "Mobile", "+44 7911 123456", "Work", "+86 10 6552 9988", "1 Main St", "London",
             "", "engines.example.com"],
            ["三", "", "张", "", "", "星辰科技", "", "", "", "", "* myContacts", "", "", "Mobile",
             "13800138000", "", "", "", "北京", "", ""]]
    path = write_csv(tmp_path / "contacts.csv", rows)
    source = open_source(path)
    assert source.format == "google_contacts"
    assert source.format_label == "Google Contacts CSV"
    result = do_import(store, path)
    assert (result.created, result.rejected) == (2, 0)
    ada = store.customers().where(store.Customer.name == "Ada Lovelace").get()
    assert (ada.company, ada.title, ada.department) == ("Analytical Engines Ltd", "CTO", "R&D")
    assert ada.email == "ada@example.com"  # the first of several
    assert ada.mobile == "+447911123456" and ada.phone == "+861065529988"
    assert ada.birthday == dt.date(1815, 12, 10)
    assert ada.tags == "VIP"  # Google's own "* myContacts" group is not a tag
    assert ada.city == "London" and ada.website == "https://engines.example.com"
    zhang = store.customers().where(store.Customer.mobile == "+8613800138000").get()
    assert zhang.name == "张三"  # family name first, no space
    assert zhang.tags is None


def test_outlook_csv(store, tmp_path):
    headers = ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company",
               "Department", "Job Title", "Business Street", "Business City", "Business Phone",
               "Mobile Phone", "E-mail Address", "Birthday", "Notes", "Web Page", "Categories"]
    rows = [headers, ["Mr.", "John", "Q", "Smith", "", "Acme", "Sales", "Buyer", "5 Road",
                      "Shanghai", "021-5555 1234", "13912345678", "john@acme.com", "5/17/1980",
                      "", "", "Key;Partner"],
            ["", "Mary", "", "Jones", "", "Acme", "", "", "", "", "", "", "", "0/0/00", "", "", ""]]
    path = write_csv(tmp_path / "outlook.csv", rows)
    source = open_source(path)
    assert source.format == "outlook"
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header()["Title"] is None  # "Mr." is not a job title
    assert mapping.by_header()["Job Title"] == "title"
    result = run_import(store, source, mapping)
    assert (result.created, result.rejected) == (2, 0)
    john = store.customers().where(store.Customer.name == "John Q Smith").get()
    assert (john.title, john.phone, john.mobile) == ("Buyer", "+862155551234", "+8613912345678")
    assert john.birthday == dt.date(1980, 5, 17)
    assert john.tags == "Key,Partner"
    mary = store.customers().where(store.Customer.name == "Mary Jones").get()
    assert mary.birthday is None


def test_xlsx_import(store, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户"
    ws.append([])  # a blank first row, as sheets often have
    ws.append(["Name", "Company", "Mobile", "Registered capital", "Acquired", "Marketing opt-in",
               "Stage", "Headcount"])
    ws.append(["Acme Trading", "Acme", 13800138000, 1500000.5, dt.datetime(2022, 7, 1), "是",
               "成长期", 120])
    ws.append(["Bad Row", "X", 12, "lots", "yesterday", "maybe", "unknown", 1.5])
    wb.save(tmp_path / "sheet.xlsx")
    source = open_source(tmp_path / "sheet.xlsx")
    assert (source.kind, source.sheet, source.estimated_rows) == ("xlsx", "客户", 2)
    result = do_import(store, tmp_path / "sheet.xlsx")
    assert (result.created, result.rejected) == (1, 1)
    row = store.customers().get()
    assert row.mobile == "+8613800138000"  # typed as a number in Excel
    assert row.registered_capital == Decimal("1500000.50")
    assert row.acquired_on == dt.date(2022, 7, 1)
    assert row.marketing_opt_in is True and row.stage == "growth" and row.headcount == 120
    assert {p.field for p in result.problems} == {
        "Mobile", "Registered capital", "Acquired", "Marketing opt-in", "Headcount"}
    assert all(p.row == 4 for p in result.problems)
    # a value no choice matches does not reject a row itself: it is listed (import_values)
    assert [(u.label, u.value, u.count) for u in result.unmatched] == [("Stage", "unknown", 1)]


def test_dry_run_writes_nothing_but_counts(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", CHINESE_SHEET, encoding="gbk")
    result = do_import(store, path, dry_run=True)
    assert (result.created, result.rejected, result.batch_id) == (2, 2, None)
    assert store.count_customers() == 0
    assert list_imports(store) == []


def test_reimport_with_update_by_creates_no_duplicates(store, tmp_path):
    first = write_csv(tmp_path / "a.csv", [["姓名", "手机", "公司", "客户等级"],
                                          ["张三", "13800138000", "星辰", "A"],
                                          ["李四", "13900139000", "华信", "B"]])
    do_import(store, first)
    zhang = store.customers().where(store.Customer.name == "张三").get()
    store.update_customer(zhang.id, {"notes": "kept"})
    again = write_csv(tmp_path / "b.csv", [["姓名", "手机", "公司", "客户等级"],
                                          ["张三", "138 0013 8000", "星辰科技", ""],
                                          ["李四", "+86 139 0013 9000", "华信", "B"],
                                          ["王五", "13700137000", "宏达", "C"],
                                          ["王五", "13700137000", "宏达集团", ""]])
    dry = do_import(store, again, update_by="手机", dry_run=True)
    assert (dry.created, dry.updated, dry.unchanged, dry.repeated) == (1, 1, 1, 1)
    result = do_import(store, again, update_by="mobile")
    assert (result.created, result.updated, result.unchanged, result.repeated) == (1, 1, 1, 1)
    assert names(store) == ["张三", "李四", "王五"]
    zhang = store.get_customer(zhang.id)
    assert (zhang.company, zhang.grade, zhang.notes) == ("星辰科技", "A", "kept")  # empty cell keeps
    wang = store.customers().where(store.Customer.name == "王五").get()
    assert (wang.company, wang.grade) == ("宏达集团", "C")
    # reverting the second import puts the old company back and removes 王五
    undo = revert_import(store, result.batch_id)
    assert (undo.deleted, undo.restored) == (1, 1)
    assert names(store) == ["张三", "李四"]
    assert store.get_customer(zhang.id).company == "星辰"
    assert store.get_customer(zhang.id).notes == "kept"


def test_update_by_refuses_to_guess_between_two_customers(store, tmp_path):
    store.create_customer({"name": "A", "mobile": "13800138000"})
    store.create_customer({"name": "B", "mobile": "13800138000"})
    path = write_csv(tmp_path / "a.csv", [["Name", "Mobile"], ["C", "13800138000"]])
    result = do_import(store, path, update_by="mobile")
    assert result.rejected == 1 and "2 customers have this Mobile" in result.problems[0].reason
    assert names(store) == ["A", "B"]


def test_revert_removes_the_import_and_keeps_work_done_since(store, tmp_path):
    store.create_customer({"name": "Before"})
    path = write_csv(tmp_path / "a.csv", [["Name"], ["One"], ["Two"], ["Three"]])
    result = do_import(store, path)
    two = store.customers().where(store.Customer.name == "Two").get()
    store.add_interaction(two.id, "call", summary="called after the import")
    undo = revert_import(store, result.batch_id)
    assert (undo.deleted, undo.hidden) == (2, 1)
    assert names(store) == ["Before"]
    assert store.get_customer(two.id, include_deleted=True).deleted_at is not None  # restorable
    with pytest.raises(ImportFailed, match="already reverted"):
        revert_import(store, result.batch_id)
    with pytest.raises(ImportFailed, match="no import #99"):
        revert_import(store, 99)
    assert list_imports(store)[0].reverted_at is not None


def test_mapping_overrides_profiles_and_missing_required_field(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Kunde", "Handy", "Ort"], ["Müller", "13800138000", "Berlin"]])
    source = open_source(path)
    with pytest.raises(ImportFailed, match="required field Name"):
        run_import(store, source, auto_mapping(store.schema, source))
    with pytest.raises(ImportFailed, match="no field is called 'Town'"):
        auto_mapping(store.schema, source, overrides={"Ort": "Town"})
    with pytest.raises(ImportFailed, match="no column 'Stadt'"):
        auto_mapping(store.schema, source, overrides={"Stadt": "city"})
    mapping = auto_mapping(store.schema, source,
                           overrides={"Kunde": "客户名称", "Handy": "mobile", "Ort": "城市"})
    save_profile("german", mapping)
    again = auto_mapping(store.schema, source, profile=load_profile("german"))
    assert again.by_header() == {"Kunde": "name", "Handy": "mobile", "Ort": "city"}
    run_import(store, source, again)
    assert store.customers().get().city == "Berlin"
    with pytest.raises(ImportFailed, match="no saved mapping called 'nope'"):
        load_profile("nope")


def test_unreadable_files_get_one_clear_sentence(store, tmp_path):
    with pytest.raises(ImportFailed, match="no such file"):
        open_source(tmp_path / "missing.csv")
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ImportFailed, match=r"\.xls"):
        open_source(tmp_path / "old.xls")
    (tmp_path / "fake.xlsx").write_text("not a zip")
    with pytest.raises(ImportFailed, match="not a readable Excel file"):
        open_source(tmp_path / "fake.xlsx")
    (tmp_path / "bin.csv").write_bytes(b"Name\n\xff\xfe\xfd\x80\x81\n")
    with pytest.raises(ImportFailed, match="encoding"):
        open_source(tmp_path / "bin.csv")


def test_migration_adds_the_import_column_to_an_older_database(db_url):
    store = Store.open(db_url)
    store.create_customer({"name": "老客户"})
    store.db.execute_sql('DROP INDEX IF EXISTS "customer_import_batch"')
    store.db.execute_sql('ALTER TABLE "customer" DROP COLUMN "import_batch"')
    store.close()
    store = Store.open(db_url)
    assert "import_batch" in {c.name for c in store.db.get_columns("customer")}
    assert names(store) == ["老客户"]
    assert store.migration.retired == []
    store.close()


def test_kehu_import_command(store, tmp_path, capsys):
    from kehu.tui.cli import main

    path = write_csv(tmp_path / "客户.csv", CHINESE_SHEET, encoding="gbk")
    url = store.url
    store.close()
    assert main(["--db", url, "import", str(path), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "encoding gbk" in out and "→ Mobile" in out
    assert "would create 2" in out and "reject 2" in out
    assert "row 3, Mobile '12345'" in out
    assert main(["--db", url, "import", str(path), "--map", "序号=external_id",
                 "--save-profile", "crm"]) == 0
    out = capsys.readouterr().out
    assert "Import #1" in out and "2 created" in out and "kehu imports revert 1" in out
    assert main(["--db", url, "import", str(path), "--profile", "crm",
                 "--update-by", "external_id"]) == 0
    assert "0 created" in capsys.readouterr().out
    assert main(["--db", url, "imports"]) == 0
    assert "#1" in capsys.readouterr().out
    assert main(["--db", url, "imports", "revert", "1"]) == 0
    assert "2 customers removed" in capsys.readouterr().out
    assert main(["--db", url, "imports", "revert", "1"]) == 2
    assert "already reverted" in capsys.readouterr().err
    assert main(["--db", url, "import", str(tmp_path / "nope.csv")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["--db", url, "import", str(path), "--map", "nonsense"]) == 2
    assert "COLUMN=FIELD" in capsys.readouterr().err


def test_a_big_import_builds_indexes_and_search_afterwards(store, tmp_path, monkeypatch):
    from kehu.models import importer
    from kehu.models.results import ResultSet

    monkeypatch.setattr(importer, "BULK_ROWS", 3)
    before = sorted(i.name for i in store.db.get_indexes("customer"))
    rows = [["姓名", "公司"]] + [[f"客户{i}", "星辰科技"] for i in range(5)] + [["张三", "华信"]]
    do_import(store, write_csv(tmp_path / "big.csv", rows))
    assert sorted(i.name for i in store.db.get_indexes("customer")) == before
    assert [r["name"] for r in ResultSet(store, "zhangsan").page(0, 10)] == ["张三"]
    assert ResultSet(store, "星辰").count() == 5


def test_a_saved_profile_is_found_for_files_with_its_columns(store, tmp_path):
    from kehu.models.importer import matching_profile

    german = write_csv(tmp_path / "kunden.csv", [["Kunde", "Handy", "Ort"], ["Müller", "13800138000", "Berlin"]])
    source = open_source(german)
    assert matching_profile(source) is None
    save_profile("german", auto_mapping(store.schema, source,
                                       overrides={"Kunde": "name", "Handy": "mobile", "Ort": "city"}))
    other = open_source(write_csv(tmp_path / "other.csv", [["Kunde", "Firma"], ["x", "y"]]))
    save_profile("short", auto_mapping(store.schema, other, overrides={"Kunde": "name"}))
    both = open_source(write_csv(tmp_path / "both.csv", [["Firma", "Ort", "Handy", "kunde"], ["y", "z", "", "x"]]))
    # the profile naming the most of the file's columns (any case); none when a column it names is missing
    assert matching_profile(both) == "german"
    assert matching_profile(other) == "short"
    assert matching_profile(source) == "german"
    assert matching_profile(open_source(write_csv(tmp_path / "x.csv", [["Kunde"], ["x"]]))) is None
    with pytest.raises(ImportFailed, match="needs a name"):
        save_profile("  ", auto_mapping(store.schema, source))


def test_text_cells_are_trimmed_and_too_long_ones_rejected(store, tmp_path):
    long_name = "长" * 101
    path = write_csv(tmp_path / "t.csv", [["姓名", "公司"], ["  张三 ", " 星辰 "], [long_name, "x"]])
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    assert [(c.name, c.company) for c in store.customers()] == [("张三", "星辰")]
    assert result.rejected == 1
    assert result.problems[0].reason == "is 101 characters long; at most 100 are allowed"


def test_a_big_import_gives_the_search_index_its_usual_settings_back(sqlite_url, tmp_path, monkeypatch):
    from kehu.models import importer

    store = Store.open(sqlite_url, user="tester")  # FTS5 settings: SQLite only
    monkeypatch.setattr(importer, "BULK_ROWS", 3)
    rows = [["姓名"]] + [[f"客户{i}"] for i in range(5)]
    do_import(store, write_csv(tmp_path / "big.csv", rows))
    settings = dict(store.db.execute_sql("SELECT k, v FROM customer_fts_config").fetchall())
    assert (settings["automerge"], settings["crisismerge"], settings["hashsize"]) == (4, 16, 1048576)


@pytest.mark.parametrize("other_reader", [False, True])
def test_a_first_big_load_writes_past_the_wal_only_when_alone(sqlite_url, tmp_path, monkeypatch, other_reader):
    import sqlite3

    from kehu.models import importer
    from kehu.models.db import sqlite_path

    store = Store.open(sqlite_url, user="tester")
    monkeypatch.setattr(importer, "BULK_ROWS", 3)
    other = sqlite3.connect(sqlite_path(sqlite_url)) if other_reader else None
    if other:
        other.execute("SELECT count(*) FROM customer").fetchone()
    modes = []
    path = write_csv(tmp_path / "big.csv", [["姓名"]] + [[f"客户{i}"] for i in range(5)])
    source = open_source(path)
    run_import(store, source, auto_mapping(store.schema, source),
               progress=lambda done, total: modes.append(
                   store.db.execute_sql("PRAGMA journal_mode").fetchone()[0]))
    # alone: straight into the file; with a second connection open: through the WAL as usual
    assert set(modes) == {"wal" if other_reader else "delete"}
    assert store.db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute_sql("PRAGMA synchronous").fetchone()[0] == 2  # full again (models.db)
    assert store.count_customers() == 5
    if other:
        assert other.execute("SELECT count(*) FROM customer").fetchone()[0] == 5
        other.close()


#: Cells that stopped a whole import with a traceback: each must reject its row only.
NASTY_HEADERS = ["Name", "Registered capital", "Headcount", "Website", "Notes", "Satisfaction"]
NASTY_CELLS = [("Registered capital", "1e30", "out of range"),
               ("Registered capital", "9e999999999", "out of range"),
               ("Headcount", "1e308", "out of range"),
               ("Headcount", "99999999999999999999999", "out of range"),
               ("Headcount", "9223372036854775808", "out of range"),
               ("Website", "http://[bad", "not a web address"),
               ("Satisfaction", "1e40", "out of range")]
CONTROL_CELLS = [("Name", "张\x00三", "control character (U+0000) at character 2"),
                 ("Notes", "red \x1b[31m text", "control character (U+001B) at character 5"),
                 ("Website", "example.com/\x00", "control character (U+0000)")]


def nasty_rows(cells):
    rows = [NASTY_HEADERS, ["好客户", "1000", "12", "example.com", "第一行\n第二行", "9"]]
    for i, (column, value, _) in enumerate(cells):
        row = [f"坏客户{i}", "", "", "", "", ""]
        row[NASTY_HEADERS.index(column)] = value
        rows.append(row)
    rows.append(["Good Two", "-0", "9223372036854775807", "https://a.example", "\tx\ty", "0"])
    return rows


def check_nasty_import(store, result, cells):
    assert (result.created, result.rejected) == (2, len(cells)), result.problems
    reasons = {(p.row, p.field): p.reason for p in result.problems}
    for i, (column, value, reason) in enumerate(cells):
        assert reason in reasons[(i + 3, column)], (value, reasons)
    good = {c.name: c for c in store.customers()}
    assert sorted(good) == ["Good Two", "好客户"]
    assert good["好客户"].notes == "第一行\n第二行"
    assert good["Good Two"].headcount == 2 ** 63 - 1 and good["Good Two"].notes == "x\ty"


def test_bad_cells_in_a_csv_reject_their_row_not_the_import(store, tmp_path):
    cells = NASTY_CELLS + CONTROL_CELLS
    path = write_csv(tmp_path / "nasty.csv", nasty_rows(cells))
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    check_nasty_import(store, result, cells)
    with open(tmp_path / "r.csv", encoding="utf-8-sig", newline="") as fh:
        values = {cell for line in csv.reader(fh) for cell in line}   # the rejected rows
    assert "张<U+0000>三" in values and "red <U+001B>[31m text" in values  # shown, not hidden
    from kehu.models.exporter import export

    assert export(store, tmp_path / "after.xlsx").rows == 2  # nothing stored stops an export


def test_bad_cells_in_an_xlsx_reject_their_row_not_the_import(store, tmp_path):
    wb = openpyxl.Workbook()
    for row in nasty_rows(NASTY_CELLS):
        wb.active.append([float(v) if v in ("1e308", "1e30") else v for v in row])
    wb.save(tmp_path / "nasty.xlsx")
    result = do_import(store, tmp_path / "nasty.xlsx", report_path=tmp_path / "r.csv")
    check_nasty_import(store, result, NASTY_CELLS)


def test_a_csv_cell_quoted_against_formulas_is_imported_without_its_quote(store, tmp_path):
    path = write_csv(tmp_path / "q.csv", [["Name", "Notes", "Phone", "Headcount"],
                                          ["'=HYPERLINK(\"x\")", "''@twice", "'+1 650 253 0000", "'-0"],
                                          ["'plain", "it's", "13800138000", "'12"]])
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    assert (result.created, result.rejected) == (1, 1)
    row = store.customers().get()
    assert (row.name, row.notes, row.phone, row.headcount) == (
        '=HYPERLINK("x")', "'@twice", "+16502530000", 0)
    assert result.problems[0].field == "Headcount"  # '12 is not a quoted formula: a text


def test_an_imported_text_keeps_to_its_pattern_like_the_form(store, tmp_path):
    """Found by the import property: a name of digits only went past the name rule."""
    path = write_csv(tmp_path / "p.csv", [["Name", "City"], ["12345", "北京"], ["张三", "北京"]])
    result = do_import(store, path, report_path=tmp_path / "r.csv")
    assert names(store) == ["张三"]
    assert (result.rejected, result.problems[0].reason) == (
        1, "a name cannot be only digits or symbols")
