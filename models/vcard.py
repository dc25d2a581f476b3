"""vCard (.vcf) in and out, through the maintained ``vobject`` library.

Import: ``open_vcard(path)`` gives an importer ``Source`` whose columns are field
keys and whose rows are the cards, so a .vcf goes through the same mapping,
cleaning, duplicate check, report and revert as a spreadsheet
(``models.importer.open_source`` sends a ``.vcf`` here). What goes where:

* FN / N → name. A Chinese name is surname first: ``N:李;娜`` is 李娜 even when
  FN was written given-name first (``娜 李``, as Outlook does).
  A card with an ORG and no name is a company customer named after the ORG.
* TEL: TYPE=cell (mobile, iphone) → mobile; work, voice and the rest → phone;
  an untyped number goes to mobile when it is a mobile number. PREF first.
* EMAIL → email; ORG → company (and department); TITLE → title;
  ADR → address (the street, or the whole address when it has more parts) and city;
  BDAY → birthday; NOTE → notes; CATEGORIES → tags.
* A birthday without a year (``--04-12``, as Google and Android write it; Apple's
  ``X-APPLE-OMIT-YEAR``) is kept with the year 1604: the birthday field is a date,
  and 1604 is what Apple Contacts itself stores for "no year" — a leap year, so
  ``--02-29`` is kept too. kehu takes any year of birth up to 1900 as unknown
  (models.agenda.UNKNOWN_BIRTH_YEAR: no age is shown), and the export writes it
  back as ``--MM-DD``.
* The second phone, e-mail, address, fax or URL of a card has no field of its own:
  it is added to the notes (one line each), never dropped.
* ``X-KEHU-<FIELD>`` lines (written by kehu's export) fill the other fields.
* PHOTO, UID, REV, PRODID, X-… of other programs are ignored.

Export: ``export_vcards(store, path, rows)`` writes one vCard 3.0 per customer.
3.0 rather than 4.0: it is the version every phone, Outlook and Google Contacts
read and write (4.0 is still refused or half-read by several of them), and
vobject writes it natively (line folding, escaping). The year-less birthday
``--MM-DD`` is the ISO 8601 truncated form Google itself writes in 3.0 cards.
The fields vCard has no property for are written as ``X-KEHU-…`` so that a
re-import gives back exactly the same customer.
"""
from __future__ import annotations

import binascii
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import vobject

from .exporter import value_text
from .i18n import tr
from .importer import ImportFailed, Source
from .schema import Schema

#: The year stored for a birthday given without one (Apple Contacts' own placeholder).
NO_YEAR = 1604
X_PREFIX = "X-KEHU-"
#: Fields a vCard property carries (the rest travel as X-KEHU-…).
CARD_FIELDS = ("name", "company", "department", "title", "mobile", "phone", "email",
               "address", "city", "birthday", "notes", "tags", "website")
#: Google's system group every contact is in: not a tag anyone chose
_SYSTEM_GROUPS = {"mycontacts", "starred"}
#: Computed fields and bookkeeping are never written.
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_MOBILE = re.compile(r"^(?:\+?86)?1[3-9]\d{9}$")
_COMPOUND_SURNAMES = {
    "欧阳", "司马", "诸葛", "上官", "司徒", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
    "宇文", "夏侯", "令狐", "端木", "独孤", "南宫", "西门", "轩辕", "申屠", "澹台", "太史",
    "歐陽", "諸葛", "東方", "尉遲", "長孫", "獨孤", "軒轅",
}


class VcardError(ImportFailed):
    """A .vcf that cannot be read; the message names the file and line."""


# --- reading ------------------------------------------------------------------------

def _read_text(path: Path) -> str:
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise VcardError(tr("vcard.bad_encoding", path=path))


_BINARY = re.compile(r"^(?:[A-Za-z0-9-]+\.)?(?:PHOTO|LOGO|SOUND|KEY)[;:]", re.IGNORECASE)


def _without_binary(text: str) -> str:
    """The text less PHOTO, LOGO, SOUND and KEY (with their folded lines): kehu keeps
    none of them, and a broken picture must not stop the contact being read."""
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if skipping and (line[:1] in (" ", "\t") or not line.strip()):
            continue
        skipping = bool(_BINARY.match(line))
        if not skipping:
            out.append(line)
    return "\r\n".join(out) + "\r\n"


