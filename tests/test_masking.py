"""Masking at the boundary: a role that may not see a field in clear can neither read
it (records, audit, dedupe) nor recover it through filters, sorts, groups or the
search box."""
from __future__ import annotations

import pytest

from kehu.models import dedupe, i18n
from kehu.models.query import QueryError
from kehu.models.results import ResultSet
from kehu.models.security import add_user
from kehu.models.store import Store
from kehu.tui.cli import main

MOBILE = "13574957213"


@pytest.fixture
def team(store, db_url):
    """An admin's database with a viewer (vic) and a sales user (sam, owns 张三 and 李四)."""
    ids = {
        "zhang": store.create_customer({"name": "张三", "mobile": MOBILE, "birthday": "1985-06-15",
                                        "owner": "sam", "company": "星辰科技",
                                        "wechat": "zhang_san88"}).id,
        "feng": store.create_customer({"name": "张三丰", "mobile": MOBILE, "owner": "olga",
                                       "company": "武当", "purchase_total": 5000}).id,
        "li": store.create_customer({"name": "李四", "mobile": "13800138000", "owner": "sam",
                                     "city": "北京"}).id,
    }
    add_user(store, "vic", "viewer")
    add_user(store, "sam", "sales")
    opened = []

    def open_as(login):
        s = Store.open(db_url, user=login)
        opened.append(s)
        return s

    yield open_as, ids
    for s in opened:
        s.close()


def names(rs) -> list[str]:
    return sorted(r["name"] for r in rs.page(0, 50))


@pytest.mark.parametrize("query, field", [
    (f"mobile:{MOBILE[:4]}", "Mobile"), ("手机:1357", "Mobile"),
    ("birthday<=1990-01-01", "Birthday"), ("wechat:zhang", "WeChat")])
def test_a_viewer_may_not_filter_by_a_masked_field(team, query, field):
    open_as, _ = team
    vic = open_as("vic")
    with pytest.raises(QueryError) as err:
        ResultSet(vic, query)
    assert err.value.message == f"you may not search by {field}"


def test_sales_filters_by_what_they_see_but_not_by_what_is_masked_to_them(team):
    open_as, _ = team
    sam = open_as("sam")
    assert names(ResultSet(sam, "mobile:1357")) == ["张三"]        # contact fields: clear to sales
    with pytest.raises(QueryError, match="WeChat"):
        ResultSet(sam, "wechat:zhang")                             # personal ones are masked


def test_sorts_and_groups_by_a_masked_field_are_refused(team):
    open_as, _ = team
    vic = open_as("vic")
    with pytest.raises(QueryError) as err:
        ResultSet(vic, "", sort="mobile")
    assert err.value.message == "you may not sort by Mobile"
    with pytest.raises(QueryError, match="you may not group by Mobile"):
        ResultSet(vic, "").groups("mobile")
    with pytest.raises(QueryError, match="you may not group by Birthday"):
        ResultSet(vic, "").sums(["birthday"])   # a total over one row would be its value
    assert names(ResultSet(vic, "", sort="name")) == ["张三", "张三丰", "李四"]


def test_the_search_box_does_not_match_values_the_role_may_not_see(team):
    open_as, ids = team
    vic, sam = open_as("vic"), open_as("sam")
    assert ResultSet(vic, MOBILE).count() == 0          # a full phone number finds nobody
    assert ResultSet(vic, "7213").count() == 0
    assert ResultSet(vic, "zhang_san88").count() == 0   # nor a WeChat id
    assert names(ResultSet(vic, "zs")) == ["张三", "张三丰"]   # pinyin of names still works
    assert names(ResultSet(vic, "星辰")) == ["张三"]
    # a negated word is not decided by a hidden value either
    assert names(ResultSet(vic, "zs -7213")) == ["张三", "张三丰"]
    # sales sees mobiles in clear: finds their own customer by it, not by WeChat
    assert names(ResultSet(sam, MOBILE)) == ["张三"]
    assert ResultSet(sam, "zhang_san88").count() == 0
    assert ResultSet(sam, "zs -7213").count() == 0


def test_an_admin_searches_and_sorts_everything(team, store):
    assert names(ResultSet(store, MOBILE)) == ["张三", "张三丰"]
    assert names(ResultSet(store, "mobile:1357 birthday<=1990-01-01", sort="mobile")) == ["张三"]
    assert names(ResultSet(store, "zhang_san88")) == ["张三"]


def test_kehu_query_refuses_in_one_sentence_in_both_languages(team, db_url, capsys):
    # (on PostgreSQL the test server's superuser may name itself: no team init here)
    assert main(["--db", db_url, "--user", "vic", "query", "mobile:1357"]) == 2
    err = capsys.readouterr().err
    assert "you may not search by Mobile" in err and "1357" in err
    assert main(["--db", db_url, "--user", "vic", "--lang", "zh", "query", "手机:1357"]) == 2
    assert "您无权按手机搜索" in capsys.readouterr().err
    i18n.set_lang("en")
    assert main(["--db", db_url, "--user", "vic", "query", MOBILE]) == 0
    assert "张三" not in capsys.readouterr().out


