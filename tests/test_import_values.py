"""Values of an import that used to reject a whole row (issue 16): lenient choices and the
user's decisions on the rest, dates, phones, yes/no, year-less birthdays; contacts and
opening purchases from a company sheet; Google legacy and Outlook contacts files.
The files are written here as WPS, Google and Outlook write them."""
import csv
import datetime as dt
import json
from decimal import Decimal

import pytest
import yaml

from kehu.models import i18n, import_values as iv
from kehu.models import validate
from kehu.models.config import user_schema_path
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.schema import SchemaError, load_default_schema, parse_schema
from kehu.models.store import Store
from kehu.tui.cli import main


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def do_import(store, path, values=None, **kw):
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    return run_import(store, source, mapping, values=values, **kw)


def customer(store, name):
    return store.customers().where(store.Customer.name == name).get()


# --- choices ----------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("制造业", "manufacturing"), ("制造", "manufacturing"),          # a prefix
    ("製造業", "manufacturing"),                                     # Traditional
    ("制造业（机械）", "manufacturing"),                              # the choice, then more
    ("ＭＡＮＵＦＡＣＴＵＲＩＮＧ", "manufacturing"), ("manu", "manufacturing"),  # width, case
    ("zhizaoye", "manufacturing"), ("zzy", "manufacturing"),        # pinyin, initials
    ("银行", "finance"), ("互联网", "it"), ("其它", "other"),          # synonyms (schema)
    ("农业/传媒", None), ("农业", None), ("x", None),
])
def test_choices_match_leniently(text, value):
    assert iv.match_choice(load_default_schema()["industry"], text) == value


def test_a_prefix_of_two_choices_matches_neither():
    spec = load_default_schema()["region"]   # 华北 华东 华南 华中
    assert iv.match_choice(spec, "华") is None
    assert iv.match_choice(spec, "华东") == "华东"


