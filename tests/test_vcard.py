"""vCard (.vcf) import and export (issue 16): files written as iPhone, Google,
Outlook and old Android phones write them; the export re-imports exactly."""
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kehu.models import demo
from kehu.models.errors import KehuError
from kehu.models.exporter import export
from kehu.models.importer import ImportFailed, auto_mapping, open_source, run_import
from kehu.models.vcard import export_vcards, read_cards
from kehu.tui.cli import main

# iPhone (Contacts → Share): 3.0, item groups, TYPE repeated, a folded PHOTO, a year-less
# birthday as Apple stores it (X-APPLE-OMIT-YEAR), a Chinese name given-name first in FN
IPHONE = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iPhone OS 17.0//EN\r\n"
    "N:李;娜;;;\r\nFN:娜 李\r\nORG:广州市粤海物流有限公司;销售部;\r\nTITLE:采购经理\r\n"
    "item1.EMAIL;type=INTERNET;type=pref:lina@example.com\r\n"
    "TEL;type=CELL;type=VOICE;type=pref:138 0013 8000\r\n"
    "TEL;type=WORK;type=VOICE:020-88886666\r\nTEL;type=WORK;type=FAX:020-88886667\r\n"
    "item2.ADR;type=WORK;type=pref:;;天河路 1 号;广州;广东;510000;中国\r\n"
    "item2.X-ABADR:cn\r\nBDAY;X-APPLE-OMIT-YEAR=1604:1604-04-12\r\n"
    "NOTE:老客户\\n喜欢喝茶\r\nCATEGORIES:VIP,广州\r\n"
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQ\r\n"
    " NDAsLDBkSEw8UHRofHh0aHBwgJCQgLDAsLCgsLDw4QDw8QEBgUHRwhHBwhISEhI=broken\r\n"
    "END:VCARD\r\n")
# Google Contacts (Export → vCard): 3.0, year-less BDAY as --MM-DD, myContacts group
GOOGLE = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:John Smith\r\nN:Smith;John;;;\r\n"
    "EMAIL;TYPE=INTERNET;TYPE=WORK:john@example.com\r\nEMAIL;TYPE=INTERNET:john.home@example.com\r\n"
    "TEL;TYPE=CELL:+86 139 1234 5678\r\nBDAY:--02-29\r\n"
    "URL:https://example.com\r\nCATEGORIES:myContacts,Clients\r\n"
    "NOTE:A long note that Google folds because it is longer than seventy-five octets in \r\n"
    " one line\r\nEND:VCARD\r\n")
# Outlook (.vcf of one contact): 2.1, CHARSET and QUOTED-PRINTABLE, bare TEL;CELL
OUTLOOK = (
    "BEGIN:VCARD\r\nVERSION:2.1\r\nN;LANGUAGE=zh-cn;CHARSET=UTF-8:王;小明\r\n"
    "FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=E5=B0=8F=E6=98=8E =E7=8E=8B\r\n"
    "ORG;CHARSET=UTF-8:深圳前海科技有限公司\r\nTEL;WORK;VOICE:0755-26668888\r\n"
    "TEL;CELL;VOICE:13600136000\r\nEMAIL;PREF;INTERNET:wxm@qianhai.cn\r\n"
    "BDAY:19850312\r\nEND:VCARD\r\n")
# A company card (no person's name, ORG only), as macOS Contacts writes one
COMPANY = ("BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nFN:\r\nORG:北京华信科技有限公司;\r\n"
           "X-ABShowAs:COMPANY\r\nTEL;type=MAIN:010-62345678\r\nEND:VCARD\r\n")


def _import(store, path, **kwargs):
    source = open_source(path)
    return run_import(store, source, auto_mapping(store.schema, source), **kwargs)


def _by_name(store):
    return {c.name: c for c in store.customers()}


