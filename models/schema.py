"""The customer field schema: one YAML declaration per field.

A ``FieldSpec`` is the single place a customer field is described. It drives
the database column (``models.store``), the validator (``models.validate``),
the table column and the form widget (``tui``) and the import mapping
(aliases). The default schema ships as ``default_schema.yaml``; a user file can
replace it or extend it (``extends: default``).
"""
from __future__ import annotations

import math
import re
import unicodedata
from functools import lru_cache
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .errors import KehuError
from .i18n import label as pick_label
from .i18n import tr

DEFAULT_SCHEMA_PATH = Path(__file__).with_name("default_schema.yaml")

FIELD_TYPES = (
    "text", "longtext", "integer", "money", "decimal", "date", "datetime",
    "boolean", "choice", "tags", "phone", "email", "url",
)
NUMERIC_TYPES = ("integer", "money", "decimal")
#: Money and decimal values keep at most this many digits (9,999,999,999,999.99 with two
#: decimals): every one is exact as an int64 count of cents on SQLite, in NUMERIC(18, d) on
#: PostgreSQL and as a spreadsheet number (a double keeps 15 significant digits).
NUMBER_DIGITS = 15
#: The digits of a money or decimal column (NUMERIC(18, decimals)): a query value may go
#: up to what the column holds, beyond what a saved value may (``NUMBER_DIGITS``).
COLUMN_DIGITS = 18


def value_limit(decimals: int) -> Decimal:
    """The largest money or decimal value with ``decimals`` places (its negative is the least)."""
    return Decimal(10 ** NUMBER_DIGITS - 1).scaleb(-max(int(decimals), 0))


TEXT_TYPES = ("text", "longtext", "choice", "tags", "phone", "email", "url")
#: Columns every customer row has whatever the schema says.
SYSTEM_COLUMNS = ("id", "created_at", "updated_at", "version", "deleted_at", "search_text",
                  "import_batch", "extra")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
#: At most this many decimal places (money and decimal fields; see ``value_limit``).
MAX_DECIMALS = 6
#: A pattern gets this long (seconds) on one value; longer, the value is refused with a
#: sentence instead of kehu hanging (``match_pattern``).
PATTERN_TIMEOUT = 0.1
FIELD_ATTRS = {
    "key", "label", "type", "group", "required", "choices", "default", "pattern",
    "pattern_message", "min", "max", "max_length", "decimals", "index", "searchable",
    "in_table", "width", "sensitive", "aliases", "computed", "help", "important",
}


class SchemaError(KehuError):
    """A schema file that cannot be used; ``str()`` is the one-line message."""

    def __init__(self, message: str, path: str | Path | None = None, line: int | None = None,
                 field: str | None = None):
        self.message, self.path, self.line, self.field = message, path, line, field
        where = str(path) if path else "schema"
        if line:
            where += f":{line}"
        prefix = f"{where}: " + (tr("schema.field_prefix", key=field) + " " if field else "")
        super().__init__(prefix + message)


@dataclass(frozen=True)
class Choice:
    value: str
    labels: dict[str, str]
    #: Other words people write for it (import and form match them: 制造 → 制造业).
    synonyms: tuple[str, ...] = ()

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.value


@dataclass(frozen=True)
class GroupSpec:
    key: str
    labels: dict[str, str]

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.key


