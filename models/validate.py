"""Turning what a user typed (or a spreadsheet cell) into a stored value.

``clean(spec, raw)`` returns the value to store or raises ``FieldError`` with
the field key and one sentence in the user's language. The rules all come from
the ``FieldSpec``: type, required, choices, pattern, min/max, max_length.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from decimal import Decimal, DecimalException, InvalidOperation
from typing import Any
from urllib.parse import urlparse

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from .errors import KehuError
from .i18n import label as pick_label
from .i18n import tr
from .schema import FieldSpec, Schema, match_pattern, value_limit

DEFAULT_PHONE_REGION = "CN"
_phone_region = DEFAULT_PHONE_REGION
TAG_SPLIT_RE = re.compile(r"[,，;；、|\n]+")
TRUE_WORDS = {"1", "true", "yes", "y", "t", "on", "是", "对", "真", "有", "✓", "✔", "√", "☑", "x"}
FALSE_WORDS = {"0", "false", "no", "n", "f", "off", "否", "不", "假", "无", "×", "✗", "✘", "☐", ""}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%d.%m.%Y")
DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S",
                    "%Y-%m-%dT%H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")
#: The year a birthday given without one (``--04-12``, as Google writes it) is stored
#: with: the same placeholder as models/vcard.py (Apple Contacts' own; a leap year, so
#: ``--02-29`` is kept). The agenda takes any year up to 1900 as unknown (no age shown);
#: ``display`` writes such a date ``--04-12`` again.
NO_YEAR = 1604
#: Date fields that take a day of the year without its year.
YEARLESS_FIELDS = frozenset({"birthday"})
_YEARLESS_RE = re.compile(r"^--?(\d{1,2})-?(\d{2})$|^(\d{1,2})月(\d{1,2})日?$")
#: A date followed by a time of day (as WPS and Excel write a date cell to CSV).
_WITH_TIME_RE = re.compile(r"^(.+?)[ T]+(\d{1,2})[:：](\d{2})(?:[:：](\d{2})(?:\.\d+)?)?$")
#: Day, month and year with the year last: 15/03/2021, 15-03-2021, 15.3.2021.
_YEAR_LAST_RE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
#: Integer fields are 64-bit columns (BIGINT on PostgreSQL, INTEGER on SQLite).
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
#: Characters no stored value holds: C0 and C1 controls and DEL, UTF-16 surrogates,
#: U+FFFE/U+FFFF. PostgreSQL refuses NUL, an XLSX file (XML) refuses C0 controls, a
#: terminal draws none of them. Tab and line breaks are dealt with per type first.
CONTROL_RE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: Longtext keeps its line breaks (\r\n, \r, \v, \f become \n) and tabs.
_LINE_BREAK_RE = re.compile("\r\n?|[\v\f]")
_LONGTEXT_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
#: One-line text: a tab or line break (with the blanks around it) becomes one space.
_ONE_LINE_RE = re.compile("[ \t\n\r\v\f]*[\t\n\r\v\f][ \t\n\r\v\f]*")


class FieldError(KehuError, ValueError):
    """A value a field does not accept. ``str()`` names the field."""

    def __init__(self, key: str, message: str, label: str | None = None):
        self.key, self.message, self.label = key, message, label or key
        super().__init__(tr("validate.field_message", label=self.label, message=message))


class RecordInvalid(KehuError, ValueError):
    """Several fields of one record were refused: ``errors`` maps key → message."""

    def __init__(self, errors: dict[str, FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors.values()))


def set_phone_region(region: str | None) -> None:
    global _phone_region
    _phone_region = (region or DEFAULT_PHONE_REGION).upper()


def phone_region() -> str:
    return _phone_region


_CN_MOBILE_INPUT_RE = re.compile(r"^(?:\+?86|0086)?(1\d{10})$")


#: Number kinds phonenumbers tells apart (its is_valid_number: the number is one of them).
_NUMBER_KINDS = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost",
                 "personal_number", "voip", "pager", "uan", "voicemail")


@lru_cache(maxsize=None)
def _number_patterns(region: str) -> tuple[re.Pattern, re.Pattern, re.Pattern] | None:
    """phonenumbers' own metadata patterns for a region's whole numbers, its mobiles
    and its other kinds of number (landlines, toll-free …)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.mobile is None or not meta.mobile.national_number_pattern:
        return None
    others = [d.national_number_pattern for kind in _NUMBER_KINDS if kind != "mobile"
              and (d := getattr(meta, kind, None)) is not None and d.national_number_pattern]
    return (re.compile(meta.general_desc.national_number_pattern),
            re.compile(meta.mobile.national_number_pattern),
            re.compile("|".join(f"(?:{p})" for p in others) or "(?!)"))