def _types(line) -> set[str]:
    """TYPE=… (repeated, comma-joined, quoted) and 2.1's bare ``TEL;CELL`` as one set."""
    out: set[str] = set()
    for value in list(line.params.get("TYPE", [])) + list(getattr(line, "singletonparams", [])):
        for part in str(value).split(","):
            part = part.strip().strip('"').lower()
            if part:
                out.add(part)
    if "PREF" in line.params:  # 4.0: PREF=1
        out.add("pref")
    return out


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v).strip() for v in value if str(v).strip())
    if isinstance(value, bytes):
        return ""
    return str(value or "").strip()


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


def _name(card) -> tuple[str, bool]:
    """(name, is the ORG standing in for a missing name)."""
    fn = _text(card.fn.value) if hasattr(card, "fn") else ""
    family = given = additional = ""
    if hasattr(card, "n") and isinstance(card.n.value, vobject.vcard.Name):
        n = card.n.value
        family, given, additional = _text(n.family), _text(n.given), _text(n.additional)
    if family or given:
        parts = [family, given, additional]
        if any(_has_cjk(p) for p in parts):
            surname_first = "".join(p.replace(" ", "") for p in parts)
            squeezed = fn.replace(" ", "")
            # FN in either order, or no FN: surname first, no space
            if not fn or sorted(squeezed) == sorted(surname_first):
                return surname_first, False
        elif not fn:
            return " ".join(p for p in (given, additional, family) if p), False
    if fn:
        return fn, False
    org = _org(card)
    return (org[0], True) if org and org[0] else ("", False)


def _org(card) -> list[str]:
    if not hasattr(card, "org"):
        return []
    value = card.org.value
    return [str(v).strip() for v in (value if isinstance(value, list) else [value])]


def _birthday(line) -> dt.date | str | None:
    raw = _text(line.value)
    if not raw:
        return None
    text = raw.split("T")[0].strip()
    omit = line.params.get("X-APPLE-OMIT-YEAR")
    match = re.fullmatch(r"--(\d\d)-?(\d\d)", text)
    try:
        if match:
            return dt.date(NO_YEAR, int(match[1]), int(match[2]))
        match = re.fullmatch(r"(\d{4})-?(\d\d)-?(\d\d)", text)
        if match:
            year = int(match[1])
            if omit and str(omit[0]) == match[1]:
                year = NO_YEAR
            return dt.date(year, int(match[2]), int(match[3]))
    except ValueError:
        pass
    return raw  # the cleaner says why it is not a date, naming the card


def _address(value) -> tuple[str, str]:
    """(address, city) from an ADR value."""
    parts = {k: _text(getattr(value, k, "")) for k in
             ("box", "extended", "street", "city", "region", "code", "country")}
    street = " ".join(p for p in (parts["street"], parts["extended"], parts["box"]) if p)
    if not (parts["region"] or parts["code"] or parts["country"]):
        return street, parts["city"]
    if _has_cjk("".join(parts.values())):   # Chinese order: country, province, city, street
        whole = "".join(p for p in (parts["country"], parts["region"], parts["city"], street) if p)
        return (whole + (f" {parts['code']}" if parts["code"] else "")), parts["city"]
    tail = " ".join(p for p in (parts["region"], parts["code"]) if p)
    return ", ".join(p for p in (street, parts["city"], tail, parts["country"]) if p), parts["city"]


def _kehu_fields(schema: Schema) -> dict[str, str]:
    """X-KEHU-… property name (lower case, as vobject gives it) → field key."""
    return {(X_PREFIX + spec.key.upper().replace("_", "-")).lower(): spec.key
            for spec in schema.fields if not spec.computed and spec.key not in CARD_FIELDS}


