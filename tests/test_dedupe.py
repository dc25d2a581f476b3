"""Likely duplicates by the YAML rules, and merges that keep everything and can be undone."""
import pytest

from kehu.models.dedupe import (DedupeError, dismiss, find_duplicates, list_merges, merge,
                                merge_plan, name_sound, undo_merge)


@pytest.fixture
def planted(store):
    c = store.create_customer
    ids = {
        "zhang": c({"name": "张三", "company": "北京星辰科技有限公司", "mobile": "138 0013 8000",
                    "tags": "vip", "notes": "老客户"}).id,
        "zhang_py": c({"name": "Zhang San", "company": "北京星辰科技", "phone": "+86 138-0013-8000",
                       "email": "zhangsan@example.com", "tags": "重点", "notes": "展会认识"}).id,
        "li": c({"name": "李四", "email": "Li.Si@Example.com"}).id,
        "li_again": c({"name": "李思", "email": "li.si@example.com"}).id,
        "wang": c({"name": "王五", "company": "宏达"}).id,
        "wang_co": c({"name": "王 五", "company": "宏达公司"}).id,
        "other_zhang": c({"name": "张三", "company": "深圳宏达"}).id,
        "stranger": c({"name": "赵六", "company": "北京星辰科技", "mobile": "13900139000"}).id,
    }
    return ids


def pairs(result):
    return {(c.a, c.b): c for c in result.candidates}


def test_planted_duplicates_are_found_and_scored(store, planted):
    result = find_duplicates(store)
    found = pairs(result)
    p = planted
    key = lambda a, b: (min(p[a], p[b]), max(p[a], p[b]))  # noqa: E731
    assert set(found) == {key("zhang", "zhang_py"), key("li", "li_again"), key("wang", "wang_co")}
    zhang = found[key("zhang", "zhang_py")]
    assert {r.rule for r in zhang.reasons} == {"same_phone", "similar_name"}
    assert "+8613800138000" in zhang.why
    assert zhang.score > found[key("wang", "wang_co")].score  # two rules beat one
    assert {r.rule for r in found[key("li", "li_again")].reasons} == {"same_email"}
    assert {r.rule for r in found[key("wang", "wang_co")].reasons} == {"same_name_company",
                                                                       "similar_name"}
    assert result.candidates[0] is zhang
    assert result.scanned == 8


def test_a_dismissed_pair_is_not_listed_again(store, planted):
    dismiss(store, planted["li_again"], planted["li"])
    assert len(find_duplicates(store).candidates) == 2


def test_name_sound_compares_hanzi_and_pinyin():
    assert name_sound("张三") == name_sound("Zhang San") == "zhang san"
    assert name_sound("ＺＨＡＮＧ　ｓａｎ") == "zhang san"  # full-width


def test_merge_keeps_every_contact_and_timeline_entry_and_undo_restores(store, planted):
    a, b = planted["zhang"], planted["zhang_py"]
    store.add_contact(a, name="李总", role="decision_maker")
    store.add_contact(b, name="王经理", role="buyer")
    store.add_contact(b, name="小陈")
    store.add_interaction(a, "call", summary="a's call")
    store.add_interaction(b, "purchase", amount="500", summary="b's order")
    store.add_interaction(b, "visit", summary="b's visit")
    plan = {c.spec.key: c for c in merge_plan(store, a, b)}
    assert plan["email"].value == "zhangsan@example.com"  # the survivor had none
    assert plan["tags"].value == "vip,重点" and plan["notes"].value == "老客户\n展会认识"
    record = merge(store, a, b, {"name": "张三 (Zhang San)"})
    survivor = store.get_customer(a)
    assert survivor.name == "张三 (Zhang San)" and survivor.email == "zhangsan@example.com"
    assert survivor.phone == "+8613800138000" and survivor.tags == "vip,重点"
    assert sorted(c.name for c in store.contacts(a)) == ["小陈", "李总", "王经理"]
    assert sorted(i.summary for i in store.interactions(a)) == ["a's call", "b's order", "b's visit"]
    assert survivor.purchase_count == 1
    with pytest.raises(Exception):
        store.get_customer(b)  # merged away (soft-deleted)
    assert list_merges(store)[0].id == record.id
    assert find_duplicates(store).candidates and all(
        b not in (c.a, c.b) for c in find_duplicates(store).candidates)

    undo_merge(store, record.id)
    a_row, b_row = store.get_customer(a), store.get_customer(b)
    assert (a_row.name, a_row.email, a_row.tags, a_row.phone) == ("张三", None, "vip", None)
    assert b_row.name == "Zhang San" and b_row.email == "zhangsan@example.com"
    assert [c.name for c in store.contacts(a)] == ["李总"]
    assert sorted(c.name for c in store.contacts(b)) == ["小陈", "王经理"]
    assert sorted(i.summary for i in store.interactions(b)) == ["b's order", "b's visit"]
    assert store.get_customer(a).purchase_count in (0, None)
    assert store.get_customer(b).purchase_count == 1
    with pytest.raises(DedupeError, match="already undone"):
        undo_merge(store, record.id)


