"""The YAML field schema: the default, user schemas, and clear errors for broken files."""
import textwrap

import pytest

from kehu.models import i18n
from kehu.models.schema import FIELD_TYPES, SchemaError, load_default_schema, load_schema


def write(tmp_path, text, name="schema.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_default_schema_has_the_groups_and_types_of_f1():
    schema = load_default_schema()
    assert [g.key for g in schema.groups][:4] == ["basic", "contact", "business", "personal"]
    assert {f.type for f in schema.fields} == set(FIELD_TYPES)
    for key in ("name", "gender", "birthday", "mobile", "phone", "email", "address", "company",
                "department", "title", "industry", "region", "source", "purchase_total",
                "credit_rating", "scale", "grade", "stage", "owner", "interests", "wechat",
                "headcount", "registered_capital", "website", "household", "income_band",
                "education"):
        assert key in schema, key
    assert schema["name"].required and schema["mobile"].sensitive
    assert schema["purchase_total"].computed


def test_fields_resolve_by_key_label_and_alias():
    schema = load_default_schema()
    assert schema.resolve("手机号码").key == "mobile"
    assert schema.resolve("E-mail Address").key == "email"
    assert schema.resolve("客户等级").key == "grade"
    assert schema.resolve("Grade").key == "grade"
    assert schema.resolve("nonsense") is None


def test_user_schema_extends_overrides_and_drops(tmp_path):
    path = write(tmp_path, """
        extends: default
        fields:
          - key: vip_level
            label: {zh: VIP 等级, en: VIP level}
            type: choice
            group: business
            choices: [金卡, 银卡]
            in_table: true
          - key: grade
            in_table: false
        drop: [age]
    """)
    schema = load_schema(path)
    assert schema["vip_level"].in_table
    assert [c.value for c in schema["vip_level"].choices] == ["金卡", "银卡"]
    assert not schema["grade"].in_table
    assert schema["grade"].type == "choice"  # untouched attributes stay
    assert "age" not in schema


def test_a_user_schema_without_extends_replaces_the_default(tmp_path):
    path = write(tmp_path, """
        groups: [{key: main, label: Main}]
        fields:
          - {key: name, label: Name, type: text, group: main, required: true}
          - {key: score, label: Score, type: integer, group: main, min: 0, max: 10}
    """)
    assert load_schema(path).keys == ["name", "score"]


@pytest.mark.parametrize("text, line, words", [
    ("groups: [{key: g, label: G}]\nfields:\n  - key: name\n    label: N\n    type: txt\n    group: g\n",
     5, ["unknown type 'txt'", "field 'name'"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: g}\n"
     "  - {key: name, label: N2, type: text, group: g}\n", 4, ["declared twice", "field 'name'"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - key: name\n    label: N\n    label: M\n"
     "    type: text\n    group: g\n", 5, ["appears twice"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: g}\n"
     "  - key: grade\n    label: G\n    type: choice\n    group: g\n    choices: [A, B]\n"
     "    default: Z\n", 9, ["field 'grade'", "default", "'Z' is not one of: A, B"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: nope}\n",
     3, ["unknown group 'nope'"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: g,\n",
     None, ["not valid YAML"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: g, pattern: '('}\n",
     3, ["pattern is not a valid regular expression"]),
    ("groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: text, group: g, colour: red}\n",
     3, ["unknown attribute 'colour'"]),
])
def test_a_broken_schema_names_file_line_and_field(tmp_path, text, line, words):
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    message = str(err.value)
    assert message.startswith(str(path))
    if line:
        assert f"{path}:{line}:" in message
    for word in words:
        assert word in message
    assert "\n" not in message


def test_schema_errors_speak_chinese(tmp_path):
    path = write(tmp_path, "groups: [{key: g, label: G}]\nfields:\n  - {key: name, label: N, type: txt, group: g}\n")
    i18n.set_lang("zh")
    with pytest.raises(SchemaError) as err:
        load_schema(path)
    assert "未知类型“txt”" in str(err.value)
    assert "字段“name”" in str(err.value)


def test_missing_schema_file_is_one_clear_line(tmp_path):
    with pytest.raises(SchemaError, match="schema file not found"):
        load_schema(tmp_path / "missing.yaml")
