"""Entry rules from the field spec: one message naming the field and the rule."""
import datetime as dt
from decimal import Decimal

import pytest

from kehu.models import i18n
from kehu.models.schema import load_default_schema
from kehu.models.validate import FieldError, RecordInvalid, clean, clean_record, display

S = load_default_schema()


@pytest.mark.parametrize("raw, stored", [
    ("13800138000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("010-12345678", "+861012345678"),
    ("(0755) 8888 6666", "+8675588886666"),
    ("+1 650 253 0000", "+16502530000"),
])
def test_phones_are_normalised(raw, stored):
    assert clean(S["mobile"], raw) == stored


@pytest.mark.parametrize("raw", ["12345", "138001380001", "abc", "010-123"])
def test_a_wrong_phone_names_the_field_and_the_format(raw):
    with pytest.raises(FieldError) as err:
        clean(S["mobile"], raw)
    assert err.value.key == "mobile"
    assert str(err.value).startswith("Mobile: ")
    assert "area code-number" in str(err.value)


def test_phone_message_in_chinese():
    i18n.set_lang("zh")
    with pytest.raises(FieldError) as err:
        clean(S["mobile"], "12345")
    assert str(err.value).startswith("手机：")
    assert "区号-号码" in str(err.value)


def test_emails_are_checked_for_syntax_only():
    assert clean(S["email"], " Zhang.San@Example.COM ") == "Zhang.San@example.com"
    with pytest.raises(FieldError, match="Email: 'zhang@' is not a valid email"):
        clean(S["email"], "zhang@")


@pytest.mark.parametrize("raw, value", [
    ("1,234.50", Decimal("1234.50")), ("¥8000", Decimal("8000.00")),
    ("1.5万", Decimal("15000.00")), ("2亿", Decimal("200000000.00")),
])
def test_money_accepts_what_people_type(raw, value):
    assert clean(S["registered_capital"], raw) == value


def test_numbers_dates_choices_tags_and_urls():
    assert clean(S["age"], "42") == 42
    with pytest.raises(FieldError, match="Age: must be at most 150"):
        clean(S["age"], "200")
    with pytest.raises(FieldError, match="'4.5' is not a whole number"):
        clean(S["age"], "4.5")
    assert clean(S["birthday"], "1990/3/7") == dt.date(1990, 3, 7)
    assert clean(S["birthday"], "1990年3月7日") == dt.date(1990, 3, 7)
    with pytest.raises(FieldError, match="use YYYY-MM-DD"):
        clean(S["birthday"], "next tuesday")
    assert clean(S["grade"], "A 重点") == "A"
    assert clean(S["grade"], "b major") == "B"
    assert clean(S["region"], "East") == "华东"
    with pytest.raises(FieldError, match="'Z' is not one of"):
        clean(S["grade"], "Z")
    assert clean(S["tags"], "vip，重点、vip") == "vip,重点"
    assert clean(S["website"], "www.example.com") == "https://www.example.com"
    with pytest.raises(FieldError, match="not a web address"):
        clean(S["website"], "not a url")


def test_pattern_rule_gives_its_own_message():
    with pytest.raises(FieldError, match="Name: a name cannot be only digits or symbols"):
        clean(S["name"], "12345")
    with pytest.raises(FieldError, match="WeChat"):
        clean(S["wechat"], "a!")


def test_required_and_unknown_fields_are_reported_together():
    with pytest.raises(RecordInvalid) as err:
        clean_record(S, {"name": " ", "colour": "red"})
    assert set(err.value.errors) == {"name", "colour"}
    assert "is required" in str(err.value.errors["name"])


def test_defaults_apply_and_computed_fields_are_ignored():
    record = clean_record(S, {"name": "张三", "purchase_total": "999"})
    assert record["stage"] == "lead"
    assert "purchase_total" not in record


def test_display_for_people():
    assert display(S["mobile"], "+8613800138000") == "138 0013 8000"
    assert display(S["registered_capital"], Decimal("1234567.5")) == "1,234,567.50"
    assert display(S["grade"], "A") == "A key"
    i18n.set_lang("zh")
    assert display(S["grade"], "A") == "A 重点"


def test_dates_accept_today_and_landlines_read_area_code_dash_number():
    assert clean(S["birthday"], "today") == dt.date.today()
    assert clean(S["birthday"], "今天") == dt.date.today()
    from kehu.models.validate import format_phone

    assert format_phone("+861012345678") == "010-12345678"
    assert format_phone("+8675588886666") == "0755-88886666"
    assert format_phone("+8613800138000") == "138 0013 8000"


def test_new_records_default_to_today_and_the_current_user():
    record = clean_record(S, {"name": "张三"}, user="wanglei")
    assert record["acquired_on"] == dt.date.today()
    assert record["owner"] == "wanglei"
    assert clean_record(S, {"name": "张三", "owner": "lina"}, user="wanglei")["owner"] == "lina"


def test_the_fast_mobile_check_gives_phonenumbers_verdict():
    """Numbers typed like a Chinese mobile are judged without phonenumbers' parse;
    the verdict must be the one its full check gives."""
    import random

    import phonenumbers

    from kehu.models.validate import normalise_phone

    rng = random.Random(11)
    prefixes = ["+86", "86", "0086", ""]
    checked = {"valid": 0, "invalid": 0}
    for _ in range(20000):
        digits = "1" + "".join(rng.choice("0123456789") for _ in range(10))
        raw = rng.choice(prefixes) + digits
        try:
            number = phonenumbers.parse(raw, "CN")
            expected = (phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                        if phonenumbers.is_valid_number(number) else None)
        except phonenumbers.NumberParseException:
            expected = None
        try:
            got = normalise_phone(raw, "CN")
        except ValueError:
            got = None
        assert got == expected, raw
        checked["valid" if got else "invalid"] += 1
    assert min(checked.values()) > 2000  # both verdicts were exercised


@pytest.mark.parametrize("key, raw, message", [
    ("registered_capital", "1e30", "out of range"),
    ("registered_capital", "9e999999999", "out of range"),
    ("satisfaction", "1e40", "out of range"),
    ("headcount", "1e308", "out of range"),
    ("headcount", "99999999999999999999999", "out of range"),
    ("headcount", "9e999999999", "out of range"),
    ("headcount", 2 ** 63, "out of range"),
    ("headcount", Decimal("sNaN"), "not a whole number"),
    ("headcount", "1e-5", "not a whole number"),
    ("website", "http://[bad", "not a web address"),
    ("website", "example.com/\x00", "control character (U+0000) at character 13"),
    ("name", "张\x00三", "control character (U+0000) at character 2"),
    ("notes", "\x1b[2Jcleared", "control character (U+001B) at character 1"),
    ("email", "a\x7f@b.com", "control character (U+007F)"),
    ("city", "北\x85京", "control character (U+0085) at character 2"),
    ("name", "x\ud800", "control character (U+D800)"),
])
def test_a_value_a_parser_cannot_take_is_a_field_error_naming_the_rule(key, raw, message):
    with pytest.raises(FieldError) as err:
        clean(S[key], raw)
    assert err.value.key == key and message in str(err.value)


def test_the_biggest_and_smallest_64_bit_whole_numbers_are_kept():
    assert clean(S["headcount"], "9223372036854775807") == 2 ** 63 - 1
    signed = S["headcount"].__class__(**{**S["headcount"].__dict__, "min": None})
    assert clean(signed, "-9223372036854775808") == -(2 ** 63)


def test_tabs_and_line_breaks_are_kept_in_long_text_and_folded_in_one_line_text():
    assert clean(S["notes"], "第一行\r\n第二行\r第三行\x0b\tend") == "第一行\n第二行\n第三行\n\tend"
    assert clean(S["address"], "北京市朝阳区\n  建国路 1 号\t\t302") == "北京市朝阳区 建国路 1 号 302"
    assert clean(S["tags"], "vip\r\n老客户") == "vip,老客户"


def test_create_customer_refuses_bad_numbers_with_one_sentence(store):
    for data in ({"satisfaction": "1e40"}, {"headcount": "1e308"}, {"website": "http://[bad"},
                 {"registered_capital": "1e30"}):
        with pytest.raises(RecordInvalid) as err:
            store.create_customer({"name": "张三", **data})
        assert list(err.value.errors) == list(data)
    assert store.customers().count() == 0