def card_record(card) -> dict[str, Any]:
    """One card as field key → raw value (text, or a date for the birthday)."""
    record: dict[str, Any] = {}
    more: list[str] = []
    name, from_org = _name(card)
    if name:
        record["name"] = name
    org = _org(card)
    if org and not from_org:
        record["company"] = org[0]
    if len(org) > 1 and org[1]:
        record["department"] = org[1]
    if from_org:
        record["customer_type"] = "company"
    if hasattr(card, "title"):
        record["title"] = _text(card.title.value)

    def preferred(lines):
        return sorted(lines, key=lambda line: "pref" not in _types(line))

    for line in preferred(card.contents.get("tel", [])):
        number = _text(line.value)
        number = number[4:] if number.lower().startswith("tel:") else number
        if not number:
            continue
        types = _types(line)
        if "fax" in types:
            more.append(tr("vcard.more_fax", value=number))
            continue
        if types & {"cell", "mobile", "iphone"}:
            slot = "mobile"
        elif types & {"work", "voice", "main", "home", "pref"} or types:
            slot = "phone"
        else:
            slot = "mobile" if _MOBILE.match(re.sub(r"[\s\-()]", "", number)) else "phone"
        if slot in record:
            slot = "phone" if slot == "mobile" and "phone" not in record else None
        if slot:
            record[slot] = number
        else:
            more.append(tr("vcard.more_tel", value=number))
    for line in preferred(card.contents.get("email", [])):
        address = _text(line.value)
        address = address[7:] if address.lower().startswith("mailto:") else address
        if address and "email" not in record:
            record["email"] = address
        elif address:
            more.append(tr("vcard.more_email", value=address))
    for line in preferred(card.contents.get("adr", [])):
        whole, city = _address(line.value)
        if "address" not in record and (whole or city):
            if whole:
                record["address"] = whole
            if city:
                record["city"] = city
        elif whole or city:
            more.append(tr("vcard.more_adr", value=whole or city))
    for line in preferred(card.contents.get("url", [])):
        url = _text(line.value)
        if url and "website" not in record:
            record["website"] = url
        elif url:
            more.append(tr("vcard.more_url", value=url))
    if hasattr(card, "bday"):
        birthday = _birthday(card.bday)
        if birthday is not None:
            record["birthday"] = birthday
    tags: list[str] = []
    for line in card.contents.get("categories", []):
        values = line.value if isinstance(line.value, list) else str(line.value).split(",")
        tags += [str(v).strip() for v in values if str(v).strip() and str(v).strip() not in tags
                 and str(v).strip().casefold() not in _SYSTEM_GROUPS]
    if tags:
        record["tags"] = "\n".join(tags)
    notes = [_text(line.value) for line in card.contents.get("note", []) if _text(line.value)]
    if notes or more:
        record["notes"] = "\n".join(notes + more)
    for prop, lines in card.contents.items():   # x-kehu-industry → industry
        if prop.startswith(X_PREFIX.lower()) and lines and prop[len(X_PREFIX):]:
            record.setdefault(prop[len(X_PREFIX):].replace("-", "_"), _text(lines[0].value))
    return {k: v for k, v in record.items() if v not in (None, "")}


def read_cards(path: str | Path) -> Iterator[Any]:
    """The cards of a .vcf file, as vobject components."""
    path = Path(path)
    text = _read_text(path)
    if "BEGIN:VCARD" not in text.upper():
        raise VcardError(tr("vcard.no_cards", path=path))
    cards = vobject.readComponents(_without_binary(text), allowQP=True)
    number = 0
    while True:
        try:
            component = next(cards, None)
        except vobject.base.ParseError as exc:
            line = getattr(exc, "lineNumber", None)
            raise VcardError(tr("vcard.parse_error", path=path, line=line or "?",
                                error=str(getattr(exc, "message", exc)).strip())) from None
        # what vobject raises decoding a card's values: quoted-printable bytes not in
        # their CHARSET, an unknown CHARSET, broken base64
        except (UnicodeError, LookupError, binascii.Error) as exc:
            raise VcardError(tr("vcard.bad_card", path=path, card=number + 1,
                                error=str(exc)[:120])) from None
        if component is None:
            return
        if component.name.upper() == "VCARD":
            number += 1
            yield component


def records(path: str | Path) -> list[dict[str, Any]]:
    return [card_record(card) for card in read_cards(path)]


@dataclass
class VcardSource(Source):
    """A .vcf as an importer source: one column per field, one row per card
    (numbered from 1, the card's place in the file)."""
    cards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def format_label(self) -> str:
        return "vCard"

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        for number, record in enumerate(self.cards, start=1):
            yield number, [record.get(h) for h in self.headers]


def open_vcard(path: str | Path) -> VcardSource:
    """A .vcf ready for ``importer.auto_mapping`` / ``run_import``: its columns are
    field keys (X-KEHU-… ones included, mapped by the schema like any header)."""
    path = Path(path)
    if not path.is_file():
        raise ImportFailed(tr("import.no_file", path=path))
    cards = records(path)
    if not cards:
        raise VcardError(tr("vcard.no_cards", path=path))
    keys: list[str] = []
    for record in cards:
        keys += [k for k in record if k not in keys]
    headers = [k for k in ("name", "customer_type", *CARD_FIELDS) if k in keys]
    headers = list(dict.fromkeys(headers + keys))
    return VcardSource(path, "vcf", headers, estimated_rows=len(cards), cards=cards)


# --- writing --------------------------------------------------------------------------