@dataclass(frozen=True)
class FieldSpec:
    key: str
    type: str
    group: str
    labels: dict[str, str]
    required: bool = False
    choices: tuple[Choice, ...] = ()
    default: Any = None
    pattern: str | None = None
    pattern_message: dict[str, str] | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    decimals: int = 2
    index: bool = False
    searchable: bool = False
    in_table: bool = False
    width: int | None = None
    sensitive: bool = False
    aliases: tuple[str, ...] = ()
    computed: bool = False
    help: dict[str, str] | None = None
    #: counted by the data-quality report's completeness (``models.quality``)
    important: bool = False
    line: int | None = field(default=None, compare=False)

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.key

    def choice(self, value: Any) -> Choice | None:
        for choice in self.choices:
            if choice.value == value:
                return choice
        return None

    def choice_label(self, value: Any, lang: str | None = None) -> str:
        choice = self.choice(value)
        return choice.label(lang) if choice else ("" if value is None else str(value))

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a user may call this field by: key, labels, aliases."""
        return (self.key, *self.labels.values(), *self.aliases)

    @property
    def storage(self) -> str:
        """The kind of column the values need: 'text', 'int', 'decimal', 'date', ..."""
        return {
            "integer": "int", "money": "money", "decimal": "decimal", "date": "date",
            "datetime": "datetime", "boolean": "bool",
        }.get(self.type, "text")

    @property
    def display_width(self) -> int:
        if self.width:
            return self.width
        if self.type == "choice" and self.choices:
            # wide enough for the longest label in the interface language, so
            # 'Northeast' and 'Northwest' never both read 'North…'
            longest = max(_cells(c.label()) for c in self.choices)
            return max(_cells(self.label()), min(longest, 14), 4)
        return {
            "date": 10, "datetime": 16, "boolean": 4, "integer": 8, "money": 14,
            "decimal": 12, "phone": 16, "email": 24, "choice": 8, "url": 24,
        }.get(self.type, 16)


@dataclass(frozen=True)
class ListItem:
    """An entry of a named list (decision roles, stances, interaction kinds, …)."""
    value: str
    labels: dict[str, str]
    icon: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.value


@dataclass
class Schema:
    fields: list[FieldSpec]
    groups: list[GroupSpec]
    lists: dict[str, list[ListItem]] = field(default_factory=dict)
    sources: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()

    def __post_init__(self):
        self._by_key = {f.key: f for f in self.fields}
        self._by_name: dict[str, FieldSpec] = {}
        for f in self.fields:
            for name in f.names:
                self._by_name.setdefault(_fold(name), f)

    def __iter__(self):
        return iter(self.fields)

    def __contains__(self, key: str) -> bool:
        return key in self._by_key

    def __getitem__(self, key: str) -> FieldSpec:
        return self._by_key[key]

    def get(self, key: str) -> FieldSpec | None:
        return self._by_key.get(key)

    def resolve(self, name: str) -> FieldSpec | None:
        """A field by key, zh or en label or alias, case- and space-insensitive."""
        return self._by_name.get(_fold(name))

    @property
    def keys(self) -> list[str]:
        return [f.key for f in self.fields]

    @property
    def table_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.in_table]

    @property
    def searchable_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields if f.searchable]

    def group_fields(self, group: str) -> list[FieldSpec]:
        return [f for f in self.fields if f.group == group]

    def group(self, key: str) -> GroupSpec | None:
        return next((g for g in self.groups if g.key == key), None)

    def list_items(self, name: str) -> list[ListItem]:
        return self.lists.get(name, [])

    def list_item(self, name: str, value: str) -> ListItem | None:
        return next((i for i in self.lists.get(name, []) if i.value == value), None)


def _cells(text: str) -> int:
    """Terminal cells of a text: East Asian wide characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).casefold()


# --- YAML with line numbers and duplicate-key detection -------------------

class _LineDict(dict):
    line: int | None = None
    key_lines: dict


class _LineList(list):
    line: int | None = None
    item_lines: list


class _Loader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    result = _LineDict()
    result.line = node.start_mark.line + 1
    result.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            raise SchemaError(tr("schema.bad_yaml_key"), line=key_node.start_mark.line + 1) from None
        if key in result:
            raise SchemaError(tr("schema.duplicate_yaml_key", key=key),
                              line=key_node.start_mark.line + 1)
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    result = _LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _line(container: Any, at: Any = None, default: int | None = None) -> int | None:
    """The line of an entry of a mapping (by key) or list (by index), or of the
    container itself, or ``default``."""
    if at is not None:
        if isinstance(container, _LineDict) and at in container.key_lines:
            return container.key_lines[at]
        if isinstance(container, _LineList) and isinstance(at, int) and at < len(container.item_lines):
            return container.item_lines[at]
    return getattr(container, "line", None) or default


