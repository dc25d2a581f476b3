"""The values of an import that used to reject a whole row, and columns that are
not customer fields.

* **Choices, leniently** (``match_choice``): exact, then case/width-folded,
  Traditional → Simplified, the choice's ``synonyms:`` (schema), a unique
  prefix either way (制造 → 制造业, 制造业（机械） → 制造业), then pinyin or its
  initials (zhizaoye, zzy). A value that still matches nothing does not reject
  its row: the row is kept, the field left empty, and the value is listed with
  its count (``ImportResult.unmatched``) so the user decides — map it to a
  choice (``ValueOptions.map_choice``, ``--choice``), add it to the choices in
  the user schema (``add_choices``, ``--add-choices``), or leave it so.
* **Dates**: ``15/03/2021`` (the day > 12 says which is which), with a time,
  with ``ValueOptions.date_order`` for ``03/04/2021``; an ambiguous one under
  the default order (year-month-day) keeps the row with the field empty and is
  listed. Phones, yes/no words and year-less birthdays are in models/validate.py
  (the form shares them).
* **Columns that are not fields** (``Mapping.roles``): in a sheet of companies
  ``联系人`` (with ``联系人电话``, ``职务``) becomes a contact of that customer
  (decision chain, models/chain.py); ``累计采购金额`` an opening purchase in the
  timeline (with ``最近采购`` as its date), so that the purchase totals and RFM
  (models/segments.py) come out right; Google's ``Phone N - Type`` decides
  which field ``Phone N - Value`` goes to.
* A customer named ``…有限公司`` (``…集团``, ``…厂`` …) is a company: its type
  and company field are set as the schema names them.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import unicodedata
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from . import validate
from .errors import KehuError
from .i18n import tr
from .schema import Choice, FieldSpec, Schema, _fold

FORMATS_PATH = Path(__file__).with_name("import_formats.yaml")
DATE_ORDERS = ("ymd", "dmy", "mdy")
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: A name ending so is a company's (customer type and company field set).
COMPANY_ENDS = ("有限责任公司", "股份有限公司", "有限公司", "公司", "集团", "总厂", "工厂", "厂", "工作室",
                "事务所", "研究院", "研究所", "设计院", "商行", "门市部", "经营部", "合作社", "银行", "医院",
                "学校", "大学", "学院", "协会", "商会", "中心", "超市", "酒店")
COMPANY_END_RE = re.compile(
    r"[.,\s](?:co\.?,?\s*ltd\.?|ltd\.?|limited|inc\.?|llc|corp\.?|corporation|gmbh|plc|s\.?a\.?)\s*$", re.I)


def is_company_name(name: str) -> bool:
    """北京星辰科技有限公司, 粤海集团, Acme Ltd: a company's name, not a person's."""
    name = name.rstrip()
    if name.endswith(COMPANY_ENDS):
        return True
    return name[-1:].isascii() and COMPANY_END_RE.search(name) is not None


class ValuesError(KehuError):
    """A decision about values that cannot be taken; ``str()`` is one sentence."""


class Kept(str):
    """The reason a value was left out while its row is kept (not a rejection)."""

    def __new__(cls, text: str, field_key: str = "", value: str = "", kind: str = "choice"):
        self = super().__new__(cls, text)
        self.field_key, self.value, self.kind = field_key, value, kind
        return self

    def __reduce__(self):   # to and from an import's worker processes
        return (Kept, (str(self), self.field_key, self.value, self.kind))


def _roles_config() -> dict[str, Any]:
    return (yaml.safe_load(FORMATS_PATH.read_text(encoding="utf-8")) or {}).get("roles", {})


# --- choices --------------------------------------------------------------------

def _norm(text: str) -> str:
    """Width and case folded, without blanks (Ｍａｎｕ → manu, 'I T' → it)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(text))).casefold()


def _simplified(text: str) -> str:
    if text.isascii():
        return text
    from .dedupe import simplified   # zhconv, loaded on first use

    return simplified(text)


@dataclass
class _ChoiceIndex:
    exact: dict[str, str | None]
    names: list[tuple[str, str]]
    choices: tuple[Choice, ...]
    pinyin: dict[str, str | None] | None = None


_indexes: dict[tuple, _ChoiceIndex] = {}


def _index(spec: FieldSpec) -> _ChoiceIndex:
    key = (spec.key, tuple((c.value, tuple(c.labels.items()), c.synonyms) for c in spec.choices))
    found = _indexes.get(key)
    if found is None:
        exact: dict[str, str | None] = {}
        names: list[tuple[str, str]] = []
        for choice in spec.choices:
            for name in {choice.value, *choice.labels.values(), *choice.synonyms}:
                for form in {_norm(name), _simplified(_norm(name))}:
                    if form:
                        seen = exact.setdefault(form, choice.value)
                        if seen != choice.value:
                            exact[form] = None   # two choices answer to it: neither
                        names.append((form, choice.value))
        found = _indexes[key] = _ChoiceIndex(exact, names, spec.choices)
    return found


def _pinyin(index: _ChoiceIndex) -> dict[str, str | None]:
    if index.pinyin is None:
        from pypinyin import lazy_pinyin   # ~1 s on first use: only for a Latin value

        out: dict[str, str | None] = {}
        for name, value in index.names:
            if not CJK_RE.search(name):
                continue
            syllables = [s for s in lazy_pinyin(name, errors="ignore") if s]
            for form in ("".join(syllables), "".join(s[0] for s in syllables)):
                if form and out.setdefault(form, value) != value:
                    out[form] = None
        index.pinyin = out
    return index.pinyin