def test_cards_from_real_exporters_import(store, tmp_path):
    path = tmp_path / "contacts.vcf"
    path.write_text(IPHONE + GOOGLE + OUTLOOK + COMPANY, encoding="utf-8")
    result = _import(store, path, report_path=tmp_path / "rejected.csv")
    assert (result.created, result.rejected, result.problems) == (4, 0, [])
    rows = _by_name(store)
    assert set(rows) == {"李娜", "John Smith", "王小明", "北京华信科技有限公司"}
    li = rows["李娜"]   # surname first though FN said 娜 李
    assert (li.company, li.department, li.title) == ("广州市粤海物流有限公司", "销售部", "采购经理")
    assert (li.mobile, li.phone, li.email) == ("+8613800138000", "+862088886666", "lina@example.com")
    assert li.birthday == dt.date(1604, 4, 12)   # no year: month and day kept, year unknown
    assert li.city == "广州" and "天河路 1 号" in li.address and li.address.startswith("中国广东广州")
    assert li.tags == "VIP,广州"
    assert li.notes.startswith("老客户\n喜欢喝茶\n") and "020-88886667" in li.notes  # the fax kept
    john = rows["John Smith"]
    assert (john.mobile, john.email, john.birthday) == ("+8613912345678", "john@example.com",
                                                        dt.date(1604, 2, 29))
    assert john.tags == "Clients" and john.website == "https://example.com"
    assert "seventy-five octets in one line" in john.notes
    assert "john.home@example.com" in john.notes   # a second e-mail is not lost
    wang = rows["王小明"]
    assert (wang.mobile, wang.phone, wang.email, wang.birthday) == (
        "+8613600136000", "+8675526668888", "wxm@qianhai.cn", dt.date(1985, 3, 12))
    company = rows["北京华信科技有限公司"]
    assert company.customer_type == "company" and company.phone == "+861062345678"


def test_a_bad_value_rejects_its_card_with_the_reason(store, tmp_path):
    path = tmp_path / "bad.vcf"
    path.write_text(GOOGLE + GOOGLE.replace("John Smith", "Jane Doe").replace(
        "BDAY:--02-29", "BDAY:someday"), encoding="utf-8")
    result = _import(store, path, report_path=tmp_path / "rejected.csv")
    assert (result.created, result.rejected) == (1, 1)
    assert result.problems[0].row == 2 and result.problems[0].value == "someday"


def test_a_vcf_that_is_not_a_vcard_says_so(tmp_path):
    path = tmp_path / "x.vcf"
    path.write_text("Name,Phone\nA,1\n", encoding="utf-8")
    with pytest.raises(ImportFailed, match="BEGIN:VCARD"):
        open_source(path)


def test_export_writes_vcard_3_that_reimports_exactly(store, tmp_path):
    demo.generate(store, 300, seed=5)
    C = store.Customer
    first = store.customers().order_by(C.id).first()
    store.update_customer(first.id, {"birthday": dt.date(1604, 4, 12), "tags": "VIP,广州",
                                     "notes": "第一行\n第二行; with, commas"},
                          expected_version=first.version)
    originals = {c.external_id: c for c in store.customers()}
    path = tmp_path / "all.vcf"
    assert export_vcards(store, path).rows == 300
    text = path.read_bytes().decode("utf-8")
    assert text.count("BEGIN:VCARD") == 300 and "VERSION:3.0" in text
    assert "BDAY:--04-12" in text
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))   # folded
    assert len(list(read_cards(path))) == 300   # vobject reads its own output back
    result = _import(store, path, report_path=tmp_path / "rejected.csv")
    assert (result.created, result.rejected, result.problems) == (300, 0, [])
    copies = {c.external_id: c for c in store.customers().where(C.import_batch == result.batch_id)}
    assert copies.keys() == originals.keys()
    fields = [s.key for s in store.schema.fields if not s.computed]
    differences = [(key, f, getattr(originals[key], f), getattr(copy, f))
                   for key, copy in copies.items() for f in fields
                   if getattr(copy, f) != getattr(originals[key], f)]
    assert differences == []


