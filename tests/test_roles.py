"""Users and roles, enforced in the model layer (headless API), on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
import yaml

from kehu.models import security
from kehu.models.config import config_dir
from kehu.models.results import ResultSet
from kehu.models.security import PermissionDenied, add_user, list_users, set_disabled, set_role
from kehu.models.store import NotFound, Store


@pytest.fixture
def team(store, db_url):
    """tester (admin) with customers of two owners, and a store per role."""
    add_user(store, "vic", "viewer")
    add_user(store, "sam", "sales", display_name="王销售")
    add_user(store, "mia", "manager")
    ids = {
        "sam": store.create_customer({"name": "张三", "owner": "sam", "mobile": "13812345678",
                                      "birthday": "1980-05-06"}).id,
        "sam_by_name": store.create_customer({"name": "赵六", "owner": "王销售"}).id,
        "other": store.create_customer({"name": "李四", "owner": "lee", "mobile": "13900001111"}).id,
    }
    opened = []

    def open_as(login):
        s = Store.open(db_url, user=login)
        opened.append(s)
        return s

    yield open_as, ids
    for s in opened:
        s.close()


def test_first_login_of_a_fresh_database_is_its_admin(store):
    assert [(u.login, u.role) for u in list_users(store)] == [("tester", "admin")]
    assert store.guard.role.name == "admin"
    store.create_customer({"name": "ok"})   # today's behaviour: everything works


def test_single_user_database_lets_any_login_act_as_admin(store, db_url):
    other = Store.open(db_url, user="someone-else")
    try:
        assert other.create_customer({"name": "x"}).name == "x"
        assert other.guard.role.name == "admin"
    finally:
        other.close()


def test_viewer_cannot_write_anything(team):
    open_as, ids = team
    vic = open_as("vic")
    assert vic.get_customer(ids["other"]).name == "李四"     # may view every customer
    attempts = [
        lambda: vic.create_customer({"name": "新客户"}),
        lambda: vic.update_customer(ids["sam"], {"name": "改名"}),
        lambda: vic.delete_customer(ids["sam"]),
        lambda: vic.add_contact(ids["sam"], name="某人"),
        lambda: vic.add_interaction(ids["sam"], "call", summary="hi"),
        lambda: vic.bulk_insert_customers([{"name": "批量"}]),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as err:
            attempt()
        assert "vic" in str(err.value)
    assert vic.count_customers() == 3
    assert vic.get_customer(ids["sam"]).name == "张三"
    assert vic.contacts(ids["sam"]).count() == 0


def test_viewer_sees_sensitive_values_masked(team):
    open_as, ids = team
    vic = open_as("vic")
    record = vic.record(vic.get_customer(ids["sam"]))
    assert record["mobile"] == "138****5678"
    assert record["birthday"] == "****"
    assert record["name"] == "张三"
    rows = ResultSet(vic, "", sort="name").page(0, 10)
    assert {r["mobile"] for r in rows} == {"138****5678", "139****1111", None}


def test_sales_sees_only_own_customers(team):
    open_as, ids = team
    sam = open_as("sam")
    assert sam.count_customers() == 2       # owner is the login or the display name
    assert {r["name"] for r in ResultSet(sam, "").page(0, 10)} == {"张三", "赵六"}
    assert ResultSet(sam, "李四").count() == 0
    with pytest.raises(NotFound):
        sam.get_customer(ids["other"])
    with pytest.raises(NotFound):
        sam.update_customer(ids["other"], {"notes": "mine now"})


def test_sales_cannot_export_import_or_delete(team):
    open_as, ids = team
    sam = open_as("sam")
    for perm in ("export", "import", "delete"):
        assert not sam.guard.can(perm)
        with pytest.raises(PermissionDenied):
            sam.guard.require(perm)
    with pytest.raises(PermissionDenied):
        sam.delete_customer(ids["sam"])
    with pytest.raises(PermissionDenied):
        sam.bulk_insert_customers([{"name": "x"}])


def test_sales_masking_follows_the_role_file(team):
    open_as, ids = team
    sam = open_as("sam")
    record = sam.record(sam.get_customer(ids["sam"]))
    assert record["mobile"] == "+8613812345678"   # contact group: shown to sales
    assert record["birthday"] == "****"          # basic group's sensitive birthday: masked


def test_sales_creates_and_edits_own_customers(team):
    open_as, ids = team
    sam = open_as("sam")
    row = sam.create_customer({"name": "新客户"})
    assert row.owner == "sam"                   # owner defaults to the creator
    with pytest.raises(PermissionDenied):
        sam.create_customer({"name": "别人的", "owner": "lee"})
    with pytest.raises(PermissionDenied):
        sam.update_customer(row.id, {"owner": "lee"})   # cannot give a customer away
    sam.update_customer(ids["sam"], {"notes": "called"})
    assert sam.get_customer(ids["sam"]).notes == "called"


def test_saving_a_form_with_masked_values_keeps_the_real_ones(team, store):
    open_as, ids = team
    sam = open_as("sam")
    shown = sam.record(sam.get_customer(ids["sam"]))
    form = {k: v for k, v in shown.items() if k in sam.schema and not sam.schema[k].computed}
    form["notes"] = "edited"
    sam.update_customer(ids["sam"], form)
    raw = store.get_customer(ids["sam"])
    assert raw.notes == "edited"
    assert str(raw.birthday) == "1980-05-06"
    with pytest.raises(PermissionDenied) as err:
        sam.update_customer(ids["sam"], {"birthday": "1990-01-01"})
    assert "Birthday" in str(err.value)


def test_manager_may_do_all_but_manage_users(team):
    open_as, ids = team
    mia = open_as("mia")
    mia.update_customer(ids["other"], {"notes": "ok"})
    mia.delete_customer(ids["other"])
    assert mia.guard.can("export")
    with pytest.raises(PermissionDenied):
        add_user(mia, "eve", "admin")


def test_unknown_login_in_a_team_database_is_refused_clearly(team, db_url):
    s = Store.open(db_url, user="stranger")
    try:
        with pytest.raises(PermissionDenied) as err:
            s.count_customers()
        assert "kehu user add stranger" in str(err.value)
    finally:
        s.close()


def test_default_role_from_config_admits_unknown_logins_on_sqlite_only(team, db_url):
    """SQLite: the file's owner may configure their own convenience. A shared database:
    nothing in a user's config folder changes anyone's rights."""
    (config_dir() / "config.yaml").write_text("default_role: viewer\n", encoding="utf-8")
    s = Store.open(db_url, user="stranger")
    try:
        if db_url.startswith("postgres"):
            with pytest.raises(PermissionDenied) as err:
                s.count_customers()
            assert "kehu user add stranger" in str(err.value)
            return
        assert s.count_customers() == 3
        with pytest.raises(PermissionDenied):
            s.create_customer({"name": "x"})
    finally:
        s.close()


def test_own_roles_file_counts_on_sqlite_only(team, db_url):
    """A sales user's own roles.yaml giving sales every right changes nothing on a
    shared database; on SQLite it is the file owner's own convenience."""
    open_as, ids = team
    everything = {"view": True, "create": True, "edit": True, "delete": True, "export": True,
                  "import": True, "sensitive": True, "rows": "all", "audit": True, "users": True}
    (config_dir() / "roles.yaml").write_text(yaml.safe_dump({"roles": {"sales": everything}}),
                                             encoding="utf-8")
    sam = open_as("sam")
    if db_url.startswith("postgres"):
        assert sam.count_customers() == 2 and not sam.guard.can("users")
        with pytest.raises(PermissionDenied):
            set_role(sam, "vic", "admin")
    else:
        assert sam.count_customers() == 3 and sam.guard.can("users")