def _split_name(name: str) -> tuple[str, str]:
    """(family, given) for the N property."""
    name = name.strip()
    if _has_cjk(name) and " " not in name:
        size = 2 if name[:2] in _COMPOUND_SURNAMES and len(name) > 2 else 1
        return name[:size], name[size:]
    if " " in name:
        given, _, family = name.rpartition(" ")
        return family, given
    return name, ""


def card_for(record: dict[str, Any], schema: Schema):
    """A vobject vCard 3.0 for one customer record (field key → stored value)."""
    card = vobject.vCard()
    card.add("version").value = "3.0"
    name = str(record.get("name") or "")
    if record.get("customer_type") == "company":   # a company: no person's name to split
        card.add("n").value = vobject.vcard.Name()
        card.add("x-abshowas").value = "COMPANY"    # Apple and Google show it as a company
    else:
        family, given = _split_name(name)
        card.add("n").value = vobject.vcard.Name(family=family, given=given)
    card.add("fn").value = name
    company, department = record.get("company"), record.get("department")
    if company or department:
        card.add("org").value = [company or ""] + ([department] if department else [])
    if record.get("title"):
        card.add("title").value = record["title"]
    for key, kind in (("mobile", ["CELL"]), ("phone", ["WORK", "VOICE"])):
        if record.get(key):
            line = card.add("tel")
            line.value = str(record[key])
            line.type_paramlist = kind
    if record.get("email"):
        line = card.add("email")
        line.value = record["email"]
        line.type_paramlist = ["INTERNET"]
    if record.get("address") or record.get("city"):
        card.add("adr").value = vobject.vcard.Address(street=record.get("address") or "",
                                                      city=record.get("city") or "")
    birthday = record.get("birthday")
    if isinstance(birthday, dt.datetime):
        birthday = birthday.date()
    if isinstance(birthday, dt.date):
        card.add("bday").value = (f"--{birthday:%m-%d}" if birthday.year == NO_YEAR
                                  else birthday.isoformat())
    if record.get("tags"):
        card.add("categories").value = [t for t in str(record["tags"]).split(",") if t]
    if record.get("website"):
        card.add("url").value = str(record["website"])
    if record.get("notes"):
        card.add("note").value = str(record["notes"])
    for prop, key in _kehu_fields(schema).items():
        value = record.get(key)
        if value is None or value == "":
            continue
        card.add(prop).value = value_text(value, true="1", false="0")
    if record.get("id") is not None:
        card.add("uid").value = f"kehu-{record['id']}"
    return card


def _fold(text: str) -> str:
    """Lines folded at 75 octets (RFC 6350 3.2; vobject counts characters, and a
    Chinese character is 3 octets), never inside a character."""
    out = []
    for line in text.replace("\r\n ", "").split("\r\n"):
        size, start = 0, 0
        for i, char in enumerate(line):
            width = len(char.encode("utf-8"))
            if size + width > (75 if start == 0 else 74):
                out.append(("" if start == 0 else " ") + line[start:i])
                start, size = i, 0
            size += width
        out.append(("" if start == 0 else " ") + line[start:])
    return "\r\n".join(out)


@dataclass
class VcardExport:
    path: Path
    rows: int


def export_vcards(store, path: str | Path, *, rows=None, progress=None) -> VcardExport:
    """One vCard 3.0 per customer of ``rows`` (a ResultSet; all customers when None),
    with the values the user's role may not see masked, as every export."""
    import os

    from .exporter import ExportFailed
    from .results import ResultSet

    path = Path(path)
    guard = getattr(store, "guard", None)
    if guard is not None:
        guard.require("export")
    if not path.parent.is_dir():
        raise ExportFailed(tr("export.no_folder", path=path.parent))
    rows = rows if rows is not None else ResultSet(store)
    partial = path.with_name(path.name + ".partial")
    count = 0
    try:
        with open(partial, "w", encoding="utf-8", newline="") as fh:
            for record in rows.select().dicts().iterator():
                if guard is not None:
                    record = guard.visible(record)
                fh.write(_fold(card_for(record, store.schema).serialize()))
                count += 1
                if progress is not None and count % 500 == 0:
                    progress(count)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExportFailed(tr("vcard.cannot_write", path=path, error=exc.strerror or exc)) from None
    if getattr(store, "audit", None) is not None:   # who took which rows out, and where to
        with store.db.atomic():
            store.audit.record("export", "customer", None, fields={"rows": [None, count]},
                               note=tr("vcard.audit_export", rows=count, path=path.resolve()))
    return VcardExport(path, count)