def _item_line(item: Any, items: Any, i: int, default: int | None) -> int | None:
    return getattr(item, "line", None) or _line(items, i, default)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SchemaError(tr("schema.not_found"), path) from None
    except UnicodeDecodeError as exc:
        raise SchemaError(tr("schema.not_utf8", error=exc.reason), path) from None
    except OSError as exc:
        raise SchemaError(str(exc.strerror or exc), path) from None
    try:
        return yaml.load(text, Loader=_Loader)
    except SchemaError as exc:
        raise SchemaError(exc.message, path, exc.line) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise SchemaError(tr("schema.bad_yaml", problem=problem), path,
                          mark.line + 1 if mark else 1) from None
    except yaml.reader.ReaderError as exc:   # a control character: no mark, a position
        raise SchemaError(tr("schema.bad_yaml", problem=tr("files.bad_character",
                                                            code=f"{exc.character:#06x}")),
                          path, text[:exc.position].count("\n") + 1) from None
    except yaml.YAMLError as exc:
        raise SchemaError(tr("schema.bad_yaml", problem=str(exc)), path, 1) from None


# --- building specs -------------------------------------------------------

def _labels(value: Any, path, line, key, what="label") -> dict[str, str]:
    if isinstance(value, str):
        return {"zh": value, "en": value}
    if isinstance(value, dict) and value and all(isinstance(v, str) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    raise SchemaError(tr("schema.bad_label", what=what), path, line, key)


def _choices(raw: Any, path, line, key) -> tuple[Choice, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not raw:
        raise SchemaError(tr("schema.bad_choices_list", example=CHOICE_EXAMPLE), path, line, key)
    out: list[Choice] = []
    for i, item in enumerate(raw):
        if _scalar(item):
            out.append(Choice(str(item), {"zh": str(item), "en": str(item)}))
        elif isinstance(item, dict) and _scalar(item.get("value")) and all(
                _scalar(v) for k, v in item.items() if k in ("zh", "en")):
            labels = {k: str(v) for k, v in item.items() if k in ("zh", "en")}
            synonyms = item.get("synonyms") or []
            if not isinstance(synonyms, list) or not all(_scalar(s) and str(s).strip() for s in synonyms):
                raise SchemaError(tr("schema.bad_synonyms", value=item["value"]), path,
                                  _item_line(item, raw, i, line), key)
            out.append(Choice(str(item["value"]), labels or {"en": str(item["value"])},
                              tuple(str(s).strip() for s in synonyms)))
        else:
            raise SchemaError(tr("schema.bad_choices_list", example=CHOICE_EXAMPLE), path,
                              _item_line(item, raw, i, line), key)
    values = [c.value for c in out]
    dup = next((v for v in values if values.count(v) > 1), None)
    if dup is not None:
        raise SchemaError(tr("schema.duplicate_choice", value=dup), path, line, key)
    owner: dict[str, str] = {}   # a word (folded) -> the choice it names
    for c in out:
        for word in {c.value, *c.labels.values()}:
            owner.setdefault(word.casefold(), c.value)
    for c in out:
        for word in c.synonyms:
            other = owner.setdefault(word.casefold(), c.value)
            if other != c.value:   # one word for two choices: which one would 'word' be?
                raise SchemaError(tr("schema.synonym_taken", word=word, value=c.value, other=other),
                                  path, line, key)
    return tuple(out)


CHOICE_EXAMPLE = "{value: …, zh: …, en: …}"


def _scalar(value: Any) -> bool:
    """A plain YAML value a choice or alias can be: text or a finite number."""
    return (isinstance(value, str) or (isinstance(value, (int, float)) and not isinstance(value, bool)
                                       and math.isfinite(value)))


def _number(value, path, line, key, attr):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SchemaError(tr("schema.not_a_number", attr=attr, value=value), path, line, key)
    return value


def _whole(value, path, line, key, attr, lo: int, hi: int) -> int | None:
    """A whole number from ``lo`` to ``hi`` (None: not given)."""
    if value is None:
        return None
    if (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)
            or value != int(value) or not lo <= value <= hi):
        raise SchemaError(tr("schema.not_whole", attr=attr, value=value, lo=lo, hi=hi),
                          path, line, key)
    return int(value)


@lru_cache(maxsize=256)
def _compiled(pattern: str):
    import regex   # imported on first use: start-up does not pay for it

    return regex.compile(pattern)


def match_pattern(pattern: str, text: str) -> bool | None:
    """Does ``text`` match the whole ``pattern``? None when the match takes longer than
    ``PATTERN_TIMEOUT`` (a pattern that backtracks badly on this value): matched with
    the ``regex`` package, same syntax as ``re``, with its time bounded."""
    try:
        return _compiled(pattern).fullmatch(text, timeout=PATTERN_TIMEOUT) is not None
    except TimeoutError:
        return None


def _probes(pattern: str) -> list[str]:
    """Values that make a badly backtracking pattern slow: a long run of a character
    the pattern takes, then one that spoils the match."""
    chars = {c for c in pattern if c.isalnum()} | set("a0 _-.张")
    runs = [c * 30 for c in sorted(chars)][:40]
    runs += ["ab" * 15, "a0" * 15, "a " * 15, "a." * 15]
    return [run + tail for run in runs for tail in ("!", "\x00", "")]


def _check_pattern(pattern: Any, path, line, key) -> str:
    if not isinstance(pattern, str) or not pattern:
        raise SchemaError(tr("schema.pattern_not_text"), path, line, key)
    import regex

    try:
        compiled = _compiled(pattern)
    except (regex.error, re.error, ValueError, OverflowError, RecursionError) as exc:
        raise SchemaError(tr("schema.bad_pattern", error=exc), path, line, key) from None
    for probe in _probes(pattern):
        try:
            compiled.fullmatch(probe, timeout=PATTERN_TIMEOUT / 2)
        except TimeoutError:
            raise SchemaError(tr("schema.slow_pattern", value=probe[:12] + "…"), path, line,
                              key) from None
    return pattern


def _field(raw: Any, path: Path, groups: set[str], base: FieldSpec | None = None,
           line: int | None = None) -> FieldSpec:
    line = getattr(raw, "line", None) or line
    if not isinstance(raw, dict):
        raise SchemaError(tr("schema.field_not_mapping"), path, line)
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise SchemaError(tr("schema.bad_key", key=key), path, line)
    if key in SYSTEM_COLUMNS:
        raise SchemaError(tr("schema.reserved_key", key=key), path, line, key)
    unknown = sorted(set(raw) - FIELD_ATTRS, key=str)
    if unknown:
        raise SchemaError(tr("schema.unknown_attr", attr=", ".join(map(str, unknown)),
                             known=", ".join(sorted(FIELD_ATTRS))),
                          path, raw.key_lines.get(unknown[0], line), key)
    merged: dict[str, Any] = {}
    if base is not None:
        merged = {"type": base.type, "group": base.group, "label": base.labels,
                  "choices": [{"value": c.value, **c.labels,
                               **({"synonyms": list(c.synonyms)} if c.synonyms else {})}
                              for c in base.choices] or None,
                  "aliases": list(base.aliases), "help": base.help,
                  "pattern_message": base.pattern_message}
        for attr in ("required", "default", "pattern", "min", "max", "max_length", "decimals",
                     "index", "searchable", "in_table", "width", "sensitive", "computed",
                     "important"):
            merged[attr] = getattr(base, attr)
    merged.update(raw)

    def at(attr):
        return raw.key_lines.get(attr, line) if attr in raw else line

    ftype = merged.get("type")
    if ftype not in FIELD_TYPES:
        raise SchemaError(tr("schema.unknown_type", type=ftype, known=", ".join(FIELD_TYPES)),
                          path, at("type"), key)
    group = merged.get("group")
    if not isinstance(group, str) or group not in groups:
        raise SchemaError(tr("schema.unknown_group", group=group, known=", ".join(sorted(groups))),
                          path, at("group"), key)
    if "label" not in merged:
        raise SchemaError(tr("schema.missing_label"), path, line, key)
    labels = _labels(merged["label"], path, at("label"), key)
    choices = _choices(merged.get("choices"), path, at("choices"), key)
    if ftype in ("choice",) and not choices:
        raise SchemaError(tr("schema.choice_needs_choices"), path, line, key)
    for attr in ("required", "index", "searchable", "in_table", "sensitive", "computed",
                 "important"):
        if not isinstance(merged.get(attr, False), bool):
            raise SchemaError(tr("schema.not_boolean", attr=attr), path, at(attr), key)
    if merged.get("important") and merged.get("computed"):
        # kehu fills a computed field itself: nobody can be asked to complete it
        raise SchemaError(tr("quality.important_computed"), path, at("important"), key)
    pattern = merged.get("pattern")
    if pattern is not None and "pattern" in raw and path != DEFAULT_SCHEMA_PATH:
        # (kehu's own default is known good: start-up does not import regex for it)
        _check_pattern(pattern, path, at("pattern"), key)
    lo = _number(merged.get("min"), path, at("min"), key, "min")
    hi = _number(merged.get("max"), path, at("max"), key, "max")
    if lo is not None and hi is not None and lo > hi:
        raise SchemaError(tr("schema.min_above_max"), path, at("min"), key)
    max_length = _whole(merged.get("max_length"), path, at("max_length"), key, "max_length",
                        1, 1_000_000)
    width = _whole(merged.get("width"), path, at("width"), key, "width", 1, 200)
    decimals = _whole(merged.get("decimals", 2), path, at("decimals"), key, "decimals",
                      0, MAX_DECIMALS)
    if decimals is None:
        decimals = 2
    aliases = merged.get("aliases") or []
    if not isinstance(aliases, list) or not all(_scalar(a) for a in aliases):
        raise SchemaError(tr("schema.bad_aliases"), path, at("aliases"), key)
    spec = FieldSpec(
        key=key, type=ftype, group=group, labels=labels,
        required=merged.get("required", False), choices=choices,
        default=merged.get("default"), pattern=pattern,
        pattern_message=(_labels(merged["pattern_message"], path, at("pattern_message"), key,
                                 "pattern_message") if merged.get("pattern_message") else None),
        min=lo, max=hi, max_length=int(max_length) if max_length else None,
        decimals=int(decimals), index=merged.get("index", False),
        searchable=merged.get("searchable", False), in_table=merged.get("in_table", False),
        width=int(width) if width else None, sensitive=merged.get("sensitive", False),
        aliases=tuple(str(a) for a in aliases), computed=merged.get("computed", False),
        help=_labels(merged["help"], path, at("help"), key, "help") if merged.get("help") else None,
        important=merged.get("important", False), line=line,
    )
    if spec.default is not None:
        _check_default(spec, path, at("default"))
    return spec


def _check_default(spec: FieldSpec, path, line) -> None:
    from .validate import FieldError, default_value  # validate imports this module

    try:
        default_value(spec, "user")
    except FieldError as exc:
        raise SchemaError(tr("schema.bad_default", error=exc.message), path, line, spec.key) from None


def _groups(raw: Any, path: Path, line: int | None = None) -> list[GroupSpec]:
    if not isinstance(raw, list) or not raw:
        raise SchemaError(tr("schema.no_groups"), path, getattr(raw, "line", None) or line)
    out = []
    for i, item in enumerate(raw):
        line = _item_line(item, raw, i, line)
        if not isinstance(item, dict) or not isinstance(item.get("key"), str):
            raise SchemaError(tr("schema.bad_group"), path, line)
        out.append(GroupSpec(item["key"], _labels(item.get("label", item["key"]), path, line, None)))
    return out


def _lists(raw: Any, path: Path, line: int | None = None) -> dict[str, list[ListItem]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SchemaError(tr("schema.bad_lists"), path, getattr(raw, "line", None) or line)
    out = {}
    for name, items in raw.items():
        if not isinstance(items, list):
            raise SchemaError(tr("schema.bad_lists"), path, _line(raw, name, line))
        entries = []
        for i, item in enumerate(items):
            item_line = _item_line(item, items, i, _line(raw, name, line))
            if not isinstance(item, dict) or not _scalar(item.get("value")):
                raise SchemaError(tr("schema.bad_list_item", name=name), path, item_line)
            labels = {k: str(v) for k, v in item.items() if k in ("zh", "en")}
            extra = {k: v for k, v in item.items() if k not in ("zh", "en", "value", "icon")}
            entries.append(ListItem(str(item["value"]), labels or {"en": str(item["value"])},
                                    str(item.get("icon", "")), dict(extra)))
        out[str(name)] = entries
    return out


def parse_schema(path: Path, base: Schema | None = None) -> Schema:
    """Read one schema file. With ``extends: default`` it builds on ``base``."""
    doc = _read_yaml(path)
    if not isinstance(doc, dict):
        raise SchemaError(tr("schema.not_mapping"), path, 1)
    known_top = {"version", "extends", "groups", "fields", "drop", "lists"}
    unknown = sorted(set(doc) - known_top, key=str)
    if unknown:
        raise SchemaError(tr("schema.unknown_top", key=unknown[0], known=", ".join(sorted(known_top))),
                          path, _line(doc, unknown[0], 1))
    extends = doc.get("extends")
    if extends not in (None, "default"):
        raise SchemaError(tr("schema.bad_extends", value=extends), path, _line(doc, "extends", 1))
    if extends and base is None:
        base = load_default_schema()
    groups = list(base.groups) if extends else []
    if "groups" in doc or not extends:
        new_groups = _groups(doc.get("groups"), path, _line(doc, "groups", 1))
        known = {g.key for g in groups}
        for g in new_groups:
            if g.key in known:
                groups = [g if old.key == g.key else old for old in groups]
            else:
                groups.append(g)
    group_keys = {g.key for g in groups}
    raw_fields = doc.get("fields") or []
    if not isinstance(raw_fields, list):
        raise SchemaError(tr("schema.fields_not_list"), path, _line(doc, "fields", 1))
    if not raw_fields and not extends:
        raise SchemaError(tr("schema.no_fields"), path, _line(doc, "fields", 1))
    fields: list[FieldSpec] = list(base.fields) if extends else []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_fields):
        line = _item_line(raw, raw_fields, i, _line(doc, "fields", 1))
        key = raw.get("key") if isinstance(raw, dict) else None
        if isinstance(key, str) and key in seen:
            raise SchemaError(tr("schema.duplicate_field", first=seen[key]), path, line, key)
        existing = next((f for f in fields if f.key == key), None)
        spec = _field(raw, path, group_keys, existing if extends else None, line)
        seen[key] = spec.line or 0
        if existing is not None:
            fields[fields.index(existing)] = spec
        else:
            fields.append(spec)
    drop = doc.get("drop") or []
    if not isinstance(drop, list) or not all(isinstance(k, str) for k in drop):
        raise SchemaError(tr("schema.drop_not_list"), path, _line(doc, "drop", 1))
    for i, key in enumerate(drop):
        if key not in {f.key for f in fields}:
            raise SchemaError(tr("schema.drop_unknown", key=key), path,
                              _line(drop, i, _line(doc, "drop", 1)), key)
    fields = [f for f in fields if f.key not in drop]
    if not any(f.key == "name" for f in fields):
        raise SchemaError(tr("schema.needs_name"), path, 1)
    lists = dict(base.lists) if extends and base else {}
    lists.update(_lists(doc.get("lists"), path, _line(doc, "lists", 1)))
    sources = ((base.sources if extends and base else ()) + (str(path),))
    return Schema(fields, groups, lists, sources, tuple(drop))


_default_cache: Schema | None = None


def load_default_schema() -> Schema:
    global _default_cache
    if _default_cache is None:
        _default_cache = parse_schema(DEFAULT_SCHEMA_PATH)
    return _default_cache


def load_schema(path: str | Path | None = None) -> Schema:
    """The schema in force: ``path`` if given, else the default."""
    if path is None:
        return load_default_schema()
    return parse_schema(Path(path))