def test_cli_exports_and_imports_vcf(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'k.db'}"
    card = tmp_path / "in.vcf"
    card.write_text(IPHONE, encoding="utf-8")
    assert main(["--db", url, "import", str(card)]) == 0
    assert "1 created" in capsys.readouterr().out
    out = tmp_path / "out.vcf"
    assert main(["--db", url, "export", "-o", str(out)]) == 0
    assert "1 customer written" in capsys.readouterr().out
    assert "FN:李娜" in out.read_text(encoding="utf-8")


# vCard 4.0 (as khard, Thunderbird and Nextcloud write it): quoted TYPE lists, tel: URIs,
# PREF=1, BDAY --MMDD
V4 = ("BEGIN:VCARD\r\nVERSION:4.0\r\nFN:陈国强\r\nN:陈;国强;;;\r\n"
      "TEL;TYPE=\"cell,voice\";VALUE=uri:tel:+86-135-0013-5000\r\n"
      "TEL;TYPE=work;PREF=1:tel:+86-21-6888-8888\r\nEMAIL;TYPE=work:chen@example.com\r\n"
      "BDAY:--0412\r\nORG:上海浦东发展有限公司\r\nADR;TYPE=work:;;世纪大道 100 号;上海;;;\r\n"
      "CATEGORIES:供应商\r\nEND:VCARD\r\n")


def test_vcard_4(store, tmp_path):
    path = tmp_path / "v4.vcf"
    path.write_text(V4, encoding="utf-8")
    result = _import(store, path)
    assert (result.created, result.rejected) == (1, 0)
    chen = _by_name(store)["陈国强"]
    assert (chen.mobile, chen.phone, chen.email) == ("+8613500135000", "+862168888888",
                                                     "chen@example.com")
    assert (chen.birthday, chen.address, chen.city, chen.tags) == (
        dt.date(1604, 4, 12), "世纪大道 100 号", "上海", "供应商")


def test_the_export_used_by_the_tui_writes_vcards_too(store, tmp_path):
    store.create_customer({"name": "李娜", "mobile": "13800138000", "birthday": dt.date(1990, 4, 12)})
    result = export(store, tmp_path / "one.vcf")
    assert result.rows == 1
    text = (tmp_path / "one.vcf").read_text(encoding="utf-8")
    assert "FN:李娜" in text and "TEL;TYPE=CELL:+8613800138000" in text and "BDAY:1990-04-12" in text
    assert "N:李;娜;;;" in text


def test_a_company_customer_is_a_company_card(store, tmp_path):
    store.create_customer({"name": "北京华信科技有限公司", "customer_type": "company",
                           "phone": "010-62345678"})
    export(store, tmp_path / "co.vcf")
    text = (tmp_path / "co.vcf").read_text(encoding="utf-8")
    assert "N:;;;;" in text and "X-ABSHOWAS:COMPANY" in text and "FN:北京华信科技有限公司" in text
    result = _import(store, tmp_path / "co.vcf")
    assert result.created == 1
    copy = store.customers().order_by(store.Customer.id.desc()).first()
    assert (copy.name, copy.customer_type, copy.company) == ("北京华信科技有限公司", "company", None)


@pytest.mark.fuzz
@given(edits=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 12),
                                st.sampled_from([";", ":", ",", "\\", "=", "\r\n", " ", "=E5", "-",
                                                 "ENCODING=QUOTED-PRINTABLE", "CHARSET=X;",
                                                 "BEGIN:VCARD\r\n", "END:VCARD\r\n", "BDAY:", "é"])),
                      min_size=1, max_size=8))
@settings(max_examples=200, deadline=None)
def test_a_damaged_vcard_is_read_or_refused_in_one_sentence(tmp_path_factory, edits):
    text = IPHONE + GOOGLE + OUTLOOK + COMPANY + V4
    for pos, cut, insert in edits:
        pos %= len(text) + 1
        text = text[:pos] + insert + text[pos + cut:]
    path = tmp_path_factory.mktemp("fz") / "x.vcf"
    path.write_text(text, encoding="utf-8")
    try:
        open_source(path)
    except KehuError as exc:
        assert str(exc).startswith(str(path))