def test_synonyms_are_checked_in_the_schema(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("extends: default\nfields:\n  - key: grade\n    choices:\n"
                    "      - {value: A, synonyms: [重点, VIP]}\n      - {value: B, synonyms: [VIP]}\n",
                    encoding="utf-8")
    with pytest.raises(SchemaError, match="VIP.*already names choice 'A'"):
        parse_schema(path)
    path.write_text("extends: default\nfields:\n  - key: grade\n    choices:\n"
                    "      - {value: A, synonyms: 重点}\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="synonyms of choice 'A'"):
        parse_schema(path)
    path.write_text("extends: default\nfields:\n  - key: grade\n    choices:\n"
                    "      - {value: A, synonyms: [重点客户]}\n      - B\n", encoding="utf-8")
    spec = parse_schema(path)["grade"]
    assert validate.clean(spec, "重点客户") == "A"   # the form takes a synonym too


# --- values the form and the import share (validate.py) ------------------------------------

@pytest.mark.parametrize("text, day", [
    ("2021/03/15 10:30", dt.date(2021, 3, 15)), ("2021-03-15 10:30:00", dt.date(2021, 3, 15)),
    ("2021/3/15", dt.date(2021, 3, 15)), ("2021年3月15日 10:30", dt.date(2021, 3, 15)),
    ("15/03/2021", dt.date(2021, 3, 15)), ("03/15/2021", dt.date(2021, 3, 15)),
])
def test_dates_people_write(text, day):
    spec = load_default_schema()["acquired_on"]
    assert validate.clean(spec, text) == day


def test_an_ambiguous_date_and_a_year_less_one_say_why():
    schema = load_default_schema()
    with pytest.raises(validate.FieldError, match="day/month or month/day"):
        validate.clean(schema["acquired_on"], "03/04/2021")
    with pytest.raises(validate.FieldError, match="has no year"):
        validate.clean(schema["acquired_on"], "--04-12")
    assert validate.parse_date("03/04/2021", "dmy") == dt.date(2021, 4, 3)
    assert validate.parse_date("03/04/2021", "mdy") == dt.date(2021, 3, 4)
    # a birthday without its year: kept with the year vCard import uses, shown as it came
    birthday = validate.clean(schema["birthday"], "--04-12")
    assert birthday == dt.date(validate.NO_YEAR, 4, 12)
    assert validate.display(schema["birthday"], birthday) == "--04-12"
    assert validate.clean(schema["birthday"], "--02-29") == dt.date(1604, 2, 29)


@pytest.mark.parametrize("text, stored, shown", [
    ("010-88886666-123", "+861088886666;ext=123", "010-88886666 ext. 123"),
    ("010-88886666转123", "+861088886666;ext=123", "010-88886666 ext. 123"),
    ("010 8888 6666 ext. 123", "+861088886666;ext=123", "010-88886666 ext. 123"),
    ("95588", "95588", "95588"),
    ("400-820-8820", "+864008208820", "400 820 8820"),
    ("138-0013-8000", "+8613800138000", "138 0013 8000"),   # a mobile's dashes are no extension
])
def test_phones_with_extensions_and_service_numbers(text, stored, shown):
    spec = load_default_schema()["phone"]
    assert validate.clean(spec, text) == stored
    assert validate.display(spec, stored) == shown


def test_a_too_short_landline_is_refused_with_a_sentence():
    with pytest.raises(validate.FieldError) as exc:
        validate.clean(load_default_schema()["phone"], "021-12345")
    assert str(exc.value) == ("Phone: '021-12345' is too short for a landline: after the area code "
                              "a Chinese landline has 7 or 8 digits")
    i18n.set_lang("zh")
    with pytest.raises(validate.FieldError, match="作为座机号码太短"):
        validate.clean(load_default_schema()["phone"], "021-12345")


@pytest.mark.parametrize("word, value", [("√", True), ("×", False), ("✓", True), ("✗", False),
                                         ("是", True), ("否", False), ("Y", True), ("N", False)])
def test_yes_and_no_marks(word, value):
    assert validate.clean(load_default_schema()["marketing_opt_in"], word) is value


# --- a WPS sheet of companies ---------------------------------------------------------

WPS_SHEET = [
    ["2026年客户信息管理表"], [],
    ["序号", "客户名称", "联系人", "联系人电话", "职务", "固定电话", "行业", "累计采购金额", "最近采购",
     "开发日期"],
    ["1", "北京星辰科技有限公司", "李娜", "13800138000", "采购经理", "010-88886666转123", "制造",
     "12,500.00", "2025/11/03 10:30", "2021/03/15 10:30"],
    ["2", "上海华信贸易", "王强", "13900139000", "总经理", "021-12345", "农业/传媒", "8000", "", ""],
    ["3", "广州粤海物流", "陈明", "", "", "400-820-8820", "農業/傳媒", "", "", "03/04/2021"],
    ["4", "深圳宏达", "赵六", "", "", "95588", "zzy", "3万", "2024-06-01", "15/03/2021"],
    ["5", "杭州云帆", "", "", "", "0571-87654321", "农业/传媒", "", "", ""],
]


def test_wps_company_sheet(store, tmp_path):
    path = write_csv(tmp_path / "客户信息管理表.csv", WPS_SHEET, encoding="gbk")
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header()["客户名称"] == "name" and mapping.by_header()["固定电话"] == "phone"
    assert {mapping.headers[i]: r for i, r in mapping.roles.items()} == {
        "联系人": "contact.name", "联系人电话": "contact.phone", "职务": "contact.title",
        "累计采购金额": "purchase.total", "最近采购": "purchase.date"}
    dry = run_import(store, source, mapping, dry_run=True)
    assert (dry.created, dry.rejected, dry.contacts, dry.purchases) == (4, 1, 3, 2)
    assert [(u.label, u.value, u.count, u.rows) for u in dry.unmatched if u.kind == "choice"] == [
        ("Industry", "农业/传媒", 3, [5, 6, 8])]       # 農業/傳媒 is the same value
    assert [(u.value, u.rows) for u in dry.unmatched if u.kind == "date"] == [("03/04/2021", [6])]
    assert store.Customer.select().count() == 0

    result = run_import(store, source, mapping)
    assert (result.created, result.rejected, result.contacts, result.purchases) == (4, 1, 3, 2)
    assert [(p.row, p.field, p.value) for p in result.problems] == [(5, "Phone", "021-12345")]
    assert "too short for a landline" in result.problems[0].reason
    star = customer(store, "北京星辰科技有限公司")
    assert (star.customer_type, star.company, star.industry) == ("company", "北京星辰科技有限公司",
                                                                  "manufacturing")
    assert star.phone == "+861088886666;ext=123" and star.acquired_on == dt.date(2021, 3, 15)
    assert star.purchase_total == Decimal("12500.00") and star.purchase_count == 1
    assert star.last_purchase_on == dt.date(2025, 11, 3)
    assert star.rfm_score is not None and star.segment is not None   # RFM from the timeline
    contact = store.Contact.get(store.Contact.customer == star.id)
    assert (contact.name, contact.phone, contact.title) == ("李娜", "+8613800138000", "采购经理")
    entry = store.Interaction.get(store.Interaction.customer == star.id)
    assert (entry.kind, entry.amount) == ("purchase", Decimal("12500.00"))
    yuehai = customer(store, "广州粤海物流")   # a sheet of companies: every customer is one
    assert (yuehai.customer_type, yuehai.industry, yuehai.phone) == ("company", None, "+864008208820")
    assert yuehai.acquired_on == dt.date.today()   # 03/04/2021 left empty: the default
    hongda = customer(store, "深圳宏达")
    assert (hongda.phone, hongda.industry, hongda.purchase_total) == ("95588", "manufacturing",
                                                                      Decimal("30000.00"))
    assert hongda.acquired_on == dt.date(2021, 3, 15)
    assert store.Contact.select().count() == 3 and store.Interaction.select().count() == 2
    yunfan = customer(store, "杭州云帆")
    assert yunfan.industry is None
    assert json.loads(yunfan.extra) == {"行业": "农业/传媒", "序号": "5"}   # not lost: Other columns
    assert json.loads(yuehai.extra)["开发日期"] == "03/04/2021"


def test_a_list_of_people_keeps_contact_as_the_name(store, tmp_path):
    path = write_csv(tmp_path / "people.csv", [["联系人", "手机", "行业"], ["张三", "13800138000", "金融"]])
    mapping = auto_mapping(store.schema, open_source(path, schema=store.schema))
    assert mapping.by_header()["联系人"] == "name" and not mapping.roles
    do_import(store, path)
    zhang = customer(store, "张三")
    assert (zhang.customer_type, zhang.company, zhang.industry) == ("person", None, "finance")


# --- decisions about values that are no choice ---------------------------------------------

def test_map_a_value_to_a_choice_or_add_it_to_the_user_schema(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["客户名称", "行业", "来源"],
                                          ["甲公司", "农业/传媒", "抖音推广"], ["乙", "农业", "地推"],
                                          ["丙", "新能源", ""]])
    schema = store.schema
    opts = iv.options_from_args(schema, choices=["行业:农业/传媒=其他", "industry:农业=农业"],
                                add_choices="industry")
    assert opts.mapped("industry", "農業/傳媒") == "other"
    with pytest.raises(iv.ValuesError, match="'农业' is not a choice of Industry"):
        iv.options_from_args(schema, choices=["industry:农业=农业"])
    with pytest.raises(iv.ValuesError, match="FIELD:VALUE=CHOICE"):
        iv.parse_choice_option(schema, "industry=其他")
    result = do_import(store, path, values=opts)
    assert (result.created, result.rejected) == (3, 0)
    assert [customer(store, n).industry for n in ("甲公司", "乙", "丙")] == ["other", "农业", "新能源"]
    assert customer(store, "甲公司").source == "social"   # 抖音推广 → the synonym 抖音's choice
    # 地推 is no source: not added (--add-choices named industry only), listed
    assert [(u.label, u.value) for u in result.unmatched] == [("Source", "地推")]
    written = yaml.safe_load(user_schema_path().read_text(encoding="utf-8"))
    assert written["extends"] == "default"
    industry = next(f for f in written["fields"] if f["key"] == "industry")
    assert industry["choices"][-2:] == ["农业", "新能源"]
    assert industry["choices"][0]["synonyms"][0] == "制造"   # the rest kept as they were
    again = parse_schema(user_schema_path())["industry"]
    assert [c.value for c in again.choices][-2:] == ["农业", "新能源"]
    assert store.schema["industry"].choice("新能源") is not None
    # a second import with the same decision adds nothing twice
    assert iv.add_choices(store, {"industry": ["新能源"]}) is None


def test_cli_dry_run_lists_values_then_the_user_decides(tmp_path, capsys, db_url):
    path = write_csv(tmp_path / "c.csv", [["客户名称", "行业"], ["甲", "农业/传媒"], ["乙", "农业/传媒"],
                                          ["丙", "制造"]])
    argv = ["--db", db_url, "--user", "tester", "--lang", "en", "import", str(path)]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Industry: '农业/传媒' × 2 (rows 2, 3)" in out
    assert "--choice 'FIELD:VALUE=CHOICE'" in out and "--add-choices" in out
    assert main([*argv, "--add-choices"]) == 0
    out = capsys.readouterr().out
    assert "Added to the choices of Industry: 农业/传媒" in out
    store = Store.open(db_url, parse_schema(user_schema_path()), user="tester")
    try:
        assert sorted((c.name, c.industry) for c in store.customers()) == [
            ("丙", "manufacturing"), ("乙", "农业/传媒"), ("甲", "农业/传媒")]
    finally:
        store.close()


def test_kept_row_note_in_chinese(store, tmp_path):
    i18n.set_lang("zh")
    path = write_csv(tmp_path / "c.csv", [["客户名称", "行业"], ["甲", "农业/传媒"]])
    result = do_import(store, path)
    assert result.created == 1 and result.rejected == 0
    assert result.notes[0].reason == "行业：“农业/传媒”不是可选值；已保留该行，此字段留空"
    assert "不在可选值中的值（行已保留，字段留空）：" in iv.report_lines(result)


def test_date_order_decides_ambiguous_dates(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["姓名", "开发日期"], ["甲", "03/04/2021"], ["乙", "15/03/2021"]])
    result = do_import(store, path, values=iv.ValueOptions(date_order="dmy"))
    assert not result.unmatched
    assert customer(store, "甲").acquired_on == dt.date(2021, 4, 3)
    assert customer(store, "乙").acquired_on == dt.date(2021, 3, 15)
    with pytest.raises(iv.ValuesError, match="dmy, mdy or ymd"):
        iv.ValueOptions(date_order="dym")