def test_undo_refuses_to_overwrite_later_edits(store, planted):
    a, b = planted["wang"], planted["wang_co"]
    record = merge(store, a, b)
    store.update_customer(a, {"city": "北京"})
    with pytest.raises(DedupeError, match="edited after merge"):
        undo_merge(store, record.id)
    undo_merge(store, record.id, force=True)
    assert store.get_customer(b).name == "王 五"
    with pytest.raises(DedupeError, match="cannot be merged with itself"):
        merge(store, a, a)
    with pytest.raises(DedupeError, match="no merge #42"):
        undo_merge(store, 42)


def test_dedupe_and_merge_commands(store, planted, capsys):
    from kehu.tui.cli import main

    url = store.url
    a, b = planted["zhang"], planted["zhang_py"]
    store.add_interaction(b, "call", summary="b's call")
    store.close()
    assert main(["--db", url, "dedupe"]) == 0
    out = capsys.readouterr().out
    assert "3 likely duplicate pairs among 8 customers" in out
    assert f"#{a} 张三" in out and "Same phone" in out
    assert main(["--db", url, "merge", str(a), str(b), "--take", "name"]) == 0
    out = capsys.readouterr().out
    assert f"#{b} merged into #{a}" in out and "1 timeline entries moved" in out
    assert main(["--db", url, "merge", "--list"]) == 0
    assert f"#{b} → #{a}" in capsys.readouterr().out
    assert main(["--db", url, "merge", "--undo", "1"]) == 0
    assert "undone" in capsys.readouterr().out
    assert main(["--db", url, "merge", str(a)]) == 2
    assert "two customer numbers" in capsys.readouterr().err


# --- issue 16: places around company names, Traditional and Simplified names ----------

def test_a_city_before_or_in_brackets_is_the_same_company(store):
    c = store.create_customer
    a = c({"name": "陈明", "company": "广州市粤海物流有限公司"}).id
    b = c({"name": "陈明", "company": "粤海物流（广州）有限公司"}).id
    d = c({"name": "陈明", "company": "广东省广州市粤海物流有限公司"}).id
    beijing = c({"name": "刘洋", "company": "北京大学"}).id
    nanjing = c({"name": "刘洋", "company": "南京大学"}).id   # the place still tells them apart
    found = pairs(find_duplicates(store))
    assert set(found) == {(a, b), (a, d), (b, d)}
    assert {r.rule for r in found[(a, b)].reasons} == {"same_name_company", "similar_name"}
    assert (beijing, nanjing) not in found


def test_a_traditional_spelling_is_the_same_name_not_a_pinyin_guess(store):
    c = store.create_customer
    simp = c({"name": "张三", "company": "宏达贸易有限公司"}).id
    trad = c({"name": "張三", "company": "宏達貿易有限公司"}).id
    guess = c({"name": "章三", "company": "宏达贸易有限公司"}).id   # sounds the same, another name
    found = pairs(find_duplicates(store))
    same = found[(simp, trad)]
    assert {r.rule for r in same.reasons} == {"same_name_company", "similar_name"}
    assert same.score > found[(simp, guess)].score == 70


def test_company_keys():
    from kehu.models.dedupe import _norm_company, simplified
    suffixes = ["有限公司", "公司", "ltd"]
    assert _norm_company("广州市粤海物流有限公司", suffixes) == "粤海物流@广州"
    assert _norm_company("粤海物流(广州市)有限公司", suffixes) == "粤海物流@广州"
    assert _norm_company("華為技術（深圳）有限公司", suffixes) == "华为技术@深圳"
    assert _norm_company("北京市海淀区中关村科技有限公司", suffixes) == "中关村科技@海淀"
    assert _norm_company("上海市", suffixes) == "上海市"   # nothing left but the place: kept
    assert simplified("陳國強") == "陈国强" and simplified("Zhang") == "Zhang"
