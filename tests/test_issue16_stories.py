"""Issue 16, "Done when" #1: one story per shape of file people really have, each
imported with `kehu import` (no flag beyond the file) on SQLite and PostgreSQL, asserting
the customers, contacts, tags, phones and purchases created and each rejected row's
reason; then the same files through the Ctrl+O wizard by keys. The files are built as
the exporters write them: WPS/Excel (GBK CSV with a title row; XLSX with a merged title
and serial dates), Google Contacts legacy CSV, Outlook CSV (every cell quoted, the
system's code page), a Big5 sheet with Traditional headers, vCard 3.0 and 4.0; then the
same WPS sheet again, and a contacts sheet and a timeline sheet of the same customers."""
from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal

import pytest

from kehu.models.store import Store
from kehu.tui.cli import main


# --- the files -----------------------------------------------------------------------

WPS_HEADER = ["序号", "客户名称", "联系人", "联系人电话", "职务", "固定电话", "行业", "累计采购金额",
              "最近采购", "开发日期", "订阅", "标签", "备注"]
WPS_ROWS = [
    ["1", "北京星辰科技有限公司", "李娜", "13800138000", "采购经理", "010-88886666转123", "制造",
     "12,500.00", "2025/11/03 10:30", "2021/03/15 10:30", "√", "重点客户、华北", "老客户\n喜欢喝茶"],
    ["2", "上海华信贸易有限公司", "王强", "13900139000", "总经理", "021-66668888-8", "农业/传媒",
     "8000", "", "2021/3/5 9:05", "×", "", ""],
    ["3", "广州粤海物流有限公司", "陈明", "", "", "021-12345", "物流", "", "", "", "√", "", ""],
    ["4", "深圳宏达贸易有限公司", "", "", "", "400-820-8820", "制造", "3万", "2024-06-01",
     "15/03/2021", "", "", ""],
    ["5", "杭州云帆传媒有限公司", "赵敏", "13700137000", "", "95588", "传媒", "", "", "", "", "", ""],
]


def wps_rows() -> list[list[str]]:
    width = len(WPS_HEADER)
    return [["2026年客户信息管理表"] + [""] * (width - 1), [""] * width, WPS_HEADER, *WPS_ROWS]


def write_csv(path, rows, encoding="utf-8", quoting=csv.QUOTE_MINIMAL):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh, quoting=quoting).writerows(rows)
    return path


def wps_csv(tmp_path):
    """WPS 表格 → 另存为 CSV on a Chinese Windows: GBK, CRLF, the title row kept."""
    return write_csv(tmp_path / "2026年客户信息管理表.csv", wps_rows(), encoding="gbk")