def test_dedupe_keeps_to_the_row_scope_and_masks_the_reasons(team, db_url, capsys):
    open_as, ids = team
    vic, sam = open_as("vic"), open_as("sam")
    found = dedupe.find_duplicates(vic).candidates
    pair = next(c for c in found if {c.a, c.b} == {ids["zhang"], ids["feng"]})
    assert "135****7213" in pair.why and MOBILE not in pair.why
    # sales owns 张三 but not 张三丰: that pair (and its owner's data) is not theirs to see
    assert not [c for c in dedupe.find_duplicates(sam).candidates if ids["feng"] in (c.a, c.b)]
    if not db_url.startswith("sqlite"):
        return   # the CLI as another user: SQLite (on PostgreSQL the user is the login role)
    assert main(["--db", db_url, "--user", "vic", "dedupe"]) == 0
    out = capsys.readouterr().out
    assert "135****7213" in out and MOBILE not in out
    assert main(["--db", db_url, "--user", "sam", "dedupe"]) == 0
    out = capsys.readouterr().out
    assert "张三丰" not in out and f"#{ids['feng']}" not in out


# -- screens that used to read raw rows ---------------------------------------------

async def test_the_deleted_screen_masks_what_the_role_may_not_see(team, store):
    from kehu.tui.app import KehuApp
    from kehu.tui.screens.deleted import DeletedScreen
    from kehu.tui.widgets.keyed import DataTable

    open_as, ids = team
    store.delete_customer(ids["zhang"])
    vic = open_as("vic")
    app = KehuApp(vic)
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(DeletedScreen())
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        cells = [str(c) for c in table.get_row(str(ids["zhang"]))]
    assert "135****7213" in cells and not any("7495" in c for c in cells)


async def test_the_call_log_search_uses_the_store_search_masked_and_off_the_ui_thread(team):
    from textual.widgets import OptionList

    from kehu.tui.app import KehuApp
    from kehu.tui.screens.log_call import LogCallScreen

    open_as, ids = team
    vic = open_as("vic")
    app = KehuApp(vic)
    async with app.run_test(size=(120, 30)) as pilot:
        app.push_screen(LogCallScreen())
        await pilot.pause()
        await pilot.press(*MOBILE)           # a full number finds nobody for a viewer
        await app.workers.wait_for_complete()
        await pilot.pause()
        matches = app.screen.query_one("#call-matches", OptionList)
        assert [o.id for o in matches.options] == [None]   # "no match"
        for _ in MOBILE:
            await pilot.press("backspace")
        await pilot.press("z", "s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        shown = [str(o.prompt) for o in matches.options]
        assert len(shown) == 2 and all("135****7213" in s for s in shown), shown
        await pilot.press("enter")
        await pilot.pause()
        title = str(app.screen.query_one("#call-title").render())
        assert "张三" in title and "135****7213" in title


async def test_the_search_box_refuses_a_masked_filter_and_finds_nobody_by_a_hidden_number(team):
    from tests.test_tui_workbench import names, settle, type_search

    from kehu.tui.app import KehuApp

    open_as, _ = team
    async with KehuApp(open_as("vic")).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        await type_search(pilot, "mobile:1357")
        error = pilot.app.screen.query_one("#query-error")
        assert error.display and "you may not search by Mobile" in str(error.render())
        await pilot.press(*["backspace"] * len("mobile:1357"), *MOBILE)
        await settle(pilot)
        assert names(pilot.app) == []


def test_contact_phones_and_emails_are_masked_like_the_customers(team, db_url, capsys):
    from kehu.models import chain

    open_as, ids = team
    chain.add_contact(open_as("tester"), ids["zhang"], name="王经理", phone="13912345678",
                      email="wang@example.com")
    vic = open_as("vic")
    [node] = chain.contact_tree(vic, ids["zhang"])
    # the phone is sensitive in the customer schema, the email is not: the same for contacts
    assert (node.contact.phone, node.contact.email) == ("139****5678", "wang@example.com")
    sam = open_as("sam")     # sales sees the contact group in clear
    [node] = chain.contact_tree(sam, ids["zhang"])
    assert node.contact.phone == "+8613912345678"
    assert main(["--db", db_url, "--user", "vic", "contact", "list", str(ids["zhang"])]) == 0
    out = capsys.readouterr().out
    assert "139****5678" in out and "13912345678" not in out


def test_a_role_that_edits_but_sees_phones_masked_saves_a_contact_form_as_shown(sqlite_url):
    """(SQLite: a custom role from the user's roles.yaml; team roles live in the database.)"""
    import yaml

    from kehu.models import chain
    from kehu.models.config import config_dir
    from kehu.models.security import PermissionDenied

    (config_dir() / "roles.yaml").write_text(yaml.safe_dump({"roles": {"clerk": {
        "label": {"en": "Clerk", "zh": "文员"}, "view": True, "create": True, "edit": True,
        "sensitive": False, "rows": "all"}}}), encoding="utf-8")
    admin = Store.open(sqlite_url, user="tester")
    zhang = admin.create_customer({"name": "张三", "mobile": MOBILE}).id
    contact = chain.add_contact(admin, zhang, name="王经理", phone="13912345678")
    add_user(admin, "cleo", "clerk")
    cleo = Store.open(sqlite_url, user="cleo")
    try:
        [node] = chain.contact_tree(cleo, zhang)
        shown = node.contact
        assert shown.phone == "139****5678"
        saved = chain.update_contact(cleo, contact.id, name="王总", phone=shown.phone)
        assert (saved.name, saved.phone) == ("王总", "+8613912345678")   # the number kept
        with pytest.raises(PermissionDenied):
            chain.update_contact(cleo, contact.id, phone="13800000000")
        assert chain.get_contact(cleo, contact.id).phone == "+8613912345678"
    finally:
        cleo.close()
        admin.close()