# --- Google Contacts (legacy CSV) and Outlook -------------------------------------------

GOOGLE_LEGACY = ["Name", "Given Name", "Additional Name", "Family Name", "Nickname", "Birthday",
                 "Notes", "Group Membership", "E-mail 1 - Type", "E-mail 1 - Value",
                 "Phone 1 - Type", "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value",
                 "Organization 1 - Name", "Organization 1 - Title"]


def test_google_legacy_csv(store, tmp_path):
    rows = [GOOGLE_LEGACY,
            ["Ada Lovelace", "Ada", "", "Lovelace", "", "--12-10", "met at expo",
             "* myContacts ::: Clients ::: VIP", "* Work", "ada@example.com ::: ada@home.org",
             "Work", "+86 10 6552 9988", "Mobile", "+44 7911 123456 ::: +44 7911 654321",
             "Engines Ltd", "CTO"],
            ["张三", "三", "", "张", "", "1990-05-01", "", "* myContacts ::: * Starred", "", "",
             "Main", "13800138000", "Home Fax", "010-66778899", "", ""]]
    path = write_csv(tmp_path / "google.csv", rows)
    source = open_source(path, schema=store.schema)
    assert source.format == "google_contacts"
    result = do_import(store, path)
    assert (result.created, result.rejected) == (2, 0)
    ada = customer(store, "Ada Lovelace")
    assert ada.tags == "Clients,VIP"   # the system groups (* myContacts) are no tags
    assert (ada.phone, ada.mobile) == ("+861065529988", "+447911123456")   # by their Type
    assert ada.email == "ada@example.com"
    assert ada.birthday == dt.date(1604, 12, 10)
    # the second value of a ::: cell is kept in the notes, not lost
    assert ada.notes.splitlines() == ["met at expo", "Also Email: ada@home.org",
                                      "Also Mobile: +44 7911 654321"]
    zhang = customer(store, "张三")
    assert (zhang.phone, zhang.mobile, zhang.tags) == ("+8613800138000", None, None)   # Main
    assert zhang.notes == "Also Home Fax: 010-66778899"