def wps_xlsx(tmp_path):
    """The same table as an .xlsx: the title merged across the columns, dates as
    Excel stores them (date cells, and a serial number in a General cell), amounts and
    mobiles as numbers."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "客户信息"
    ws.append(["2026年客户信息管理表"])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(WPS_HEADER))
    ws.append([])
    ws.append(WPS_HEADER)
    ws.append([1, "北京星辰科技有限公司", "李娜", 13800138000, "采购经理", "010-88886666转123", "制造",
               12500, dt.datetime(2025, 11, 3, 10, 30), dt.datetime(2021, 3, 15, 10, 30), "√",
               "重点客户、华北", "老客户\n喜欢喝茶"])
    ws.append([2, "上海华信贸易有限公司", "王强", 13900139000, "总经理", "021-66668888-8", "农业/传媒",
               8000, None, 44260, "×", None, None])        # 44260 = 2021-03-05, a General cell
    ws.append([3, "广州粤海物流有限公司", "陈明", None, None, "021-12345", "物流", None, None, None, "√",
               None, None])
    ws.cell(row=4, column=10).number_format = "yyyy/m/d h:mm"
    wb.save(tmp_path / "客户信息管理表.xlsx")
    return tmp_path / "客户信息管理表.xlsx"


GOOGLE_HEADER = [
    "Name", "Given Name", "Additional Name", "Family Name", "Yomi Name", "Given Name Yomi",
    "Additional Name Yomi", "Family Name Yomi", "Name Prefix", "Name Suffix", "Initials", "Nickname",
    "Short Name", "Maiden Name", "Birthday", "Gender", "Location", "Billing Information",
    "Directory Server", "Mileage", "Occupation", "Hobby", "Sensitivity", "Priority", "Subject", "Notes",
    "Language", "Photo", "Group Membership", "E-mail 1 - Type", "E-mail 1 - Value", "Phone 1 - Type",
    "Phone 1 - Value", "Phone 2 - Type", "Phone 2 - Value", "Organization 1 - Type",
    "Organization 1 - Name", "Organization 1 - Yomi Name", "Organization 1 - Title",
    "Organization 1 - Department", "Organization 1 - Symbol", "Organization 1 - Location",
    "Organization 1 - Job Description"]


def google_csv(tmp_path):
    """Google Contacts → Export → Google CSV (the legacy one): UTF-8, every column."""
    def person(**cells):
        row = [""] * len(GOOGLE_HEADER)
        for key, value in cells.items():
            row[GOOGLE_HEADER.index(key.replace("_", " "))] = value
        return row

    rows = [GOOGLE_HEADER,
            person(Name="张伟", **{"Given Name": "伟", "Family Name": "张", "Birthday": "--04-12",
                                  "Group Membership": "* myContacts ::: Clients ::: 北京",
                                  "Phone 1 - Type": "Work", "Phone 1 - Value": "010-65529988",
                                  "Phone 2 - Type": "Mobile", "Phone 2 - Value": "+86 138 0013 8001",
                                  "E-mail 1 - Type": "* Work", "E-mail 1 - Value": "zhangwei@example.com",
                                  "Organization 1 - Name": "北京星辰科技有限公司",
                                  "Organization 1 - Title": "技术总监"}),
            person(Name="Ada Lovelace", **{"Given Name": "Ada", "Family Name": "Lovelace",
                                           "Birthday": "1815-12-10",
                                           "Group Membership": "* myContacts ::: * Starred",
                                           "Phone 1 - Type": "Mobile", "Phone 1 - Value": "+44 7911 123456"}),
            person(Name="Bad Mail", **{"Given Name": "Bad", "Family Name": "Mail",
                                       "E-mail 1 - Type": "* Other", "E-mail 1 - Value": "bad@@mail"})]
    return write_csv(tmp_path / "contacts.csv", rows)


OUTLOOK_HEADER = [
    "Title", "First Name", "Middle Name", "Last Name", "Suffix", "Company", "Department", "Job Title",
    "Business Street", "Business City", "Business Postal Code", "Business Country/Region",
    "Business Phone", "Business Phone 2", "Mobile Phone", "Home Phone", "E-mail Address",
    "E-mail Type", "E-mail Display Name", "Birthday", "Categories", "Notes", "Web Page"]


def outlook_csv(tmp_path):
    """Outlook → File → Export → Comma Separated Values on a Chinese Windows: the
    system code page (GBK), every cell quoted, 0/0/00 for an empty birthday."""
    def person(**cells):
        row = [""] * len(OUTLOOK_HEADER)
        for key, value in cells.items():
            row[OUTLOOK_HEADER.index(key)] = value
        row[OUTLOOK_HEADER.index("Birthday")] = cells.get("Birthday", "0/0/00")
        return row

    rows = [OUTLOOK_HEADER,
            person(**{"First Name": "李", "Last Name": "娜", "Company": "星辰科技有限公司",
                      "Job Title": "经理", "Mobile Phone": "13800138000",
                      "Business Phone": "(010) 8888 6666", "Categories": "VIP;供应商"}),
            person(**{"Title": "Mr.", "First Name": "John", "Last Name": "Smith", "Company": "Acme Ltd",
                      "Job Title": "Buyer", "E-mail Address": "john@acme.com", "Birthday": "5/17/1980",
                      "Business Phone": "+44 20 7946 0958"}),
            person(**{"First Name": "Mary", "Last Name": "Jones", "Mobile Phone": "12345"})]
    return write_csv(tmp_path / "outlook.csv", rows, encoding="gbk", quoting=csv.QUOTE_ALL)


def big5_csv(tmp_path):
    """A Taiwan/Hong Kong office sheet: Big5, Traditional headers and values."""
    rows = [["客戶名稱", "聯絡人", "聯絡電話", "職稱", "電話", "行業", "地址", "備註"],
            ["台北宏基貿易有限公司", "陳大文", "+886 912 345 678", "採購經理", "+886 2 2712 3456", "製造業",
             "台北市信義區", "老客戶"],
            ["香港恆生物流有限公司", "黃小明", "+852 9123 4567", "", "+852 2345 6789", "物流", "九龍", ""],
            ["", "", "", "", "+852 2345 0000", "", "", "沒有名稱"]]
    return write_csv(tmp_path / "客戶資料.csv", rows, encoding="big5")


VCF = (
    # iPhone / Google: 3.0
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:王;小明;;;\r\nFN:王小明\r\nORG:深圳前海科技有限公司;销售部\r\n"
    "TITLE:销售总监\r\nTEL;type=CELL;type=VOICE;type=pref:136 0013 6000\r\n"
    "TEL;type=WORK;type=VOICE:0755-26668888\r\nEMAIL;type=INTERNET;type=WORK:wxm@qianhai.cn\r\n"
    "BDAY:1985-03-12\r\nCATEGORIES:客户,深圳\r\nNOTE:展会认识\\n喜欢打球\r\nEND:VCARD\r\n"
    # khard / Nextcloud: 4.0
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:陈国强\r\nN:陈;国强;;;\r\n"
    "TEL;VALUE=uri;TYPE=\"cell,voice\":tel:+86-139-1234-5678\r\n"
    "TEL;VALUE=uri;TYPE=work:tel:+86-20-8888-6666;ext=102\r\n"
    "EMAIL;TYPE=work:cgq@example.com\r\nBDAY:--0412\r\nCATEGORIES:VIP\r\nEND:VCARD\r\n"
    # a card that cannot be a customer: a bad e-mail
    "BEGIN:VCARD\r\nVERSION:4.0\r\nFN:坏邮箱\r\nN:坏;邮箱;;;\r\nEMAIL:not-an-email\r\nEND:VCARD\r\n")


def vcf(tmp_path):
    path = tmp_path / "通讯录.vcf"
    path.write_text(VCF, encoding="utf-8")
    return path


# --- helpers ---------------------------------------------------------------------------

def kehu(db_url, *args) -> int:
    return main(["--db", db_url, "--user", "tester", "--lang", "en", *map(str, args)])


@pytest.fixture
def opened(db_url):
    stores = []

    def open_():
        s = Store.open(db_url, user="tester")
        stores.append(s)
        return s

    yield open_
    for s in stores:
        s.close()


def by_name(store):
    return {c.name: c for c in store.customers()}


def contacts(store, customer):
    return sorted((c.name, c.title, c.phone) for c in store.contacts(customer.id))


def rejected_file(tmp_path, stem):
    files = sorted(tmp_path.glob(f"{stem}-rejected-*.csv"))
    assert len(files) == 1, files
    with open(files[0], encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


# --- (a) a WPS sheet saved as GBK CSV --------------------------------------------------

def check_wps(store, serial=False):
    rows = by_name(store)
    assert set(rows) == {"北京星辰科技有限公司", "上海华信贸易有限公司"} | (
        set() if serial else {"深圳宏达贸易有限公司", "杭州云帆传媒有限公司"})
    star = rows["北京星辰科技有限公司"]
    assert (star.customer_type, star.company, star.industry) == ("company", "北京星辰科技有限公司",
                                                                  "manufacturing")
    assert star.phone == "+861088886666;ext=123"
    assert star.acquired_on == dt.date(2021, 3, 15)        # the time of day dropped
    assert star.marketing_opt_in is True                   # √
    assert star.tags == "重点客户,华北"
    assert star.notes == "老客户\n喜欢喝茶"
    assert (star.purchase_total, star.purchase_count, star.last_purchase_on) == (
        Decimal("12500.00"), 1, dt.date(2025, 11, 3))
    assert contacts(store, star) == [("李娜", "采购经理", "+8613800138000")]
    huaxin = rows["上海华信贸易有限公司"]
    assert (huaxin.customer_type, huaxin.company) == ("company", "上海华信贸易有限公司")
    assert huaxin.phone == "+862166668888;ext=8" and huaxin.marketing_opt_in is False
    assert huaxin.acquired_on == dt.date(2021, 3, 5)
    assert huaxin.industry is None                         # 农业/传媒 is no choice: kept, not lost
    assert json.loads(huaxin.extra)["行业"] == "农业/传媒"
    assert huaxin.purchase_total == Decimal("8000.00")
    assert contacts(store, huaxin) == [("王强", "总经理", "+8613900139000")]
    if not serial:
        hongda = rows["深圳宏达贸易有限公司"]
        assert (hongda.phone, hongda.industry, hongda.purchase_total) == (
            "+864008208820", "manufacturing", Decimal("30000.00"))
        assert hongda.acquired_on == dt.date(2021, 3, 15)      # 15/03/2021: the day is > 12
        assert contacts(store, hongda) == []
        yunfan = rows["杭州云帆传媒有限公司"]
        assert yunfan.phone == "95588" and yunfan.industry is None
        assert json.loads(yunfan.extra)["行业"] == "传媒"
        assert contacts(store, yunfan) == [("赵敏", None, "+8613700137000")]
    assert store.Contact.select().count() == (2 if serial else 3)


def test_a_wps_sheet_as_gbk_csv(db_url, opened, tmp_path, capsys):
    path = wps_csv(tmp_path)
    assert kehu(db_url, "import", path) == 0
    out = capsys.readouterr().out
    assert "Header: row 3, above it: 2026年客户信息管理表" in out
    assert "4 created" in out and "1 rejected" in out, out
    assert "row 6, Phone '021-12345': '021-12345' is too short for a landline" in out
    assert "Industry: '农业/传媒' × 1 (rows 5)" in out and "Industry: '传媒' × 1 (rows 8)" in out
    store = opened()
    check_wps(store)
    assert "广州粤海物流有限公司" not in by_name(store)
    rejected = rejected_file(tmp_path, path.stem)
    assert rejected[0][2:] == WPS_HEADER
    assert rejected[1][1:] == ["6", *WPS_ROWS[2]] and "too short for a landline" in rejected[1][0]


def test_a_row_with_only_a_contact_is_rejected_not_dropped(db_url, opened, tmp_path, capsys):
    """WPS: a second contact typed on the next line under a merged 客户名称 cell. Nothing
    silently dropped: the row goes to the rejects file with its reason."""
    rows = [*wps_rows(), ["6", "", "孙七", "13600136000", "助理", "", "", "", "", "", "", "", ""]]
    path = write_csv(tmp_path / "表.csv", rows, encoding="gbk")
    assert kehu(db_url, "import", path) == 0
    out = capsys.readouterr().out
    assert "4 created" in out and "2 rejected" in out and "0 empty" in out, out
    assert "row 9, Name '': is required" in out
    assert rejected_file(tmp_path, path.stem)[2][1:] == ["9", *rows[-1]]


# --- (b) the same as XLSX --------------------------------------------------------------

def test_the_same_sheet_as_xlsx_with_a_merged_title_and_serial_dates(db_url, opened, tmp_path, capsys):
    path = wps_xlsx(tmp_path)
    assert kehu(db_url, "import", path) == 0
    out = capsys.readouterr().out
    assert "Header: row 3" in out and "2 created" in out and "1 rejected" in out, out
    assert "row 6, Phone '021-12345'" in out
    check_wps(opened(), serial=True)


# --- (c) Google Contacts legacy CSV -----------------------------------------------------

def test_google_contacts_legacy_csv(db_url, opened, tmp_path, capsys):
    assert kehu(db_url, "import", google_csv(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "2 created" in out and "1 rejected" in out, out
    assert "row 4, Email 'bad@@mail'" in out
    check_google(opened())


def check_google(store):
    rows = by_name(store)
    assert set(rows) == {"张伟", "Ada Lovelace"}
    zhang = rows["张伟"]
    assert zhang.tags == "Clients,北京"                    # Group Membership, not the system groups
    assert (zhang.phone, zhang.mobile) == ("+861065529988", "+8613800138001")   # by Phone N - Type
    assert zhang.birthday == dt.date(1604, 4, 12)           # --04-12: no year, kept
    assert (zhang.email, zhang.company, zhang.title) == ("zhangwei@example.com", "北京星辰科技有限公司",
                                                         "技术总监")
    ada = rows["Ada Lovelace"]
    assert (ada.mobile, ada.phone, ada.tags) == ("+447911123456", None, None)
    assert ada.birthday == dt.date(1815, 12, 10) and ada.customer_type == "person"
    assert store.Contact.select().count() == 0


# --- (d) Outlook CSV --------------------------------------------------------------------

def test_outlook_csv(db_url, opened, tmp_path, capsys):
    assert kehu(db_url, "import", outlook_csv(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "2 created" in out and "1 rejected" in out, out
    assert "row 4, Mobile '12345'" in out
    check_outlook(opened())


def check_outlook(store):
    rows = by_name(store)
    assert set(rows) == {"李娜", "John Smith"}              # 李 is the surname: not 娜李
    li = rows["李娜"]
    assert (li.mobile, li.phone, li.company, li.title) == ("+8613800138000", "+861088886666",
                                                           "星辰科技有限公司", "经理")
    assert li.tags == "VIP,供应商" and li.birthday is None   # 0/0/00 is no birthday
    john = rows["John Smith"]
    assert (john.email, john.birthday, john.phone, john.company) == (
        "john@acme.com", dt.date(1980, 5, 17), "+442079460958", "Acme Ltd")


# --- (e) Big5 CSV with Traditional headers ----------------------------------------------

def test_a_big5_sheet_with_traditional_headers(db_url, opened, tmp_path, capsys):
    path = big5_csv(tmp_path)
    assert kehu(db_url, "import", path) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "encoding big5" in lines[0], out
    assert any(line.split()[:3] == ["客戶名稱", "→", "Name"] for line in lines), out
    assert "2 created" in out and "1 rejected" in out, out
    assert "row 4, Name '': is required" in out
    check_big5(opened())


def check_big5(store):
    rows = by_name(store)
    assert set(rows) == {"台北宏基貿易有限公司", "香港恆生物流有限公司"}
    acer = rows["台北宏基貿易有限公司"]
    assert (acer.customer_type, acer.industry, acer.phone, acer.notes) == (
        "company", "manufacturing", "+886227123456", "老客戶")
    assert acer.address == "台北市信義區"
    assert contacts(store, acer) == [("陳大文", "採購經理", "+886912345678")]   # 聯絡人: a contact
    hang = rows["香港恆生物流有限公司"]
    assert hang.industry == "logistics" and contacts(store, hang) == [("黃小明", None, "+85291234567")]


# --- (f) vCard 3.0 and 4.0 ---------------------------------------------------------------

def test_a_vcf_with_3_0_and_4_0_cards(db_url, opened, tmp_path, capsys):
    assert kehu(db_url, "import", vcf(tmp_path)) == 0
    out = capsys.readouterr().out
    assert "2 created" in out and "1 rejected" in out, out
    assert "not-an-email" in out
    check_vcf(opened())
    # and out again: the export has the same cards
    assert kehu(db_url, "export", "-o", tmp_path / "out.vcf") == 0
    text = (tmp_path / "out.vcf").read_text(encoding="utf-8")
    assert text.count("BEGIN:VCARD") == 2 and "陈国强" in text


def check_vcf(store):
    rows = by_name(store)
    assert set(rows) == {"王小明", "陈国强"}
    wang = rows["王小明"]
    assert (wang.mobile, wang.phone, wang.email) == ("+8613600136000", "+8675526668888", "wxm@qianhai.cn")
    assert (wang.company, wang.department, wang.title) == ("深圳前海科技有限公司", "销售部", "销售总监")
    assert wang.birthday == dt.date(1985, 3, 12) and wang.tags == "客户,深圳"
    assert wang.notes == "展会认识\n喜欢打球"
    chen = rows["陈国强"]
    assert (chen.mobile, chen.phone, chen.email) == ("+8613912345678", "+862088886666;ext=102",
                                                     "cgq@example.com")
    assert chen.birthday == dt.date(1604, 4, 12) and chen.tags == "VIP"


# --- (g) the WPS sheet again -------------------------------------------------------------

def test_the_wps_sheet_again_skips_every_row(db_url, opened, tmp_path, capsys):
    path = wps_csv(tmp_path)
    assert kehu(db_url, "import", path) == 0
    capsys.readouterr()
    assert kehu(db_url, "import", path, "--dry-run") == 0
    out = capsys.readouterr().out
    assert "4 rows match customers kehu already has: 4 skipped" in out, out
    assert kehu(db_url, "import", path) == 0
    out = capsys.readouterr().out
    assert "0 created" in out and "1 rejected" in out, out
    store = opened()
    assert store.count_customers() == 4
    check_wps(store)   # no second contact, no second opening purchase


# --- (h) a contacts sheet and a timeline sheet of the same customers ------------------------

def test_contacts_and_timeline_sheets_attach_to_the_customers(db_url, opened, tmp_path, capsys):
    assert kehu(db_url, "import", wps_csv(tmp_path)) == 0
    people = write_csv(tmp_path / "联系人.csv", [
        ["所属公司", "姓名", "职务", "手机", "邮箱"],
        ["北京星辰科技有限公司", "刘工", "工程师", "13911112222", "liu@example.com"],
        ["北京星辰科技有限公司", "孙七", "", "12345", ""],
        ["不存在的公司", "某人", "", "", ""]], encoding="gbk")
    assert kehu(db_url, "import", people, "--into", "contacts") == 0
    out = capsys.readouterr().out
    assert "Contacts: 3 rows read — 1 added, 2 rejected" in out, out
    assert "row 4, Customer '不存在的公司': no customer is called '不存在的公司'" in out
    assert "row 3" in out and "12345" in out
    calls = write_csv(tmp_path / "跟进记录.csv", [
        ["日期", "客户名称", "类型", "内容", "金额"],
        ["2026/3/15 10:30", "上海华信贸易有限公司", "电话", "谈了续约", ""],
        ["2026-03-16", "北京星辰科技有限公司", "采购", "第二单", "2,000.00"],
        ["2026-03-17", "上海华信贸易有限公司", "飞鸽传书", "x", ""]], encoding="gbk")
    assert kehu(db_url, "import", calls, "--into", "timeline") == 0
    out = capsys.readouterr().out
    assert "1 rejected" in out and "飞鸽传书" in out, out
    store = opened()
    rows = by_name(store)
    star, huaxin = rows["北京星辰科技有限公司"], rows["上海华信贸易有限公司"]
    assert contacts(store, star) == [("刘工", "工程师", "+8613911112222"), ("李娜", "采购经理", "+8613800138000")]
    assert (star.purchase_total, star.purchase_count) == (Decimal("14500.00"), 2)
    I = store.Interaction
    entries = [(e.kind, e.summary) for e in I.select().where(I.customer == huaxin.id).order_by(I.occurred_at)]
    assert ("call", "谈了续约") in entries
    assert store.get_customer(huaxin.id).last_contact_at is not None


# --- the same files through the wizard (Ctrl+O), by keys typed in bursts ------------------

SHAPES = {   # builder, created, rejected, what the customers must be
    "wps_csv": (wps_csv, 4, 1, check_wps),
    "wps_xlsx": (wps_xlsx, 2, 1, lambda store: check_wps(store, serial=True)),
    "google": (google_csv, 2, 1, check_google),
    "outlook": (outlook_csv, 2, 1, check_outlook),
    "big5": (big5_csv, 2, 1, check_big5),
    "vcf": (vcf, 2, 1, check_vcf),
}


async def wizard(app, pilot, path, *keys):
    from tests.test_tui_import_wizard import open_wizard, result_text, settle
    from tests.ui_app import keys_at_once

    screen = await open_wizard(app, pilot, path)
    for key in keys:
        keys_at_once(app, key)
        await settle(app, pilot)
    return result_text(screen)


@pytest.mark.parametrize("shape", SHAPES)
async def test_each_shape_through_the_wizard_with_no_flag(store, tmp_path, shape):
    from kehu.tui.app import KehuApp

    build, created, rejected, check = SHAPES[shape]
    path = build(tmp_path)
    app = KehuApp(store)
    async with app.run_test(size=(120, 35)) as pilot:
        said = await wizard(app, pilot, path, "i")
        assert f"{created} created" in said and f"{rejected} rejected" in said, said
        assert "--" not in said.replace("--04-12", "")
    check(store)


async def test_the_wps_sheet_again_and_its_contacts_and_timeline_sheets_in_the_wizard(store, tmp_path):
    from kehu.tui.app import KehuApp

    path = wps_csv(tmp_path)
    people = write_csv(tmp_path / "联系人.csv", [["所属公司", "姓名", "职务", "手机"],
                                                 ["北京星辰科技有限公司", "刘工", "工程师", "13911112222"],
                                                 ["不存在的公司", "某人", "", ""]], encoding="gbk")
    calls = write_csv(tmp_path / "跟进记录.csv", [["日期", "客户名称", "类型", "内容", "金额"],
                                                  ["2026-03-16", "北京星辰科技有限公司", "采购", "第二单", "2000"]])
    for keys, file, said_here in (
            (["i"], path, "4 created"),
            (["i"], path, "0 created"),                  # again: the duplicates are skipped
            (["t", "i"], people, "Contacts: 2 rows read — 1 added, 1 rejected"),   # t: contacts
            (["t", "t", "i"], calls, "Timeline entries: 1 row read — 1 added")):   # t t: timeline
        app = KehuApp(store)
        async with app.run_test(size=(120, 35)) as pilot:
            said = await wizard(app, pilot, file, *keys)
            assert said_here in said and "#None" not in said, said
    star = by_name(store)["北京星辰科技有限公司"]
    assert contacts(store, star) == [("刘工", "工程师", "+8613911112222"), ("李娜", "采购经理", "+8613800138000")]
    assert (star.purchase_total, star.purchase_count) == (Decimal("14500.00"), 2)
    assert store.count_customers() == 4