class ShortLandline(ValueError):
    """021-12345: an area code and too few digits after it."""


#: An extension after a number: 010-88886666转123, … ext. 123, … x123, … 分机 123, … #123.
_EXTENSION_RE = re.compile(r"^(.*?\d)\s*(?:[,;]?\s*(?:转|轉|分机|分機|内线|ext\.?|extn\.?|extension|x|#)"
                           r"\s*[.:：=]?\s*|-)(\d{1,6})$", re.I)
#: Short service numbers kept as dialled: banks, insurers and airlines (95588, 95555),
#: 96xxx lines and the carriers' 100xx (10086): five or six digits starting so.
SERVICE_PREFIXES = ("95", "96", "100")
SERVICE_MIN_DIGITS = 5
#: The stored form of an extension: E.164, then ";ext=" and its digits (RFC 3966).
EXT_SEP = ";ext="


def normalise_phone(raw: str, region: str | None = None) -> str:
    """'138 0013 8000', '010-12345678', '+86 21 5555 1234' → E.164; an extension
    ('010-88886666-123', '…转123', '… ext. 123') kept as '+861088886666;ext=123';
    a service number ('95588', '10086') kept as its digits; '400-820-8820' is E.164.
    Raises ValueError (``ShortLandline`` for '021-12345')."""
    text = str(raw).strip()
    try:
        return _normalise_phone(text, region)
    except ShortLandline:
        raise
    except ValueError:
        pass
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit() and SERVICE_MIN_DIGITS <= len(digits) <= 6 and digits.startswith(SERVICE_PREFIXES):
        from phonenumbers import shortnumberinfo

        try:
            number = phonenumbers.parse(digits, region or _phone_region)
        except phonenumbers.NumberParseException:
            raise ValueError(text) from None
        if shortnumberinfo.is_valid_short_number_for_region(number, region or _phone_region):
            return digits
        raise ValueError(text)
    ext = _EXTENSION_RE.match(text) if len(text) <= 40 else None   # a number, not a page of text
    if ext:
        head = _normalise_phone(ext.group(1), region)   # ValueError when the number is bad
        if not _CN_MOBILE_RE.match(head):   # a mobile has no extension
            return head + EXT_SEP + ext.group(2)
    raise ValueError(text)


def _normalise_phone(text: str, region: str | None) -> str:
    if (region or _phone_region) == "CN":  # the common case, fast (an import of a million rows)
        match = _CN_MOBILE_INPUT_RE.match(text.replace(" ", "").replace("-", ""))
        patterns = match and _number_patterns("CN")
        if patterns:
            digits = match.group(1)
            # phonenumbers' verdict without its parse (~50 µs a number): a number of
            # the mobile kind is valid; one of no kind at all is not. Others, and
            # those starting like a carrier prefix it strips (11xx, 12xx, 179xx), go
            # through the parse
            if patterns[0].fullmatch(digits) and patterns[1].fullmatch(digits):
                return "+86" + digits
            if not digits.startswith(("11", "12", "179")) and not patterns[2].fullmatch(digits):
                raise ValueError(text)
    try:
        number = phonenumbers.parse(text, region or _phone_region)
    except phonenumbers.NumberParseException:
        raise ValueError(text) from None
    if not phonenumbers.is_valid_number(number) or number.extension:
        raise ValueError(text)
    if number.country_code == 86 and phonenumbers.number_type(number) == \
            phonenumbers.PhoneNumberType.FIXED_LINE:
        area = phonenumbers.length_of_geographical_area_code(number)
        if area and len(phonenumbers.national_significant_number(number)) - area < 7:
            raise ShortLandline(text)   # a Chinese landline has 7 or 8 digits after its area code
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_CN_MOBILE_RE = re.compile(r"^\+861[3-9]\d{9}$")


