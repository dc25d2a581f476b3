"""Built-in rosters and the user's saved views (views.yaml)."""
from decimal import Decimal

import pytest

from kehu.models import i18n
from kehu.models.views import (View, ViewsError, delete_view, load_views, new_view_key,
                               save_view, user_views_path)


@pytest.fixture
def shop(store):
    for row in [
        {"name": "甲", "region": "华东", "city": "上海", "acquired_on": "2022-01-05",
         "credit_rating": "AA", "scale": "large", "grade": "A"},
        {"name": "乙", "region": "华北", "city": "北京", "acquired_on": "2020-03-01",
         "credit_rating": "AAA", "scale": "small", "grade": "B"},
        {"name": "丙", "region": "华东", "city": "杭州", "acquired_on": "2021-07-20",
         "credit_rating": "B", "scale": "medium", "grade": "C"},
    ]:
        store.create_customer(row)
    for name, amount in (("甲", 3000), ("乙", 500), ("丙", 12000)):
        cid = store.customers().where(store.Customer.name == name).get().id
        store.add_interaction(cid, "purchase", amount=amount)
    return store


def rows(view, store, search=""):
    return [r["name"] for r in view.result_set(store, search).page(0, 50)]


def test_the_four_rosters_of_seed_000(shop):
    views = load_views(shop.schema)
    assert views.errors == []
    assert [v.name("zh") for v in views] == ["客户名册", "采购/销售额排序表", "客户等级分类表",
                                             "客户地址分类表"]
    assert rows(views.get("roster"), shop) == ["乙", "丙", "甲"]          # oldest first
    assert rows(views.get("ranking"), shop) == ["丙", "甲", "乙"]         # biggest buyer first
    assert rows(views.get("grades"), shop) == ["乙", "甲", "丙"]          # AAA, AA, B
    regions = views.get("regions")
    assert regions.group_by == "region"
    assert rows(regions, shop) == ["乙", "甲", "丙"]                      # 华北, then 华东 (上海, 杭州)
    groups = regions.result_set(shop).groups(regions.group_by)
    assert [(g.value, g.count, g.sums["purchase_total"]) for g in groups] == [
        ("华北", 1, Decimal("500")), ("华东", 2, Decimal("15000"))]


def test_views_narrow_with_the_search_box(shop):
    ranking = load_views(shop.schema).get("ranking")
    assert rows(ranking, shop, "region:华东") == ["丙", "甲"]


def test_save_reopen_and_delete_a_view(shop):
    view = View(new_view_key("East big buyers", []), {"zh": "华东大客户", "en": "East big buyers"},
                query="region:华东", sort=[("purchase_total", "desc")],
                columns=["name", "city", "purchase_total"], widths={"city": 12}, group_by="city")
    save_view(view, shop.schema)
    again = load_views(shop.schema).get("east_big_buyers")
    assert again is not None and not again.builtin
    assert (again.query, again.sort, again.columns, again.widths, again.group_by) == (
        "region:华东", [("purchase_total", "desc")], ["name", "city", "purchase_total"],
        {"city": 12}, "city")
    assert rows(again, shop) == ["丙", "甲"]
    assert "华东大客户" in user_views_path().read_text(encoding="utf-8")
    assert delete_view("east_big_buyers")
    assert load_views(shop.schema).get("east_big_buyers") is None


def test_a_user_view_replaces_a_builtin_and_deleting_brings_it_back(shop):
    save_view(View("roster", {"zh": "我的名册", "en": "My roster"}, sort=[("name", "asc")]),
              shop.schema)
    assert load_views(shop.schema).get("roster").name("en") == "My roster"
    delete_view("roster")
    assert load_views(shop.schema).get("roster").name("en") == "Customer roster"


def test_hand_edited_views_by_label(shop):
    user_views_path().write_text(
        "views:\n"
        "  - key: mine\n"
        "    name: 我的\n"
        "    query: '等级:A'\n"
        "    sort: ['采购总额 desc', 名称]\n"
        "    columns: [客户名称, 城市]\n", encoding="utf-8")
    view = load_views(shop.schema).get("mine")
    assert view.sort == [("purchase_total", "desc"), ("name", "asc")]
    assert view.columns == ["name", "city"]
    assert rows(view, shop) == ["甲"]


def test_broken_views_file_names_the_line_and_keeps_the_builtins(shop):
    user_views_path().write_text("views:\n  - key: x\n  query: [\n", encoding="utf-8")
    views = load_views(shop.schema)
    assert len(views) == 4
    assert f"{user_views_path()}:3: not valid YAML" in views.errors[0]
    with pytest.raises(ViewsError):  # a file being fixed by hand is never overwritten
        save_view(View("y", {"en": "y"}), shop.schema)


def test_one_bad_view_is_skipped_with_its_line(shop):
    i18n.set_lang("zh")
    user_views_path().write_text(
        "views:\n"
        "  - key: good\n"
        "    query: 'grade:A'\n"
        "  - key: bad\n"
        "    query: 'grade:Z'\n"
        "  - key: cols\n"
        "    columns: [nope]\n", encoding="utf-8")
    views = load_views(shop.schema)
    assert views.get("good") and not views.get("bad") and not views.get("cols")
    assert "views.yaml:4：视图“bad”：查询条件无效" in views.errors[0]
    assert "columns 中没有字段“nope”" in views.errors[1]


def test_a_second_and_third_view_are_saved_beside_the_first(shop):
    """Saving a view when views.yaml already holds one failed ('cannot represent
    an object' for the first view's name, read back as the loader's own mapping)."""
    east = View("east", {"zh": "华东A级", "en": "East A"}, query="region:华东 grade:A",
                widths={"city": 12}, help={"zh": "华东的A级客户", "en": "A grade in the east"})
    north = View("north", {"zh": "华北", "en": "North"}, query="region:华北",
                 sort=[("name", "asc")])
    save_view(east, shop.schema)
    save_view(north, shop.schema)
    save_view(View("east", {"zh": "华东", "en": "East"}, query="region:华东"), shop.schema)
    views = load_views(shop.schema)
    assert views.errors == []
    assert [v.key for v in views if not v.builtin] == ["east", "north"]
    assert rows(views.get("east"), shop) == ["甲", "丙"]
    assert rows(views.get("north"), shop) == ["乙"]
    assert views.get("east").name("zh") == "华东"
    assert delete_view("east")
    assert [v.key for v in load_views(shop.schema) if not v.builtin] == ["north"]