def test_user_name_on_postgresql_is_the_session_user(team, db_url):
    """Without a name, the PostgreSQL user is the connection's role; a non-superuser
    cannot name itself otherwise (tests/test_team_pg.py replays that attack)."""
    if not db_url.startswith("postgres"):
        pytest.skip("PostgreSQL identity")
    from kehu.models import team as team_mod

    s = Store.open(db_url)
    try:
        assert s.user == team_mod.session_user(s.db)
    finally:
        s.close()


def test_disabled_user_cannot_open_and_roles_change(team, store):
    open_as, ids = team
    set_disabled(store, "vic")
    vic = open_as("vic")
    with pytest.raises(PermissionDenied) as err:
        vic.count_customers()
    assert "disabled" in str(err.value)
    set_role(store, "sam", "manager")
    sam = open_as("sam")
    assert sam.count_customers() == 3


def test_last_admin_cannot_be_demoted_or_disabled(team, store):
    with pytest.raises(security.RolesError, match="last enabled admin"):
        set_role(store, "tester", "viewer")
    with pytest.raises(security.RolesError, match="last enabled admin"):
        set_disabled(store, "tester")


def test_bad_roles_file_names_the_role(tmp_path):
    (config_dir() / "roles.yaml").write_text(
        yaml.safe_dump({"roles": {"intern": {"view": True, "fly": True}}}), encoding="utf-8")
    with pytest.raises(security.RolesError) as err:
        security.load_roles()
    assert "intern" in str(err.value) and "fly" in str(err.value)


def test_mask_shapes():
    class Spec:
        def __init__(self, t):
            self.type = t
    assert security.mask(Spec("phone"), "138-1234-5678") == "138****5678"
    assert security.mask(Spec("email"), "zhang@example.com") == "z****@example.com"
    assert security.mask(Spec("text"), "北京市朝阳区") == "北****"
    assert security.mask(Spec("date"), "1980-01-01") == "****"
    assert security.mask(Spec("phone"), None) is None


def test_sales_cannot_export_through_the_exporter_and_viewer_exports_nothing(team, tmp_path):
    from kehu.models.exporter import export

    open_as, ids = team
    for login in ("sam", "vic"):
        s = open_as(login)
        with pytest.raises(PermissionDenied):
            export(s, tmp_path / f"{login}.csv")
        assert not (tmp_path / f"{login}.csv").exists()
    mia = open_as("mia")
    assert export(mia, tmp_path / "mia.csv").rows == 3    # a manager may export everything
