"""Search as you type: the rows a typed word finds, on SQLite and PostgreSQL."""
import pytest

from kehu.models import search
from kehu.models.results import ResultSet
from kehu.models.schema import load_schema


@pytest.fixture
def people(store):
    store.create_customer({"name": "张三", "mobile": "138 0013 8000", "company": "北京星辰科技有限公司",
                           "city": "北京", "email": "zhang.san@xingchen.cn"})
    store.create_customer({"name": "张三丰", "mobile": "139 1111 2222", "company": "武当贸易"})
    store.create_customer({"name": "单雄信", "mobile": "137 0000 1234", "notes": "展会上认识，喜欢喝茶"})
    store.create_customer({"name": "曾小贤", "company": "Acme Corp", "email": "xiaoxian@acme.com"})
    store.create_customer({"name": "John Doe", "company": "Doe & Sons", "email": "john.doe@example.com",
                           "tags": "vip,golf", "notes": "Met at the Shanghai trade show"})
    return store


def names(store, text, sort=("name", "asc")):
    rs = ResultSet(store, text, sort=[sort])
    rows = rs.page(0, 100)
    assert rs.count() == len(rows)
    return [r["name"] for r in rows]


def test_typing_narrows_the_rows(people):
    assert len(names(people, "")) == 5
    assert names(people, "z") == ["张三", "张三丰", "曾小贤"]  # zhang, zeng
    assert names(people, "zh") == ["张三", "张三丰"]
    assert names(people, "zha") == ["张三", "张三丰"]
    assert names(people, "zhangsanf") == ["张三丰"]


@pytest.mark.parametrize("typed", ["zs", "zhangsan", "zhang san", "张三", "张", "ZS", "ｚｓ"])
def test_pinyin_and_hanzi_find_zhang_san(people, typed):
    assert "张三" in names(people, typed)


def test_given_name_and_middle_of_a_company_are_found(people):
    assert names(people, "三丰") == ["张三丰"]
    assert names(people, "sanfeng") == ["张三丰"]
    assert names(people, "星辰") == ["张三"]
    assert names(people, "xingchen") == ["张三"]
    assert names(people, "bjxckj") == ["张三"]  # initials from the start of the name
    assert names(people, "xckj") == []
    assert names(people, "北京星辰科技有限") == ["张三"]  # longer than a window: cut into chunks


def test_surnames_with_a_special_reading(people):
    assert names(people, "shanxiongxin") == ["单雄信"]
    assert names(people, "sxx") == ["单雄信"]
    assert names(people, "danxiongxin") == []
    assert names(people, "zengxiaoxian") == ["曾小贤"]


def test_phone_digits_and_last_four(people):
    assert names(people, "1380") == ["张三"]
    assert names(people, "13800138000") == ["张三"]
    assert names(people, "8613800138000") == ["张三"]
    assert names(people, "8000") == ["张三"]
    assert names(people, "1234") == ["单雄信"]


def test_email_notes_and_latin_words(people):
    assert names(people, "john") == ["John Doe"]
    assert names(people, "example.com") == ["John Doe"]
    assert names(people, "acme") == ["曾小贤"]
    assert names(people, "shanghai") == ["John Doe"]
    assert names(people, "喝茶") == ["单雄信"]
    assert names(people, '"trade show"') == ["John Doe"]
    assert names(people, '"show trade"') == []


def test_words_are_anded_and_minus_excludes(people):
    assert names(people, "张 北京") == ["张三"]
    assert names(people, "张 -北京") == ["张三丰"]
    assert names(people, "nobody-here") == []


def test_edits_and_deletes_reach_the_index(people):
    row = people.create_customer({"name": "李四"})
    assert names(people, "ls") == ["李四"]
    people.update_customer(row.id, {"name": "王五"})
    assert names(people, "ls") == []
    assert names(people, "ww") == ["王五"]
    people.delete_customer(row.id)
    assert names(people, "ww") == []
    people.restore_customer(row.id)
    assert names(people, "ww") == ["王五"]


def test_bulk_loaded_rows_are_found_after_the_rebuild(store):
    with search.bulk_loading(store):
        store.bulk_insert_customers([{"name": f"客户{i}", "mobile": f"+86138{i:08d}"}
                                     for i in range(50)])
    assert ResultSet(store, "kh").count() == 50
    assert names(store, "13800000007") == ["客户7"]


def test_search_text_has_pinyin_forms():
    schema = load_schema()
    text = search.build_search_text(schema, {"name": "张三", "mobile": "+8613800138000"})
    words = text.split()
    for word in ("张三", "zhangsan", "zs", "zhang", "san", "13800138000", "8000"):
        assert word in words


def test_latin_values_give_the_tokens_of_the_general_rule():
    """ASCII values (emails, codes) skip the general tokenizer; the words must be the same."""
    import random
    import string

    rng = random.Random(5)
    samples = ["John_Doe@ACME.com", "A-12/b 7", "x\ty\nz", "__", "ÄBC"] + [
        "".join(rng.choice(string.printable) for _ in range(rng.randrange(1, 25))) for _ in range(3000)]
    from kehu.models.schema import load_default_schema

    schema = load_default_schema()
    for text in samples:
        expected = " ".join(search.tokens(text))
        assert search.build_search_text(schema, {"email": text}) == expected, text
