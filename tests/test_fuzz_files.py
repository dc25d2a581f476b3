"""Property tests: random mutations of the default schema and of a config.yaml are
loaded, or refused with one SchemaError / ConfigError naming the file and the line —
never any other exception."""
from __future__ import annotations

import copy
import math
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kehu.models.config import ConfigError, config_dir, load_config
from kehu.models.schema import DEFAULT_SCHEMA_PATH, SchemaError, parse_schema

pytestmark = pytest.mark.fuzz

DEFAULT = yaml.safe_load(DEFAULT_SCHEMA_PATH.read_text(encoding="utf-8"))
DEFAULT_TEXT = DEFAULT_SCHEMA_PATH.read_text(encoding="utf-8")

NASTY = st.sampled_from([
    None, True, False, 0, -1, 5, 99999, 10**30, -10**30, 1e308, -1e308, 2.5, math.inf, -math.inf,
    math.nan, "", " ", "x", "name", "text", "choice", "basic", "(a+)+$", "(a|a)*$", "[", "(?P<x>",
    "\\", "{value:, zh:, en:}", "张三", "\x00", "a" * 300, [], {}, ["a", "b"], [["a"]], [{}],
    {"zh": "名", "en": "N"}, {"value": "A", "zh": "甲"}, {"value": None}, {"key": "x"}, [1, 2],
    {"a": {"b": [1]}},
])
VALUES = st.recursive(
    NASTY | st.text(max_size=12) | st.integers() | st.floats(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["key", "value", "zh", "en", "type", "label", "group", "x"]) | st.text(max_size=5),
        inner, max_size=3),
    max_leaves=6)
KEYS = st.sampled_from([
    "key", "label", "type", "group", "required", "choices", "default", "pattern",
    "pattern_message", "min", "max", "max_length", "decimals", "index", "searchable", "in_table",
    "width", "sensitive", "aliases", "computed", "help", "drop", "extends", "fields", "groups",
    "lists", "version", "nonsense", "value", "zh", "en", "icon",
]) | st.text(max_size=6)


def _containers(node, path=()):
    """Every (path, container) in the document, for a mutation to pick one."""
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            if isinstance(v, (dict, list)):
                out += _containers(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            if isinstance(v, (dict, list)):
                out += _containers(v, path + (i,))
    return out


@st.composite
def mutated(draw, base):
    doc = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        places = _containers(doc)
        _, node = places[draw(st.integers(0, len(places) - 1))]
        action = draw(st.sampled_from(["set", "delete", "add"]))
        if isinstance(node, dict):
            if action == "add" or not node:
                node[draw(KEYS)] = copy.deepcopy(draw(VALUES))  # never a shared constant
            else:
                key = draw(st.sampled_from(sorted(node, key=str)))
                if action == "delete":
                    del node[key]
                else:
                    node[key] = copy.deepcopy(draw(VALUES))
        elif isinstance(node, list):
            if action == "add" or not node:
                node.insert(draw(st.integers(0, len(node))), copy.deepcopy(draw(VALUES)))
            else:
                i = draw(st.integers(0, len(node) - 1))
                if action == "delete":
                    del node[i]
                else:
                    node[i] = copy.deepcopy(draw(VALUES))
    return doc


def _dump(doc) -> str:
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


def _loads_or_says_where(path: Path) -> None:
    try:
        parse_schema(path)
    except SchemaError as exc:
        assert exc.path is not None and Path(exc.path) == path, str(exc)
        assert isinstance(exc.line, int) and exc.line >= 1, str(exc)
        assert str(exc).startswith(f"{path}:{exc.line}: ")


@given(doc=mutated(DEFAULT))
def test_a_mutated_default_schema_loads_or_names_file_and_line(doc, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    path.write_text(_dump(doc), encoding="utf-8")
    _loads_or_says_where(path)


@given(doc=mutated({"extends": "default", "fields": [
    {"key": "vip", "label": {"zh": "会员", "en": "VIP"}, "type": "choice", "group": "business",
     "choices": ["金卡", {"value": "silver", "zh": "银卡", "en": "Silver"}]},
    {"key": "code", "label": "Code", "type": "text", "group": "basic", "pattern": "^[A-Z]{2}\\d+$"},
    {"key": "grade", "in_table": False}], "drop": ["age"],
    "lists": {"stance": [{"value": "pro", "zh": "支持", "en": "pro"}]}}))
def test_a_mutated_user_schema_loads_or_names_file_and_line(doc, tmp_path_factory):
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    path.write_text(_dump(doc), encoding="utf-8")
    _loads_or_says_where(path)


@given(data=st.data())
def test_damaged_schema_text_loads_or_names_file_and_line(data, tmp_path_factory):
    text = DEFAULT_TEXT
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 8))
        text = text[:at] + data.draw(st.sampled_from(
            ["", ":", "- ", "\n", "  ", "[", "{", "'", '"', "&a", "*a", "!!python/object:os.system",
             "\t", "#", "? ", "%", "\x00", "、"]) | st.text(max_size=4)) + text[at + cut:]
    path = tmp_path_factory.mktemp("schema") / "schema.yaml"
    path.write_text(text, encoding="utf-8")
    _loads_or_says_where(path)


CONFIG = {"db": "sqlite:///x.db", "lang": "zh", "keymap": "default", "theme": "kehu-dark",
          "phone_region": "CN", "user": "ana", "backup_keep": 5,
          "verification": {"credit": 30}, "default_role": "sales"}


@given(doc=mutated(CONFIG))
def test_a_mutated_config_loads_or_names_file_and_line(doc):
    path = config_dir() / "config.yaml"
    path.write_text(_dump(doc), encoding="utf-8")
    try:
        load_config()
    except ConfigError as exc:
        assert exc.path == path and isinstance(exc.line, int) and exc.line >= 1, str(exc)
        assert str(exc).startswith(f"{path}:{exc.line}: ")


@given(data=st.data())
def test_damaged_config_text_loads_or_names_file_and_line(data):
    text = _dump(CONFIG)
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.sampled_from(
            ["", ":", "- ", "\n", "  ", "[", "{", "'", "&a", "*a", "\t", "? ", "\x00", "lnag"])
            | st.text(max_size=4)) + text[at + data.draw(st.integers(0, 6)):]
    path = config_dir() / "config.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_config()
    except ConfigError as exc:
        assert exc.path == path and isinstance(exc.line, int) and exc.line >= 1, str(exc)