def test_outlook_chinese_names_surname_first(store, tmp_path):
    headers = ["Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Job Title",
               "Business Phone", "Mobile Phone", "E-mail Address", "Birthday", "Categories"]
    rows = [headers,
            ["", "李", "", "娜", "", "星辰科技有限公司", "经理", "", "13800138000", "", "0/0/00", ""],
            ["", "娜", "", "李", "", "", "", "", "13900139000", "", "", ""],
            ["Mr.", "John", "", "Smith", "", "Acme", "Buyer", "", "", "john@acme.com", "5/17/1980", ""]]
    path = write_csv(tmp_path / "outlook.csv", rows)
    assert open_source(path).format == "outlook"
    result = do_import(store, path)
    assert (result.created, result.rejected) == (3, 0)
    names = sorted(c.name for c in store.customers())
    assert names == ["John Smith", "李娜", "李娜"]   # whichever column 李 was typed in
    john = customer(store, "John Smith")
    assert john.birthday == dt.date(1980, 5, 17) and john.customer_type == "person"


def test_kept_values_come_back_from_worker_processes(tmp_path, monkeypatch, sqlite_url):
    from kehu.models import importer

    rows = [["客户名称", "行业", "开发日期"]] + [
        [f"客户{i}", ("农业/传媒", "制造", "農業/傳媒")[i % 3], "03/04/2021" if i % 10 == 0 else ""]
        for i in range(300)]
    path = write_csv(tmp_path / "big.csv", rows)
    monkeypatch.setenv("KEHU_IMPORT_WORKERS", "2")
    monkeypatch.setattr(importer, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(importer, "WORKER_CHUNK", 50)
    store = Store.open(sqlite_url, user="tester")
    try:
        result = do_import(store, path)
        assert (result.created, result.rejected) == (300, 0)
        assert sorted((u.kind, u.value, u.count) for u in result.unmatched) == [
            ("choice", "农业/传媒", 200), ("date", "03/04/2021", 30)]
        assert store.Customer.select().where(store.Customer.industry == "manufacturing").count() == 100
    finally:
        store.close()


def test_a_year_less_birthday_is_on_the_agenda_without_an_age(store, tmp_path):
    from kehu.models import agenda

    today = dt.date.today()
    soon = today + dt.timedelta(days=3)
    if (soon.month, soon.day) == (2, 29):
        soon += dt.timedelta(days=1)
    rows = [GOOGLE_LEGACY, ["Ada Lovelace", "Ada", "", "Lovelace", "", f"--{soon:%m-%d}", "", "", "", "",
                            "Mobile", "13800138000", "", "", "", ""]]
    do_import(store, write_csv(tmp_path / "g.csv", rows))
    items, _ = agenda.birthdays(store, today, None, 10, 14)
    assert [(i.name, i.when, i.age) for i in items] == [("Ada Lovelace", soon, None)]


def test_an_extension_goes_out_and_comes_back_the_same(store, tmp_path):
    from kehu.models import exporter

    path = write_csv(tmp_path / "c.csv", [["客户名称", "电话"], ["甲公司", "010-88886666 ext. 123"]])
    do_import(store, path)
    for name in ("out.csv", "out.xlsx"):
        exporter.export(store, tmp_path / name)
        before = customer(store, "甲公司").phone
        store.Customer.delete().execute()
        do_import(store, tmp_path / name)
        assert customer(store, "甲公司").phone == before == "+861088886666;ext=123"


def test_phone_value_columns_without_a_type_go_by_the_number(store, tmp_path):
    path = write_csv(tmp_path / "g.csv", [["Name", "Phone 1 - Value", "Phone 2 - Value"],
                                          ["Ada", "010-65529988", "13800138000"]])
    do_import(store, path)
    ada = customer(store, "Ada")
    assert (ada.phone, ada.mobile) == ("+861065529988", "+8613800138000")


def test_roles_are_saved_in_a_profile_and_given_with_map(store, tmp_path):
    from kehu.models.importer import load_profile, save_profile

    path = write_csv(tmp_path / "c.csv", [["公司名称", "对接人", "手机", "备用"], ["甲公司", "李娜", "13800138000", "x"]])
    source = open_source(path, schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header()["对接人"] == "@contact.name"
    assert mapping.by_header()["公司名称"] == "name"   # a company column names the customer
    save_profile("crm", mapping)
    again = auto_mapping(store.schema, source, profile=load_profile("crm"),
                         overrides={"备用": "@contact.title"})
    assert {again.headers[i]: r for i, r in again.roles.items()} == {"对接人": "contact.name",
                                                                     "备用": "contact.title"}
    undone = auto_mapping(store.schema, source, overrides={"对接人": "-"})
    assert not undone.roles
    with pytest.raises(iv.ValuesError, match="'@boss' is not something a column can be"):
        auto_mapping(store.schema, source, overrides={"对接人": "@boss"})
    run_import(store, source, again)
    jia = customer(store, "甲公司")
    assert (jia.customer_type, jia.company, jia.mobile) == ("company", "甲公司", "+8613800138000")
    contact = store.Contact.get()
    assert (contact.name, contact.title, contact.phone) == ("李娜", "x", "+8613800138000")


def test_importing_the_sheet_again_with_update_by_adds_no_second_contact_or_purchase(store, tmp_path):
    path = write_csv(tmp_path / "c.csv", [["客户名称", "联系人", "累计采购金额", "最近采购"],
                                          ["甲公司", "李娜", "5000", "2025-01-02"]])
    do_import(store, path)
    result = do_import(store, path, update_by="name")
    assert (result.created, result.contacts, result.purchases) == (0, 0, 0)
    jia = customer(store, "甲公司")
    assert (jia.purchase_total, jia.purchase_count) == (Decimal("5000.00"), 1)
    assert store.Contact.select().count() == 1
    i18n.set_lang("zh")   # the opening entry is found whatever language wrote it
    write_csv(path, [["客户名称", "联系人", "累计采购金额", "最近采购"], ["甲公司", "王强", "8000", "2025-06-01"]])
    result = do_import(store, path, update_by="name")   # a new contact; the new figure replaces the old
    assert (result.contacts, result.purchases) == (1, 1)
    jia = customer(store, "甲公司")
    assert (jia.purchase_total, jia.purchase_count, jia.last_purchase_on) == (
        Decimal("8000.00"), 1, dt.date(2025, 6, 1))
    assert store.Contact.select().count() == 2


def test_an_xlsx_with_the_contact_column_first(store, tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户联系表"])
    ws.append([])
    ws.append(["联系人", "客户名称", "职位", "座机", "采购总额", "最近采购日期", "订阅"])
    ws.append(["李娜", "星辰科技有限公司", "经理", "010-88886666-123", 12500.5, dt.datetime(2025, 3, 1, 9, 30), "√"])
    ws.append(["王强", "華信貿易集團", "", "0755-12345678", 0, None, "×"])
    wb.save(tmp_path / "s.xlsx")
    source = open_source(tmp_path / "s.xlsx", schema=store.schema)
    mapping = auto_mapping(store.schema, source)
    assert mapping.by_header() == {"联系人": "@contact.name", "客户名称": "name", "职位": "@contact.title",
                                   "座机": "phone", "采购总额": "@purchase.total",
                                   "最近采购日期": "@purchase.date", "订阅": "marketing_opt_in"}
    result = run_import(store, source, mapping)
    assert (result.created, result.rejected, result.contacts, result.purchases) == (2, 0, 2, 1)
    star = customer(store, "星辰科技有限公司")
    assert (star.phone, star.marketing_opt_in, star.purchase_total, star.last_purchase_on) == (
        "+861088886666;ext=123", True, Decimal("12500.50"), dt.date(2025, 3, 1))
    huaxin = customer(store, "華信貿易集團")
    assert (huaxin.customer_type, huaxin.marketing_opt_in, huaxin.purchase_total) == ("company", False, None)
    assert sorted((c.name, c.title) for c in store.Contact.select()) == [("李娜", "经理"), ("王强", None)]


def test_a_number_with_an_extension_is_found_by_the_number(store, tmp_path):
    from kehu.models.results import ResultSet

    do_import(store, write_csv(tmp_path / "c.csv", [["客户名称", "电话"], ["甲公司", "010-88886666转123"],
                                                    ["乙公司", "95588"]]))
    assert [ResultSet(store, q).count() for q in ("010-88886666", "6666", "95588")] == [1, 1, 1]


def test_tags_with_choices_keep_the_tags_that_match(tmp_path, sqlite_url):
    path = tmp_path / "schema.yaml"
    path.write_text("extends: default\nfields:\n  - key: tags\n    choices:\n"
                    "      - {value: vip, zh: 重要客户, en: VIP, synonyms: [贵宾]}\n"
                    "      - {value: partner, zh: 合作伙伴, en: Partner}\n", encoding="utf-8")
    store = Store.open(sqlite_url, parse_schema(path), user="tester")
    try:
        csv_path = write_csv(tmp_path / "c.csv", [["姓名", "标签"], ["甲", "贵宾、合作、老朋友"]])
        result = do_import(store, csv_path)
        assert (result.created, result.rejected) == (1, 0)
        assert customer(store, "甲").tags == "vip,partner"   # a synonym; a unique prefix
        assert [(u.label, u.value) for u in result.unmatched] == [("Tags", "老朋友")]
    finally:
        store.close()


def test_cli_date_order_in_chinese(tmp_path, capsys, sqlite_url):
    path = write_csv(tmp_path / "c.csv", [["姓名", "开发日期"], ["甲", "03/04/2021"]])
    argv = ["--db", sqlite_url, "--user", "tester", "--lang", "zh", "import", str(path)]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "可能是“日/月”也可能是“月/日”的日期" in out and "开拓日期：“03/04/2021” × 1（第 2 行）" in out
    assert main([*argv, "--date-order", "mdy"]) == 0
    store = Store.open(sqlite_url, user="tester")
    try:
        assert customer(store, "甲").acquired_on == dt.date(2021, 3, 4)
    finally:
        store.close()


def test_revert_takes_back_the_contacts_and_purchases_it_made(store, tmp_path):
    from kehu.models import chain
    from kehu.models.importer import revert_import

    path = write_csv(tmp_path / "c.csv", [["客户名称", "联系人", "累计采购金额"],
                                          ["甲公司", "李娜", "5000"], ["乙公司", "王强", "3000"]])
    first = do_import(store, path)
    undone = revert_import(store, first.batch_id)
    assert (undone.deleted, undone.hidden) == (2, 0)
    assert store.Contact.select().count() == store.Interaction.select().count() == 0
    second = do_import(store, path)
    li = store.Contact.get(store.Contact.name == "李娜")
    chain.update_contact(store, li.id, title="经理")   # worked on since: that customer stays, hidden
    undone = revert_import(store, second.batch_id)
    assert (undone.deleted, undone.hidden) == (1, 1)
    assert [c.name for c in store.Contact.select()] == ["李娜"]
    jia = store.Customer.get(store.Customer.name == "甲公司")   # hidden whole, restored whole
    assert jia.deleted_at is not None and jia.purchase_total == Decimal("5000.00")


def test_kehus_own_export_makes_no_opening_purchases(store, tmp_path):
    from kehu.models import exporter, timeline

    do_import(store, write_csv(tmp_path / "c.csv", [["客户名称", "累计采购金额"], ["甲公司", "5000"]]))
    jia = customer(store, "甲公司")
    timeline.add_entry(store, jia.id, "purchase", amount="100", occurred_at="2025-01-01")
    exporter.export(store, tmp_path / "out.csv")   # Purchases, Orders, RFM …: computed columns
    source = open_source(tmp_path / "out.csv", schema=store.schema)
    assert not auto_mapping(store.schema, source).roles


def test_a_bad_typed_phone_rejects_its_row_naming_the_field(store, tmp_path):
    path = write_csv(tmp_path / "g.csv", [GOOGLE_LEGACY, ["John Smith", "John", "", "Smith", "", "", "", "",
                                                          "", "", "Main", "021-12345", "", "", "", ""]])
    mapping = auto_mapping(store.schema, open_source(path, schema=store.schema))
    assert mapping.notes[GOOGLE_LEGACY.index("Phone 1 - Type")] == \
        "says which field Phone 1 - Value goes to (Mobile, Work …)"
    result = do_import(store, path)
    assert result.rejected == 1
    assert [(p.row, p.column, p.field, p.value) for p in result.problems] == [
        (2, "Phone 1 - Value", "Phone", "021-12345")]
    assert "too short for a landline" in result.problems[0].reason