def format_phone(value: str | None, region: str | None = None) -> str:
    """E.164 to what people read: national format at home, international abroad."""
    if not value:
        return ""
    if EXT_SEP in value:
        number, _, ext = value.partition(EXT_SEP)
        return tr("import_values.phone_ext", number=format_phone(number, region), ext=ext)
    if value.isdigit():   # a service number (95588): as it is dialled
        return value
    if _CN_MOBILE_RE.match(value):  # the common case, without phonenumbers' ~100 µs parse
        local = f"{value[3:6]} {value[6:10]} {value[10:]}"
        return local if (region or _phone_region) == "CN" else "+86 " + local
    try:
        number = phonenumbers.parse(value, region or _phone_region)
    except phonenumbers.NumberParseException:
        return value
    home = phonenumbers.region_code_for_number(number) == (region or _phone_region)
    fmt = phonenumbers.PhoneNumberFormat.NATIONAL if home else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    text = phonenumbers.format_number(number, fmt)
    if home and number.country_code == 86 and phonenumbers.number_type(number) in (
            phonenumbers.PhoneNumberType.FIXED_LINE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        area, _, rest = text.partition(" ")  # Chinese landlines read "area code-number"
        text = f"{area}-{rest.replace(' ', '')}"
    return text


_DOT_ATOM_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")


@lru_cache(maxsize=65536)
def _email_domain(domain: str) -> str:
    """The normalised domain of an address (email_validator's rules), cached per domain."""
    return validate_email("x@" + domain, check_deliverability=False).domain


def _normalise_email(text: str) -> str:
    """email_validator's normalised address; a plain ASCII local part is checked by the
    RFC dot-atom rule and only its domain goes through email_validator (cached)."""
    local, at, domain = text.rpartition("@")
    if at and len(local) <= 64 and len(text) <= 254 and _DOT_ATOM_RE.match(local):
        return local + "@" + _email_domain(domain)
    return validate_email(text, check_deliverability=False).normalized


#: How kehu writes a date and time for people: to the minute.
MINUTES = "%Y-%m-%d %H:%M"

TODAY_WORDS = {"today", "今天", "今日"}
NOW_WORDS = {"now", "现在"}
#: A field default that means "the user who creates the record" (text fields).
DEFAULT_ME = "me"


class AmbiguousDate(ValueError):
    """03/04/2021: the 3rd of April or the 4th of March (``date_order`` decides)."""


class YearlessDate(ValueError):
    """--04-12 in a field that needs its year."""


def parse_date(text: str, order: str | None = None, *, yearless: bool = False) -> dt.date:
    """A date as people write it: 2021-03-15, 2021/3/15, 2021年3月15日, 20210315, a date
    with a time (the time is dropped), 15/03/2021 (the day > 12 says which is which;
    otherwise ``order`` "dmy" or "mdy" does, else ``AmbiguousDate``). ``yearless``:
    --04-12 is the 12th of April with the year ``NO_YEAR`` (a birthday)."""
    text = text.strip()
    if text.casefold() in TODAY_WORDS | NOW_WORDS:
        return dt.date.today()
    if len(text) == 10 and text[4] == "-":
        try:
            return dt.date.fromisoformat(text)  # the common case, without strptime
        except ValueError:
            pass
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    timed = _WITH_TIME_RE.match(text) if len(text) <= 40 else None
    if timed and _valid_time(timed) and not _WITH_TIME_RE.match(timed.group(1)):
        return parse_date(timed.group(1), order, yearless=yearless)   # one time, dropped
    year_last = _YEAR_LAST_RE.match(text)
    if year_last:
        a, b, year = (int(g) for g in year_last.groups())
        if a > 12 or (order == "dmy" and b <= 12):
            day, month = a, b
        elif b > 12 or order == "mdy":
            day, month = b, a
        else:
            raise AmbiguousDate(text)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ValueError(text) from None
    md = _YEARLESS_RE.match(text)
    if md:
        month, day = (int(g) for g in (md.group(1, 2) if md.group(1) else md.group(3, 4)))
        if not yearless:
            raise YearlessDate(text)
        try:
            return dt.date(NO_YEAR, month, day)
        except ValueError:
            raise ValueError(text) from None
    raise ValueError(text)


def _valid_time(match: re.Match) -> bool:
    hour, minute, second = match.group(2), match.group(3), match.group(4) or "0"
    return int(hour) < 24 and int(minute) < 60 and int(second) < 60


def parse_datetime(text: str, order: str | None = None) -> dt.datetime:
    text = text.strip()
    if text.casefold() in NOW_WORDS:
        return dt.datetime.now().replace(second=0, microsecond=0)
    for fmt in DATETIME_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    timed = _WITH_TIME_RE.match(text) if len(text) <= 40 else None
    if timed and _valid_time(timed):
        day = parse_date(timed.group(1), order)
        return dt.datetime.combine(day, dt.time(int(timed.group(2)), int(timed.group(3)),
                                                int(timed.group(4) or 0)))
    return dt.datetime.combine(parse_date(text, order), dt.time())


def parse_decimal(text: str) -> Decimal:
    """'1,234.50', '¥1234', '1.5万', '2亿', '$3k' → Decimal. Raises ValueError."""
    cleaned = re.sub(r"[\s,，¥￥$€£]|元|RMB|CNY", "", str(text), flags=re.I)
    factor = 1
    for suffix, mult in (("万", 10_000), ("亿", 100_000_000), ("k", 1_000), ("m", 1_000_000)):
        if cleaned.lower().endswith(suffix):
            cleaned, factor = cleaned[: -len(suffix)], mult
            break
    try:
        value = Decimal(cleaned)
        if factor != 1:
            value *= factor
    except DecimalException:  # not a number, or one beyond what Decimal computes (9e999999999)
        raise ValueError(text) from None
    if not value.is_finite():
        raise ValueError(text)
    return value


def split_tags(raw: Any) -> list[str]:
    items = raw if isinstance(raw, (list, tuple, set)) else TAG_SPLIT_RE.split(str(raw))
    out: list[str] = []
    for item in items:
        tag = str(item).strip()
        if tag and tag not in out:
            out.append(tag)
    return out


def is_empty(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or (
        isinstance(raw, (list, tuple, set)) and not raw)


def _match_choice(spec: FieldSpec, raw: Any) -> str | None:
    text = str(raw).strip()
    folded = text.casefold()
    for choice in spec.choices:
        if choice.value == text:
            return choice.value
    for choice in spec.choices:
        if choice.value.casefold() == folded or any(
                lbl.casefold() == folded for lbl in choice.labels.values()) or any(
                syn.casefold() == folded for syn in choice.synonyms):
            return choice.value
    return None


def _without_controls(spec: FieldSpec, text: str) -> str:
    """``text`` with its tabs and line breaks as the field's type keeps them; a
    control character left (NUL, ESC, …) is a ``FieldError`` naming it."""
    t = spec.type
    if t == "longtext":
        text = _LINE_BREAK_RE.sub("\n", text)
        found = _LONGTEXT_CONTROL_RE.search(text)
    else:
        if t in ("text", "tags"):  # tags: a line break separates two tags, as a comma does
            text = _ONE_LINE_RE.sub("\n" if t == "tags" else " ", text)
        found = CONTROL_RE.search(text.replace("\n", " ") if t == "tags" else text)
    if found:
        raise FieldError(spec.key, tr("values.control_character", code=f"U+{ord(found.group()):04X}",
                                      position=found.start() + 1), spec.label())
    return text


def _shown(raw: Any) -> Any:
    """A value as an error message quotes it: a very long one cut short."""
    if isinstance(raw, int) and not -10 ** 30 < raw < 10 ** 30:
        return f"{Decimal(raw):.3E}"
    text = str(raw)
    return text if len(text) <= 60 else text[:57] + "…"


def clean(spec: FieldSpec, raw: Any, *, region: str | None = None) -> Any:
    """The stored form of ``raw`` for this field, or ``FieldError``: never another
    exception, whatever ``raw`` is."""
    def fail(key: str, **values) -> FieldError:
        return FieldError(spec.key, tr(key, **values), spec.label())

    if is_empty(raw):
        if spec.required:
            raise fail("validate.required")
        return None
    t = spec.type
    if isinstance(raw, str):
        raw = raw.strip()
        if not raw.isprintable():  # printable text (nearly all of it) has nothing to look at
            raw = _without_controls(spec, raw)
    if t in ("text", "longtext"):
        value = str(raw)
        if spec.max_length and len(value) > spec.max_length:
            raise fail("validate.too_long", max=spec.max_length, length=len(value))
    elif t == "integer":
        if isinstance(raw, bool):
            raise fail("validate.not_integer", value=raw)
        try:
            number = parse_decimal(raw) if not isinstance(raw, (int, Decimal)) else Decimal(raw)
        except ValueError:
            raise fail("validate.not_integer", value=_shown(raw)) from None
        if not number.is_finite() or number != number.to_integral_value():
            raise fail("validate.not_integer", value=_shown(raw))
        if number.adjusted() > 19 or not INT_MIN <= number <= INT_MAX:  # 1e308 is not made an int
            raise fail("values.integer_out_of_range", value=_shown(raw),
                       min=f"{INT_MIN:,}", max=f"{INT_MAX:,}")
        value = int(number)
    elif t in ("money", "decimal"):
        if isinstance(raw, bool):
            raise fail("validate.not_number", value=raw)
        try:
            value = raw if isinstance(raw, Decimal) else parse_decimal(str(raw))
        except ValueError:
            raise fail("validate.not_number", value=raw) from None
        limit = value_limit(spec.decimals)  # what is stored exactly (models/schema.py)
        if not value.is_finite() or value.copy_abs() > limit:  # copy_abs: 9e999999999 does not overflow
            raise fail("money.out_of_range", value=str(raw)[:40], limit=f"{limit:,}")
        value = value.quantize(Decimal(1).scaleb(-spec.decimals))
    elif t == "date":
        if isinstance(raw, dt.datetime):
            value = raw.date()
        elif isinstance(raw, dt.date):
            value = raw
        else:
            try:
                value = parse_date(str(raw), yearless=spec.key in YEARLESS_FIELDS)
            except AmbiguousDate:
                raise fail("import_values.ambiguous_date", value=raw) from None
            except YearlessDate:
                raise fail("import_values.needs_year", value=raw) from None
            except ValueError:
                raise fail("validate.not_date", value=raw) from None
    elif t == "datetime":
        if isinstance(raw, dt.datetime):
            value = raw
        elif isinstance(raw, dt.date):
            value = dt.datetime.combine(raw, dt.time())
        else:
            try:
                value = parse_datetime(str(raw))
            except AmbiguousDate:
                raise fail("import_values.ambiguous_date", value=raw) from None
            except ValueError:
                raise fail("validate.not_datetime", value=raw) from None
    elif t == "boolean":
        if isinstance(raw, bool):
            value = raw
        else:
            word = str(raw).strip().casefold()
            if word in TRUE_WORDS:
                value = True
            elif word in FALSE_WORDS:
                value = False
            else:
                raise fail("validate.not_boolean", value=raw)
    elif t == "choice":
        value = _match_choice(spec, raw)
        if value is None:
            raise fail("validate.not_a_choice", value=raw,
                       choices=", ".join(c.label() for c in spec.choices))
    elif t == "tags":
        if isinstance(raw, (list, tuple, set)):  # stored comma-joined: read as that text would be
            raw = ",".join(str(item) for item in raw)
            if not raw.isprintable():
                raw = _without_controls(spec, raw)
        tags = split_tags(raw)
        if spec.choices:
            matched = []
            for tag in tags:
                value = _match_choice(spec, tag)
                if value is None:
                    raise fail("validate.not_a_choice", value=tag,
                               choices=", ".join(c.label() for c in spec.choices))
                matched.append(value)
            tags = matched
        value = ",".join(tags) if tags else None
    elif t == "phone":
        try:
            value = normalise_phone(str(raw), region)
        except ShortLandline:
            raise fail("import_values.short_landline", value=raw) from None
        except ValueError:
            raise fail("validate.bad_phone", value=raw) from None
    elif t == "email":
        try:
            value = _normalise_email(str(raw))
        except EmailNotValidError as exc:
            raise fail("validate.bad_email", value=raw, reason=str(exc)) from None
    elif t == "url":
        text = str(raw)
        if "://" not in text:
            text = "https://" + text
        try:
            parts = urlparse(text)
        except ValueError:  # 'http://[bad': an IPv6 host without its closing bracket
            raise fail("validate.bad_url", value=_shown(raw)) from None
        if parts.scheme not in ("http", "https") or "." not in parts.netloc or " " in text:
            raise fail("validate.bad_url", value=_shown(raw))
        value = text
    else:  # pragma: no cover - schema.py refuses unknown types
        raise fail("validate.unknown_type", type=t)

    if spec.pattern and t in ("text", "longtext", "phone", "email", "url"):
        matched = match_pattern(spec.pattern, str(value))   # time-bounded (models/schema.py)
        if matched is None:
            raise fail("validate.pattern_too_slow")
        if not matched:
            message = (tr("validate.pattern", pattern=spec.pattern) if not spec.pattern_message
                       else pick_label(spec.pattern_message))
            raise FieldError(spec.key, message, spec.label())
    if spec.min is not None or spec.max is not None:
        if t in ("integer", "money", "decimal"):
            if spec.min is not None and value < Decimal(str(spec.min)):
                raise fail("validate.below_min", min=spec.min)
            if spec.max is not None and value > Decimal(str(spec.max)):
                raise fail("validate.above_max", max=spec.max)
    return value


def default_value(spec: FieldSpec, user: str | None = None) -> Any:
    """A field's default, cleaned: ``today``/``now`` for dates, ``me`` (the
    current user) for text, or the literal value."""
    if spec.default == DEFAULT_ME and spec.type == "text":
        return user
    return clean(spec, spec.default)


def clean_record(schema: Schema, data: dict[str, Any], *, partial: bool = False,
                 region: str | None = None, user: str | None = None) -> dict[str, Any]:
    """Clean every field of a record; raises ``RecordInvalid`` listing all bad fields.

    ``partial`` cleans only the keys present (an update); otherwise every field
    of the schema is checked, so a missing required field is reported.
    Computed fields are never taken from input.
    """
    errors: dict[str, FieldError] = {}
    out: dict[str, Any] = {}
    for spec in schema.fields:
        if spec.computed:
            continue
        if partial and spec.key not in data:
            continue
        raw = data.get(spec.key)
        if raw is None and not partial and spec.default is not None:
            raw = default_value(spec, user)
        try:
            out[spec.key] = clean(spec, raw, region=region)
        except FieldError as exc:
            errors[spec.key] = exc
    unknown = [k for k in data if k not in schema]
    for key in unknown:
        errors[key] = FieldError(key, tr("validate.unknown_field", key=key))
    if errors:
        raise RecordInvalid(errors)
    return out


#: Stands for the hidden part of a sensitive value the user's role may not see
#: (models.security masks 13812345678 as 138****5678); display shows it as is.
MASK = "****"


def display(spec: FieldSpec, value: Any, lang: str | None = None) -> str:
    """A stored value as a person reads it (choice labels, formatted phone, …)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and MASK in value:
        return value
    t = spec.type
    if t == "choice":
        return spec.choice_label(value, lang)
    if t == "tags":
        return ", ".join(spec.choice_label(v, lang) if spec.choices else v
                         for v in str(value).split(",") if v)
    if t == "phone":
        return format_phone(value)
    if t in ("money", "decimal"):
        try:
            return f"{Decimal(str(value)):,.{spec.decimals}f}"
        except InvalidOperation:
            return str(value)
    if t == "boolean":
        return tr("value.yes", lang) if value else tr("value.no", lang)
    if t == "datetime" and isinstance(value, dt.datetime):
        return value.strftime(MINUTES)
    if t == "date" and isinstance(value, dt.datetime):
        value = value.date()
    if t == "date" and isinstance(value, dt.date):
        if value.year == NO_YEAR and spec.key in YEARLESS_FIELDS:
            return f"--{value:%m-%d}"   # a birthday without its year, as it was given
        return value.isoformat()
    return str(value)