def _unique(values) -> str | None:
    found = set(values)
    return found.pop() if len(found) == 1 else None


def match_choice(spec: FieldSpec, text: Any) -> str | None:
    """The choice ``text`` means, or None: exact, folded, Simplified, synonyms, a
    unique prefix (either way), pinyin or its initials."""
    raw = str(text).strip()
    if not raw:
        return None
    index = _index(spec)
    norm = _norm(raw)
    for form in (norm, _simplified(norm)):
        hit = index.exact.get(form)
        if hit:
            return hit
    form = _simplified(norm)
    if len(form) >= (1 if CJK_RE.search(form) else 2):
        hit = _unique(v for name, v in index.names if name.startswith(form))
        if hit:
            return hit   # 制造 → 制造业, manu → Manufacturing
    hit = _unique(v for name, v in index.names if len(name) >= 2 and form.startswith(name)
                  and (CJK_RE.search(name) or not form[len(name):len(name) + 1].isalnum()))
    if hit:
        return hit   # 制造业（机械） → 制造业
    if form.isascii() and form.isalpha():
        table = _pinyin(index)
        hit = table.get(form)
        if hit:
            return hit
        if len(form) >= 3:
            return _unique(v for name, v in table.items() if v and name.startswith(form))
    return None


# --- the user's decisions ----------------------------------------------------------

@dataclass
class Unmatched:
    """A value of a choice field that matches no choice, and how often it came."""
    field: str   # key
    label: str
    value: str
    count: int = 0
    rows: list[int] = field(default_factory=list)   # the first few rows it is in
    kind: str = "choice"   # or "date": a date that could be day/month or month/day


@dataclass
class ValueOptions:
    """What the user decided about values (CLI flags, the wizard)."""
    date_order: str = "ymd"
    #: field key -> normalised value -> choice value ("" leaves the field empty)
    choice_map: dict[str, dict[str, str]] = field(default_factory=dict)
    #: field key -> values to add to its choices (written to the user schema)
    additions: dict[str, list[str]] = field(default_factory=dict)
    #: every value that matches no choice is added (``--add-choices``); a set of field
    #: keys limits it to those fields
    add_all: bool = False
    add_fields: set[str] = field(default_factory=set)
    #: the schema file new choices are written to (None: the user schema)
    schema_path: Path | None = None
    #: what ``before_import`` added (field label -> values) and where
    added: dict[str, list[str]] = field(default_factory=dict)
    added_path: Path | None = None

    def __post_init__(self):
        if self.date_order not in DATE_ORDERS:
            raise ValuesError(tr("import_values.bad_date_order", value=self.date_order))

    def map_choice(self, schema: Schema, field_name: str, value: str, choice: str | None) -> None:
        """``value`` of the field goes to ``choice`` (a value or label, leniently); None or
        '' leaves the field empty without a note. A choice that does not exist yet is
        added to the choices when ``add_all`` is set or it was added with ``add_choice``."""
        spec = _choice_field(schema, field_name)
        target = ""
        if choice and str(choice).strip():
            target = match_choice(spec, choice) or str(choice).strip()
            if spec.choice(target) is None and not self.adds(spec.key, target):
                raise ValuesError(tr("import_values.no_such_choice", choice=choice, field=spec.label(),
                                     choices=", ".join(c.label() for c in spec.choices)))
        self.choice_map.setdefault(spec.key, {})[_simplified(_norm(value))] = target

    def add_choice(self, field_key: str, value: str) -> None:
        values = self.additions.setdefault(field_key, [])
        if value not in values:
            values.append(value)

    def adds(self, field_key: str, value: str) -> bool:
        return (self.add_all and (not self.add_fields or field_key in self.add_fields)) or (
            value in self.additions.get(field_key, []))

    def mapped(self, field_key: str, value: str) -> str | None:
        return self.choice_map.get(field_key, {}).get(_simplified(_norm(value)))


def _choice_field(schema: Schema, name: str) -> FieldSpec:
    spec = schema.get(str(name).strip()) or schema.resolve(str(name).strip())
    if spec is None:
        raise ValuesError(tr("import_values.unknown_field", field=name))
    if not spec.choices or spec.computed:
        raise ValuesError(tr("import_values.not_choice_field", field=spec.label()))
    return spec


def parse_choice_option(schema: Schema, text: str) -> tuple[str, str, str]:
    """'industry:农业/传媒=农业' → ('industry', '农业/传媒', '农业'); the field by key or label."""
    head, sep, choice = str(text).rpartition("=")
    name, colon, value = head.partition(":")
    if not sep or not colon or not name.strip() or not value.strip():
        raise ValuesError(tr("import_values.bad_choice_option", value=text))
    return _choice_field(schema, name).key, value.strip(), choice.strip()


def options_from_args(schema: Schema, *, choices: list[str] = (), add_choices: str | None = None,
                      date_order: str | None = None, schema_path: Path | None = None) -> ValueOptions:
    """The options ``kehu import`` was given: --choice (repeated), --add-choices [FIELDS],
    --date-order."""
    opts = ValueOptions(date_order=date_order or "ymd", schema_path=schema_path)
    if add_choices is not None:
        opts.add_all = True
        opts.add_fields = {_choice_field(schema, n).key for n in add_choices.split(",")
                           if n.strip() and n.strip() != "*"}
    for text in choices or ():
        key, value, choice = parse_choice_option(schema, text)
        opts.map_choice(schema, key, value, choice)
    return opts


# --- writing new choices to the user schema ------------------------------------------

def _user_schema_path(path: Path | None) -> Path:
    if path is not None:
        return Path(path)
    from .config import user_schema_path

    return user_schema_path()


def add_choices(store, additions: dict[str, list[str]], schema_path: Path | None = None) -> Path | None:
    """Add ``additions`` (field key → new values) to the fields' choices: written to the
    user schema file (``extends: default`` when it is new; the file as it was is kept
    beside it as ``schema.yaml.bak``) and to ``store.schema`` at once."""
    schema = store.schema
    new = {k: [v for v in dict.fromkeys(vs) if v and _choice_field(schema, k).choice(v) is None
               and match_choice(schema[k], v) != v]
           for k, vs in additions.items()}
    new = {k: vs for k, vs in new.items() if vs}
    if not new:
        return None
    path = _user_schema_path(schema_path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValuesError(tr("import_values.schema_not_writable", path=path, error=exc)) from None
    if not isinstance(doc, dict):
        doc = {"extends": "default", "fields": []}
    fields = doc.setdefault("fields", []) or []
    doc["fields"] = fields
    for key, values in new.items():
        spec = schema[key]
        entry = next((f for f in fields if isinstance(f, dict) and f.get("key") == key), None)
        if entry is None:
            entry = {"key": key}
            fields.append(entry)
        entry["choices"] = [_choice_doc(c) for c in spec.choices] + list(values)
    text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup = path.with_name(path.name + ".bak")
            backup.write_bytes(path.read_bytes())
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("# kehu schema: choices were added here by an import (models/import_values.py);\n"
                       "# the field's whole list is written, so edit it here\n" + text,
                       encoding="utf-8")
        from .schema import parse_schema

        parse_schema(tmp)   # a file kehu could not read again is never put in place
        os.replace(tmp, path)
    except OSError as exc:
        raise ValuesError(tr("import_values.schema_not_writable", path=path, error=exc)) from None
    fields_now = [replace(s, choices=s.choices + tuple(Choice(v, {"zh": v, "en": v}) for v in new[s.key]))
                  if s.key in new else s for s in schema.fields]
    store.schema = Schema(fields_now, schema.groups, schema.lists, schema.sources, schema.dropped)
    return path


def _choice_doc(choice: Choice) -> Any:
    if set(choice.labels.values()) == {choice.value} and not choice.synonyms:
        return choice.value
    doc: dict[str, Any] = {"value": choice.value, **choice.labels}
    if choice.synonyms:
        doc["synonyms"] = list(choice.synonyms)
    return doc


# --- mapping: roles of columns that are not fields ------------------------------------

def set_role(mapping, column: int, role: str | None) -> None:
    """Give a column a role (``contact.name`` …) instead of a field, or take it away."""
    if role is None:
        if mapping.roles.pop(column, None) is not None and hasattr(mapping, "dropped"):
            mapping.dropped.discard(column)
        return
    mapping.roles[column] = role
    mapping.fields[column] = None
    mapping.notes[column] = role_note(mapping, role)
    if hasattr(mapping, "dropped"):
        mapping.dropped.add(column)   # used here: not kept again in the Other columns


ROLES = ("contact.name", "contact.phone", "contact.title", "purchase.total", "purchase.date")
#: How a role is written where a field name would be (a saved profile, --map 联系人=@contact.name).
ROLE_MARK = "@"


def as_target(mapping, column: int) -> str | None:
    """What a column goes to, as a profile saves it: a field key, '@role', or None."""
    role = mapping.roles.get(column)
    if role in ROLES:
        return ROLE_MARK + role
    return mapping.fields[column]


def apply_target(mapping, column: int, name: Any) -> bool:
    """'@contact.name' from a profile or --map gives the column that role (True);
    anything else is a field name for ``Mapping.set`` (False)."""
    text = str(name or "").strip()
    if not text.startswith(ROLE_MARK):
        return False
    role = text[len(ROLE_MARK):]
    if role not in ROLES:
        raise ValuesError(tr("import_values.unknown_role", role=text,
                             roles=", ".join(ROLE_MARK + r for r in ROLES)))
    set_role(mapping, column, role)
    return True


def role_note(mapping, role: str) -> str:
    if role.startswith("contact."):
        part = role.split(".", 1)[1]
        return tr("import_values.note_contact", part=tr(f"import_values.part_{part}"))
    if role == "purchase.total":
        return tr("import_values.note_purchase_total")
    if role == "purchase.date":
        return tr("import_values.note_purchase_date")
    if role.startswith("phone:"):
        column = int(role[6:])
        return (tr("import_values.note_typed_phone", column=mapping.headers[column]) if column >= 0
                else tr("import_values.note_phone_by_shape"))
    return role


def refine_mapping(schema: Schema, source, mapping) -> None:
    """After the columns are mapped by name: roles for contact, purchase and typed phone
    columns, and the name column of a sheet of companies (see the module docstring)."""
    cfg = _roles_config()
    folded = [_fold(_simplified(h)) if h else "" for h in mapping.headers]   # 聯絡人 = 联络人

    def columns(names) -> list[int]:
        wanted = {_fold(n) for n in names}
        return [i for i, f in enumerate(folded) if f and f in wanted]

    # Google's "Phone 1 - Type"/"Phone 1 - Label" beside "Phone 1 - Value"
    for i, header in enumerate(mapping.headers):
        match = re.fullmatch(r"phone\s*(\d+)\s*-\s*value", header or "", re.I)
        if not match:
            continue
        kind = next((j for j, h in enumerate(mapping.headers) if re.fullmatch(
            rf"phone\s*{match[1]}\s*-\s*(type|label)", h or "", re.I)), -1)
        if i not in mapping.roles:   # no type column (-1): the number's shape decides
            set_role(mapping, i, f"phone:{kind}")
            if kind >= 0:
                mapping.notes[kind] = tr("import_values.note_phone_type", column=header)
                if hasattr(mapping, "dropped"):
                    mapping.dropped.add(kind)   # used: not kept again in the Other columns
    # 累计采购金额 → an opening purchase; 最近采购 → its date. Not in kehu's own export (it
    # has the other computed columns too: its totals come from a timeline `export --all` carries)
    own_export = any((spec := schema.resolve(h)) is not None and spec.computed
                     and spec.key not in ("purchase_total", "last_purchase_on")
                     for h in mapping.headers if h)
    for role, spec_key in (("purchase.total", "purchase_total"), ("purchase.date", "last_purchase_on")):
        if own_export:
            break
        if role == "purchase.date" and "purchase.total" not in mapping.roles.values():
            break   # a date without an amount makes no purchase: the column stays as it was
        names = list(cfg.get(role.replace(".", "_"), []))
        spec = schema.get(spec_key)
        for i, header in enumerate(mapping.headers):
            if not header or i in mapping.roles:
                continue
            resolved = schema.resolve(header)
            if _fold(_simplified(header)) in {_fold(n) for n in names} or (
                    spec is not None and resolved is spec):
                set_role(mapping, i, role)
                break
    # 联系人 in a sheet that also names the customer (客户名称, 公司名称): a contact
    name_spec, company_spec = schema.get("name"), schema.get("company")
    contact_cols = [i for i in columns(cfg.get("contact_name", [])) if i not in mapping.roles]
    if not contact_cols or name_spec is None:
        return
    named = {spec.key for spec in (name_spec, company_spec) if spec is not None}
    others = [i for i, h in enumerate(mapping.headers) if h and i not in contact_cols and i not in mapping.roles
              and (schema.resolve(h) in (name_spec, company_spec) or mapping.fields[i] in named)]  # 客戶名稱
    if not others:
        return   # a list of people: 联系人 is the customer's name
    set_role(mapping, contact_cols[0], "contact.name")
    if mapping.column_of("name") is None:
        column = next((i for i in others if schema.resolve(mapping.headers[i]) is name_spec), None)
        if column is None:   # only a company column: it names the customer
            column = others[0]
        for i, key in enumerate(mapping.fields):
            if key == "name":
                mapping.fields[i] = None
        mapping.fields[column] = "name"
        mapping.notes.pop(column, None)
    for role, names in (("contact.phone", cfg.get("contact_phone", [])),
                        ("contact.title", cfg.get("contact_title", []))):
        for i in columns(names):
            if i not in mapping.roles:
                set_role(mapping, i, role)
                break


# --- cleaning rows ----------------------------------------------------------------

@dataclass
class RowValues:
    """The per-row part of the import's cleaner (models/importer.py ``_Cleaner``);
    plain data, so it goes to the worker processes with it."""
    options: ValueOptions
    headers: list[str]
    typed_phones: list[tuple[int, int]]   # (value column, type column)
    sep: str | None
    multi_columns: list[tuple[int, str]]   # (column, field label) whose extra values go to notes
    notes_key: str | None
    type_key: str | None
    company_value: str | None
    company_key: str | None
    companies: bool   # the sheet lists companies (a contact column): every customer is one
    phone_keys: tuple[str | None, str | None]   # (mobile field, landline field)
    keep_extra: bool = False   # values left out go to the row's Other columns
    labels: dict[str, str] = field(default_factory=dict)   # field key -> label (phones)
    contact_columns: tuple[int, ...] = ()   # a row with only these is refused, not "empty"

    @classmethod
    def build(cls, schema: Schema, source, mapping, options: ValueOptions | None,
              sep: str | None) -> "RowValues":
        roles = getattr(mapping, "roles", {}) or {}
        typed = [(i, int(r[6:])) for i, r in roles.items() if r.startswith("phone:")]
        notes = schema.get("notes")
        type_spec = schema.get("customer_type")
        company_value = match_choice(type_spec, "company") if type_spec is not None and \
            type_spec.choices else None
        multi = [(i, schema[k].label()) for i, k in mapping.mapped
                 if sep and schema[k].type not in ("tags",)]
        return cls(options or ValueOptions(), list(mapping.headers), sorted(typed), sep, multi,
                   notes.key if notes is not None and notes.type in ("longtext", "text") else None,
                   type_spec.key if company_value else None, company_value,
                   "company" if "company" in schema else None,
                   "contact.name" in roles.values(),
                   (schema.get("mobile") and "mobile", schema.get("phone") and "phone"),
                   getattr(mapping, "keep_extra", False),
                   {k: schema[k].label() for k in ("mobile", "phone", "name") if k in schema},
                   tuple(sorted(i for i, r in roles.items() if r.startswith("contact."))))

    def keys(self) -> set[str]:
        """Fields a row may get here beside its mapped columns."""
        out = set()
        if self.typed_phones:
            out.update(k for k in self.phone_keys if k)
        if self.notes_key and (self.typed_phones or self.multi_columns):
            out.add(self.notes_key)
        if self.type_key:
            out.add(self.type_key)
            if self.company_key:
                out.add(self.company_key)
        return out

    # per value (cached by the cleaner) --------------------------------------------
    def prepare(self, spec: FieldSpec, raw: Any) -> Any:
        """A date or datetime read in the user's order (raises ``KeptValue`` when it is
        ambiguous under the default); anything else as it is."""
        if spec.type in ("date", "datetime") and isinstance(raw, str) and raw:
            order = self.options.date_order
            try:
                if spec.type == "date":
                    return validate.parse_date(raw, order, yearless=spec.key in validate.YEARLESS_FIELDS)
                return validate.parse_datetime(raw, order)
            except validate.AmbiguousDate:
                raise KeptValue(Kept(tr("import_values.ambiguous_kept", field=spec.label(), value=raw),
                                     spec.key, raw, "date")) from None
            except ValueError:
                return raw   # validate.clean says why
        return raw

    def rescue(self, spec: FieldSpec, prepared: Any) -> tuple[Any, Kept | None] | None:
        """A value a choice (or tags-with-choices) field refused: mapped, matched
        leniently, to be added, or kept out with a note. None: not a choice problem."""
        if not spec.choices or spec.type not in ("choice", "tags") or prepared is None:
            return None
        if spec.type == "tags":
            out, kept = [], None
            for tag in validate.split_tags(prepared):
                value, note = self._one_choice(spec, tag)
                if value:
                    out.append(value)
                kept = kept or note
            return (",".join(dict.fromkeys(out)) or None), kept
        return self._one_choice(spec, str(prepared))

    def _one_choice(self, spec: FieldSpec, text: str) -> tuple[str | None, Kept | None]:
        if spec.choice(text) is not None:
            return text, None
        mapped = self.options.mapped(spec.key, text)
        if mapped is not None:
            return (mapped or None), None
        hit = match_choice(spec, text)
        if hit:
            return hit, None
        return None, Kept(tr("import_values.not_a_choice_kept", field=spec.label(), value=text),
                          spec.key, text)

    # per row -----------------------------------------------------------------------
    def finish(self, cells: list[Any], values: dict[str, Any], problems: list, number: int,
               problem_type) -> None:
        """Typed phones, extra values of a multi-value cell, company type."""
        if not values and not problems and self.contact_columns and any(
                i < len(cells) and cells[i] not in (None, "") and str(cells[i]).strip()
                for i in self.contact_columns):
            # a contact without its customer (typed under a merged 客户名称 cell): refused with
            # the reason and written to the rejects file, never counted as an empty row
            problems.append(problem_type(number, "", self.labels.get("name", "name"), "",
                                         tr("validate.required")))
            return
        if self.type_key:
            name = values.get("name")
            if name and self.type_key not in values and (self.companies or is_company_name(str(name))):
                values[self.type_key] = self.company_value
                if self.company_key and not values.get(self.company_key):
                    values[self.company_key] = name
        if self.sep or self.typed_phones:
            self._more_values(cells, values, problems, number, problem_type)

    def keep_in_extra(self, values: dict[str, Any], kept: list) -> None:
        """The values left out of a kept row go to its Other columns (``extra``, as the
        columns no field takes): nothing of the row is lost."""
        if not self.keep_extra or not kept:
            return
        from .import_read import EXTRA

        other = json.loads(values.get(EXTRA) or "{}")
        for problem in kept:
            if problem.column and problem.value and problem.reason.kind in ("choice", "date"):
                other.setdefault(problem.column, problem.value)
        if other:
            values[EXTRA] = json.dumps(other, ensure_ascii=False)

    def _more_values(self, cells: list[Any], values: dict[str, Any], problems: list, number: int,
                     problem_type) -> None:
        width = len(cells)

        def cell(i: int) -> str:
            v = cells[i] if i < width else None
            return "" if v is None else str(v).strip()

        extra: list[str] = []
        if self.sep:
            for i, label in self.multi_columns:
                parts = [p.strip() for p in cell(i).split(self.sep.strip()) if p.strip()]
                if len(parts) > 1:
                    extra.append(tr("import_values.more_values", label=label, values=", ".join(parts[1:])))
        for value_col, type_col in self.typed_phones:
            text = cell(value_col)
            if not text:
                continue
            sep = (self.sep or " ::: ").strip()
            numbers = [p.strip() for p in text.split(sep) if p.strip()]
            kind = cell(type_col).lstrip("* ").strip() if type_col >= 0 else ""
            target = self._phone_field(kind, numbers[0])
            label = kind or self.headers[value_col]
            rest = numbers[1:]
            if target and target not in values:
                try:
                    values[target] = validate.normalise_phone(numbers[0])
                except ValueError as exc:
                    problems.append(problem_type(
                        number, self.headers[value_col], self.labels.get(target, target), numbers[0],
                        tr("import_values.short_landline" if isinstance(exc, validate.ShortLandline)
                           else "validate.bad_phone", value=numbers[0])))
            else:
                rest = numbers
            if rest:
                extra.append(tr("import_values.more_values", label=label, values=", ".join(rest)))
        if extra and self.notes_key:
            values[self.notes_key] = "\n".join(p for p in (values.get(self.notes_key), *extra) if p)

    def _phone_field(self, kind: str, number: str) -> str | None:
        mobile, landline = self.phone_keys
        k = kind.casefold()
        if "fax" in k or "传真" in k or "pager" in k:
            return None
        if any(w in k for w in ("mobile", "cell", "iphone", "手机", "移动")):
            return mobile
        if any(w in k for w in ("work", "main", "business", "company", "office", "工作", "单位",
                                "办公", "座机", "固话", "公司")):
            return landline
        digits = re.sub(r"\D", "", number)
        return mobile if re.fullmatch(r"(?:86)?1[3-9]\d{9}", digits) else landline


class KeptValue(Exception):
    """Raised by ``RowValues.prepare``: leave the field empty, keep the row, say why."""

    def __init__(self, kept: Kept):
        super().__init__(str(kept))
        self.kept = kept


# --- the import's result ------------------------------------------------------------

def note_kept(result, problems: list) -> list:
    """Record the kept-row notes of one row in ``result`` (notes and unmatched counts)
    and return the problems that reject it."""
    if not problems:
        return problems
    bad = []
    for problem in problems:
        reason = problem.reason
        if not isinstance(reason, Kept):
            bad.append(problem)
            continue
        if len(result.notes) < 200:
            result.notes.append(problem)
        key = (reason.field_key, _simplified(_norm(reason.value)), reason.kind)   # 農業 = 农业
        entry = result.unmatched_index.get(key)
        if entry is None:
            entry = result.unmatched_index[key] = Unmatched(reason.field_key, problem.field, reason.value,
                                                            kind=reason.kind)
            result.unmatched.append(entry)
        entry.count += 1
        if len(entry.rows) < 5:
            entry.rows.append(problem.row)
    return bad


def is_kept(problem) -> bool:
    return isinstance(problem.reason, Kept)


def split_kept(problems: list) -> tuple[list, list]:
    """(problems that reject the row, notes of values left out of a kept row)."""
    if not problems:
        return problems, []
    kept = [p for p in problems if p.reason.__class__ is Kept]
    if not kept:
        return problems, []
    return [p for p in problems if p.reason.__class__ is not Kept], kept


# --- before and after the rows -----------------------------------------------------------

def prescan_additions(schema: Schema, source, mapping, options: ValueOptions) -> dict[str, list[str]]:
    """With --add-choices: the values of the choice columns that match no choice (read
    from the file before the import, so the rows get them)."""
    columns = [(i, schema[k]) for i, k in mapping.mapped if schema[k].type in ("choice", "tags")
               and schema[k].choices and options.adds(k, "\0")]
    found: dict[str, list[str]] = {k: list(v) for k, v in options.additions.items()}
    for key, targets in options.choice_map.items():
        for target in targets.values():
            if target and schema[key].choice(target) is None:
                found.setdefault(key, []).append(target)
    if not columns:
        return found
    seen: set[tuple[str, str]] = set()
    for _, cells in source.rows():
        for i, spec in columns:
            raw = cells[i] if i < len(cells) else None
            if raw in (None, ""):
                continue
            texts = validate.split_tags(raw) if spec.type == "tags" else [str(raw).strip()]
            for text in texts:
                if (spec.key, text) in seen or not text:
                    continue
                seen.add((spec.key, text))
                if validate._match_choice(spec, text) is None and options.mapped(spec.key, text) is None \
                        and match_choice(spec, text) is None:
                    found.setdefault(spec.key, []).append(text)
    return found


def before_import(store, source, mapping, options: ValueOptions | None, dry_run: bool) -> Path | None:
    """Add the choices the user asked for to the schema (not on a dry run)."""
    if options is None or dry_run or not (options.add_all or options.additions or any(
            t and store.schema[k].choice(t) is None
            for k, m in options.choice_map.items() for t in m.values())):
        return None
    additions = prescan_additions(store.schema, source, mapping, options)
    path = add_choices(store, additions, options.schema_path)
    options.added = {store.schema[k].label(): v for k, v in additions.items() if v} if path else {}
    options.added_path = path
    return path


@dataclass
class _Extra:
    row: int
    name: str
    key: Any
    contact: dict[str, Any]
    amount: Any
    when: Any
    column: str


def _row_extras(source, cleaner, mapping, key_spec) -> list[_Extra] | None:
    roles = getattr(mapping, "roles", {}) or {}
    wanted = {r: i for i, r in roles.items() if r.startswith(("contact.", "purchase."))}
    if not wanted:
        return None
    out = []
    for number, cells in source.rows():
        values, problems = cleaner.row(number, cells)
        if not values or any(not is_kept(p) for p in problems):
            continue

        def cell(role):
            i = wanted.get(role)
            v = cells[i] if i is not None and i < len(cells) else None
            return v.strip() if isinstance(v, str) else v

        contact = {}
        if cell("contact.name"):
            contact = {"name": str(cell("contact.name"))}
            phone = cell("contact.phone") or values.get("mobile")   # not the switchboard
            if phone:
                contact["phone"] = str(phone)
            if cell("contact.title"):
                contact["title"] = str(cell("contact.title"))
        amount = cell("purchase.total")
        if not contact and amount in (None, ""):
            continue
        when = cell("purchase.date") or values.get("acquired_on")
        out.append(_Extra(number, str(values.get("name") or ""),
                          values.get(key_spec.key) if key_spec is not None else None, contact,
                          amount, when, mapping.headers[wanted["purchase.total"]]
                          if "purchase.total" in wanted else ""))
    return out


def after_rows(store, source, cleaner, mapping, result, batch_id: int | None, key_spec, dry_run: bool,
               problem_type) -> None:
    """Contacts and opening purchases of the rows just imported (counted on a dry run)."""
    extras = _row_extras(source, cleaner, mapping, key_spec)
    source_name = Path(str(source.path)).name
    if not extras:
        return
    from . import timeline
    from .validate import RecordInvalid

    C = store.Customer
    ids_by_name: dict[str, list[int]] = {}
    if not dry_run and batch_id is not None:
        for cid, name in C.select(C.id, C.name).where(C.import_batch == batch_id).order_by(C.id).tuples():
            ids_by_name.setdefault(name, []).append(cid)
    contacts, entries, changed = [], [], []
    # the batch's own time: what a revert knows them by (``before_revert``)
    stamp = _batch_stamp(store, batch_id) if batch_id is not None else _now()
    for extra in extras:
        cid, existing = None, False
        if not dry_run:
            queue = ids_by_name.get(extra.name)
            if queue:
                cid = queue.pop(0)
            elif key_spec is not None and extra.key is not None:   # a customer it updated
                cid = C.select(C.id).where(getattr(C, key_spec.key) == extra.key,
                                           C.deleted_at.is_null()).scalar()
                existing = True
            if cid is None:
                continue
        if extra.contact and not (existing and _has_contact(store, cid, extra.contact["name"])):
            values, error = _clean_contact(store, extra.contact)
            if values is not None:
                contacts.append(dict(customer=cid, created_at=stamp, updated_at=stamp, **values))
                result.contacts += 1
            else:
                result.notes.append(problem_type(
                    extra.row, "", tr("import_values.part_name"), extra.contact["name"],
                    Kept(tr("import_values.bad_contact", name=extra.contact["name"], error=error),
                         "", "", "contact")))
        if extra.amount not in (None, ""):
            when = extra.when
            if isinstance(when, str):
                try:
                    when = validate.parse_date(when, cleaner.values.options.date_order)
                except ValueError:
                    when = None
            data = {"amount": extra.amount, "occurred_at": when or dt.date.today(),
                    "summary": tr("import_values.opening_purchase", file=source_name)}
            try:
                values = timeline.clean_entry(store, cid or 0, {"kind": timeline.PURCHASE, **data})
            except (RecordInvalid, KehuError):
                result.notes.append(problem_type(extra.row, extra.column, extra.column, str(extra.amount),
                                                 Kept(tr("import_values.bad_purchase", field=extra.column,
                                                         value=extra.amount), "", "", "purchase")))
                continue
            if values.get("amount") in (None, Decimal(0)):
                continue
            opening = _opening_entry(store, cid) if existing else None
            if opening is not None:   # the sheet's figure is the opening balance: it replaces the old one
                if (opening.amount, opening.occurred_at) != (values["amount"], values["occurred_at"]):
                    changed.append((opening.id, values["amount"], values["occurred_at"]))
                    result.purchases += 1
                continue
            values.setdefault("user", store.user)
            entries.append(dict(customer=cid, created_at=stamp, updated_at=stamp, **values))
            result.purchases += 1
    if dry_run:
        return
    for start in range(0, len(contacts), 500):
        store.Contact.insert_many(contacts[start:start + 500]).execute()
    for start in range(0, len(entries), 500):
        store.Interaction.insert_many(entries[start:start + 500]).execute()
    for entry_id, amount, when in changed:
        store.Interaction.update(amount=amount, occurred_at=when, updated_at=stamp).where(
            store.Interaction.id == entry_id).execute()
    if contacts or entries or changed:
        store.audit.record("import", "customer", None, batch=batch_id,
                           fields={"contacts": [None, len(contacts)],
                                   "purchases": [None, len(entries) + len(changed)]})
    if entries or changed:
        store.refresh_purchase_totals()
        from . import segments

        if segments.available(store):
            segments._recompute(store)   # RFM and segments: an effect of the import (no right)


def _clean_contact(store, data: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    """(clean contact values, None) or (None, the error): a phone that is the customer's
    and no contact's (a switchboard) is dropped before the contact is given up."""
    from . import chain
    from .validate import RecordInvalid

    error = None
    for attempt in (data, {k: v for k, v in data.items() if k != "phone"}):
        try:
            return chain.clean_contact(store, attempt), None
        except (RecordInvalid, KehuError) as exc:
            error = error or exc
    return None, error


def _has_contact(store, customer_id: int, name: str) -> bool:
    K = store.Contact
    return K.select().where(K.customer == customer_id, K.name == name, K.deleted_at.is_null()).exists()


def _opening_entry(store, customer_id: int):
    """The opening purchase an earlier import gave the customer (its summary, in any language)."""
    I = store.Interaction
    marks = {tr("import_values.opening_purchase", lang, file="\0").split("\0")[0] for lang in ("zh", "en")}
    found = None
    for mark in marks:
        found = found or I.select().where(I.customer == customer_id, I.kind == "purchase",
                                          I.summary.startswith(mark), I.deleted_at.is_null()).first()
    return found


def _batch_stamp(store, batch_id: int):
    from .io_tables import io_models

    ImportBatch = io_models(store)["ImportBatch"]
    return ImportBatch.select(ImportBatch.created_at).where(ImportBatch.id == batch_id).scalar()


def before_revert(store, batch) -> None:
    """Reverting an import takes back the contacts and opening purchases it made (created
    with the batch's time, not edited since, nothing referring to them), so that its
    customers are deleted as untouched rather than hidden. A customer someone has worked
    on since (another entry, an edited contact) keeps them all: it is hidden whole, and
    restored whole. Run inside the revert's transaction."""
    stamp = batch.created_at
    C, K, I = store.Customer, store.Contact, store.Interaction
    contacts = K.select(K.id, K.customer).where(K.created_at == stamp, K.updated_at == stamp)
    for model in store.models.values():   # a contact something refers to stays
        for fk in (f for f in model._meta.refs if f.rel_model is K):
            contacts = contacts.where(~_exists(model, fk == K.id))
    made = {K: list(contacts.tuples()),
            I: list(I.select(I.id, I.customer).where(I.created_at == stamp, I.updated_at == stamp,
                                                     I.kind == "purchase").tuples())}
    if not any(made.values()):
        return
    ours = {cid for (cid,) in C.select(C.id).where(C.import_batch == batch.id).tuples()}
    worked_on = set()   # customers of this import with something the import did not make
    for model in store.models.values():
        fk = next((f for f in model._meta.refs if f.rel_model is C), None)
        if fk is None or not ours:
            continue
        mine = {i for i, _ in made.get(model, [])}
        for row_id, cid in model.select(model._meta.primary_key, fk).where(fk.in_(list(ours))).tuples():
            if row_id not in mine:
                worked_on.add(cid)
    for model, rows in made.items():
        ids = [i for i, cid in rows if cid not in worked_on]
        for start in range(0, len(ids), 500):
            model.delete().where(model._meta.primary_key.in_(ids[start:start + 500])).execute()
    if made[I]:
        store.refresh_purchase_totals()   # the customers it updated: their totals as before


def _exists(model, condition):
    import peewee

    return peewee.fn.EXISTS(model.select(peewee.SQL("1")).where(condition))


def _now():
    from .store import now

    return now()


# --- names in two columns ----------------------------------------------------------

_surnames: tuple[frozenset[str], frozenset[str]] | None = None


def _surname_sets() -> tuple[frozenset[str], frozenset[str]]:
    global _surnames
    if _surnames is None:
        text = (yaml.safe_load(FORMATS_PATH.read_text(encoding="utf-8")) or {}).get("surnames", "")
        words = str(text).split()   # the two-character surnames, then runs of single ones
        double = frozenset(w for w in words if len(w) == 2)
        single = frozenset(c for w in words if len(w) > 2 for c in w)
        _surnames = double, single
    return _surnames


def is_surname(text: str) -> bool:
    double, single = _surname_sets()
    text = _simplified(text.strip())
    return text in single or text in double


def cjk_name(family: str, given: str) -> str:
    """A Chinese name from its two columns, surname first: the column that holds a
    surname goes first, whichever it is (Outlook First=李, Last=娜 → 李娜; Google
    First=三, Last=张 → 张三); when both or neither do, the family column."""
    if given and family and is_surname(given) and not is_surname(family):
        return given + family
    return family + given


# --- what the import says about these values --------------------------------------------

def report_lines(result, options: ValueOptions | None = None, schema_path: Path | None = None) -> list[str]:
    """Lines for the import's summary (CLI, wizard): choices added, values that matched no
    choice (with counts and how to decide), ambiguous dates, contacts and purchases."""
    lines: list[str] = []
    if options is not None and options.added:
        for key, values in options.added.items():
            lines.append(tr("import_values.choices_added", field=key, values=", ".join(values),
                            path=options.added_path))
    choices = [u for u in result.unmatched if u.kind == "choice"]
    dates = [u for u in result.unmatched if u.kind == "date"]
    if choices:
        lines.append(tr("import_values.unmatched_header"))
        for u in sorted(choices, key=lambda u: (u.label, -u.count)):
            lines.append("  " + tr("import_values.unmatched_line", field=u.label, value=u.value,
                                   count=u.count, rows=", ".join(map(str, u.rows))
                                   + (" …" if u.count > len(u.rows) else "")))
        lines.append("  " + tr("import_values.unmatched_hint",
                               path=schema_path or _user_schema_path(None)))
    if dates:
        lines.append(tr("import_values.ambiguous_header"))
        for u in dates:
            lines.append("  " + tr("import_values.unmatched_line", field=u.label, value=u.value,
                                   count=u.count, rows=", ".join(map(str, u.rows))
                                   + (" …" if u.count > len(u.rows) else "")))
    if result.contacts or result.purchases:
        lines.append(tr("import_values.contacts_created", contacts=result.contacts,
                        purchases=result.purchases))
    for note in result.notes:
        if note.reason.__class__ is Kept and note.reason.kind in ("contact", "purchase"):
            lines.append("  " + tr("import_values.row_note", row=note.row, reason=note.reason))
    return lines
