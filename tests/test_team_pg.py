"""A team on PostgreSQL: identity and rights enforced by the server itself.

The owner runs ``kehu team init`` and adds a sales user (alice), a viewer (bob)
and a manager (carol). Then the bypass suite replays the attacks a team member
with bad intentions would try — through a direct psycopg2 connection as each
role (the psql path), the headless API and the CLI — and every one is refused.

PostgreSQL roles are cluster-wide and parallel test processes share the server:
every role made here carries this process's id and is dropped at the end.
"""
from __future__ import annotations

import os
from urllib.parse import urlparse

import psycopg2
import pytest
import yaml

from kehu.models import team
from kehu.models.security import PermissionDenied, add_user, set_role
from kehu.models.store import NotFound, Store
from kehu.tui.cli import main
from conftest import pg_url_or_skip

pytestmark = pytest.mark.postgres

PID = os.getpid()
PREFIX = f"kt{PID}_"
ALICE, BOB, CAROL, LEAST = (f"{n}{PID}" for n in ("alice", "bob", "carol", "least"))
LOGINS = (ALICE, BOB, CAROL, LEAST)
CLEAR_MOBILE = "13812345678"


def as_login(url: str, login: str) -> str:
    parts = urlparse(url)
    return parts._replace(netloc=f"{login}@{parts.hostname}:{parts.port or 5432}").geturl()


def _drop_roles(url: str) -> None:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        for role in [*LOGINS, *(PREFIX + r for r in ("admin", "manager", "sales", "viewer", "intern"))]:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cur.fetchone():
                cur.execute(f'DROP OWNED BY "{role}"')
                cur.execute(f'DROP ROLE "{role}"')
    conn.close()


@pytest.fixture(scope="module")
def team_db(worker_id, tmp_path_factory):
    """The owner's team database with customers of alice, of lee and one unowned."""
    url = pg_url_or_skip(worker_id)
    _drop_roles(url)   # a crashed earlier run of this very process id
    env = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("team")
    env.setenv("KEHU_CONFIG_DIR", str(home / "config"))
    env.setenv("KEHU_DATA_DIR", str(home / "data"))
    env.setenv("KEHU_LANG", "en")
    try:
        ids = _set_up(url)
    except BaseException:
        env.undo()
        _drop_roles(url)    # roles are cluster-wide: never left behind
        raise
    yield url, ids
    env.undo()
    _drop_roles(url)


def _set_up(url: str) -> dict[str, int]:
    owner = Store.open(url)
    document = __import__("kehu.models.security", fromlist=["x"]).roles_document(shared=True)
    team.init(owner, document, PREFIX)
    owner.guard.reset()
    owner.guard._pg_team = None
    add_user(owner, ALICE, "sales")
    add_user(owner, BOB, "viewer")
    add_user(owner, CAROL, "manager")
    ids = {
        "alice": owner.create_customer({"name": "张三", "owner": ALICE, "mobile": CLEAR_MOBILE,
                                        "birthday": "1980-05-06", "wechat": "zswx01"}).id,
        "lee": owner.create_customer({"name": "李四", "owner": "lee", "mobile": "13900001111",
                                      "notes": "lee's"}).id,
    }
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:   # a login with no kehu role at all
        cur.execute(f'CREATE ROLE "{LEAST}" LOGIN')
    conn.close()
    owner.close()
    return ids


def connect_as(url: str, login: str):
    conn = psycopg2.connect(as_login(url, login))
    conn.autocommit = True
    return conn


def refused(url: str, login: str, sql: str) -> bool:
    """The server refuses ``sql`` run as ``login`` (an error), or it reaches no row."""
    conn = connect_as(url, login)
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
            if cur.description is not None:
                rows = cur.fetchall()
                return not rows or rows == [(0,)] or all(r[0] in (None, 0) for r in rows)
            return cur.rowcount == 0
    except psycopg2.Error:
        return True
    finally:
        conn.close()


# --- the psql path: a direct connection as each role -------------------------------------

SQL_ATTACKS = {
    "sales reads other owners' rows (table)": (ALICE, f"SELECT count(*) FROM public.customer WHERE owner <> '{ALICE}'"),
    "sales reads other owners' rows (view)": (ALICE, f"SELECT count(*) FROM customer WHERE owner <> '{ALICE}'"),
    "sales reads other owners' contacts": (ALICE, "SELECT count(*) FROM contact c JOIN public.customer p ON p.id = c.customer_id"),
    "sales reads a sensitive column it may not see": (ALICE, "SELECT birthday FROM public.customer"),
    "sales reads the search text": (ALICE, "SELECT search_text FROM public.customer"),
    "sales reads the import journal": (ALICE, "SELECT count(*) FROM import_change"),
    "viewer reads mobile numbers": (BOB, "SELECT mobile FROM public.customer"),
    "viewer reads all columns": (BOB, "SELECT * FROM public.customer"),
    "viewer reads the search text": (BOB, "SELECT search_text FROM public.customer"),
    "viewer recovers a number by prefix": (BOB, "SELECT count(*) FROM customer WHERE mobile LIKE '1381%'"),
    "viewer filters by birthday to recover it": (BOB, "SELECT count(*) FROM customer WHERE birthday::text LIKE '1980%'"),
    "sales updates another owner's row (table)": (ALICE, f"UPDATE public.customer SET notes = 'x' WHERE owner <> '{ALICE}'"),
    "sales updates another owner's row (view)": (ALICE, "UPDATE customer SET notes = 'x' WHERE owner = 'lee'"),
    "sales gives their customer away": (ALICE, "UPDATE customer SET owner = 'lee'"),
    "sales creates a customer for someone else": (ALICE, "INSERT INTO customer (name, owner) VALUES ('x', 'lee')"),
    "sales writes a field it may not see": (ALICE, "UPDATE customer SET wechat = 'mine'"),
    "sales deletes a customer": (ALICE, "DELETE FROM public.customer"),
    "viewer edits a customer": (BOB, "UPDATE customer SET notes = 'x'"),
    "viewer edits a customer (table)": (BOB, "UPDATE public.customer SET notes = 'x'"),
    "viewer reads the audit trail's values in clear": (BOB, "SELECT changes FROM public.kehu_audit"),
    "sales reads the audit trail's values in clear": (ALICE, "SELECT changes FROM public.kehu_audit"),
    "viewer finds a number in the audit trail": (BOB, f"SELECT count(*) FROM kehu_audit WHERE changes LIKE '%{CLEAR_MOBILE[3:7]}%'"),
    "sales reads other owners' audit entries": (ALICE, f"SELECT count(*) FROM kehu_audit WHERE customer_id IS NOT NULL AND login <> '{ALICE}' AND customer_id NOT IN (SELECT id FROM customer)"),
    "sales edits audit rows": (ALICE, "UPDATE kehu_audit SET login = 'mallory'"),
    "sales deletes audit rows": (ALICE, "DELETE FROM kehu_audit"),
    "sales truncates the audit": (ALICE, "TRUNCATE kehu_audit"),
    "sales disables the audit triggers": (ALICE, "ALTER TABLE kehu_audit DISABLE TRIGGER ALL"),
    "sales drops the audit trigger": (ALICE, "DROP TRIGGER kehu_audit_read_only ON kehu_audit"),
    "sales forges an audit row": (ALICE, "INSERT INTO kehu_audit (at, login, action, table_name, changes) VALUES (now(), 'mallory', 'update', 'customer', '{}')"),
    "manager deletes audit rows": (CAROL, "DELETE FROM kehu_audit"),
    "manager edits audit rows": (CAROL, "UPDATE kehu_audit SET login = 'mallory'"),
    "manager disables the audit triggers": (CAROL, "ALTER TABLE kehu_audit DISABLE TRIGGER ALL"),
    "sales alters the customer table": (ALICE, "ALTER TABLE public.customer ADD COLUMN x int"),
    "manager alters the customer table": (CAROL, "ALTER TABLE public.customer ADD COLUMN x int"),
    "manager drops the row-level security": (CAROL, "ALTER TABLE public.customer DISABLE ROW LEVEL SECURITY"),
    "sales creates an index": (ALICE, "CREATE INDEX evil ON public.customer (name)"),
    "sales creates a table": (ALICE, "CREATE TABLE public.evil (x int)"),
    "sales creates an extension": (ALICE, "CREATE EXTENSION IF NOT EXISTS hstore"),
    "viewer replaces the masking view": (BOB, "CREATE OR REPLACE VIEW kehu_masked.customer AS SELECT 1"),
    "sales drops the masking view": (ALICE, "DROP VIEW kehu_masked.customer"),
    "sales grants itself admin": (ALICE, f"GRANT \"{PREFIX}admin\" TO \"{ALICE}\""),
    "sales becomes admin with SET ROLE": (ALICE, f"SET ROLE \"{PREFIX}admin\""),
    "sales rewrites the role definitions": (ALICE, "UPDATE kehu_team SET value = '{}'"),
    "sales makes itself a kehu admin": (ALICE, f"UPDATE kehu_user SET role = 'admin' WHERE login = '{ALICE}'"),
    "viewer creates a login": (BOB, "CREATE ROLE evil LOGIN"),
    "no-role login reads customers": (LEAST, "SELECT count(*) FROM public.customer"),
    "no-role login reads the view": (LEAST, "SELECT count(*) FROM kehu_masked.customer"),
}


@pytest.mark.parametrize("attack", list(SQL_ATTACKS))
def test_psql_attack_is_refused(team_db, attack):
    url, _ids = team_db
    login, sql = SQL_ATTACKS[attack]
    assert refused(url, login, sql), attack


def test_psql_shows_masked_values_never_the_number(team_db):
    url, ids = team_db
    for login in (ALICE, BOB):
        conn = connect_as(url, login)
        with conn.cursor() as cur:
            cur.execute("SELECT * FROM customer")   # the login's search_path: the masking view
            text = repr(cur.fetchall())
        conn.close()
        assert "13900001111" not in text     # lee's number: masked for bob, out of scope for alice
        assert "1980-05-06" not in text and "zswx01" not in text   # birthday, wechat: not for sales
    conn = connect_as(url, BOB)
    with conn.cursor() as cur:
        cur.execute("SELECT mobile FROM customer WHERE id = %s", (ids["alice"],))
        assert cur.fetchone()[0] == "138****5678"
    conn.close()


def test_psql_audit_trail_is_masked_for_restricted_roles(team_db):
    url, ids = team_db
    for login in (ALICE, BOB):
        conn = connect_as(url, login)
        with conn.cursor() as cur:
            cur.execute("SELECT customer_id, changes FROM kehu_audit")
            rows = cur.fetchall()
        conn.close()
        text = repr(rows)
        assert "13900001111" not in text and "1980-05-06" not in text and "zswx01" not in text
        assert any(c == ids["alice"] for c, _ in rows)          # its own customer's history
        if login == ALICE:
            assert all(c != ids["lee"] for c, _ in rows)         # not lee's


def test_psql_sales_works_within_its_scope(team_db):
    url, ids = team_db
    conn = connect_as(url, ALICE)
    with conn.cursor() as cur:
        cur.execute("SELECT mobile, name FROM customer")
        assert cur.fetchall() == [("+86" + CLEAR_MOBILE, "张三")]   # contact group: shown to sales
        cur.execute("UPDATE customer SET notes = 'called' WHERE id = %s", (ids["alice"],))
        assert cur.rowcount == 1
    conn.close()


# --- the headless API ----------------------------------------------------------------------

def test_api_forged_user_is_refused(team_db):
    url, _ids = team_db
    with pytest.raises(team.TeamError) as err:
        Store.open(as_login(url, ALICE), user="root")
    assert ALICE in str(err.value) and "connect as root" in str(err.value)


def test_api_sales_sees_and_changes_only_its_own(team_db):
    url, ids = team_db
    alice = Store.open(as_login(url, ALICE))
    try:
        assert alice.user == ALICE and alice.guard.role.name == "sales"
        assert [c.name for c in alice.customers()] == ["张三"]
        with pytest.raises(NotFound):
            alice.get_customer(ids["lee"])
        with pytest.raises(NotFound):
            alice.update_customer(ids["lee"], {"notes": "mine"})
        record = alice.record(alice.get_customer(ids["alice"]))
        assert record["birthday"] == "****" and record["mobile"] == "+86" + CLEAR_MOBILE
        alice.update_customer(ids["alice"], {"notes": "from the app"})
        assert alice.get_customer(ids["alice"]).notes == "from the app"
        new = alice.create_customer({"name": "王五", "mobile": "13700001234"})
        assert new.owner == ALICE
        alice.add_interaction(ids["alice"], "call", summary="hello")
        with pytest.raises(PermissionDenied):
            add_user(alice, "eve", "admin")
        with pytest.raises(PermissionDenied):
            alice.update_customer(ids["alice"], {"birthday": "1990-01-01"})
        with pytest.raises(Exception) as err:       # the server, under the model layer
            alice.db.execute_sql("DELETE FROM kehu_audit")
        assert "permission denied" in str(err.value)
    finally:
        alice.close()
    owner = Store.open(url)
    assert owner.get_customer(ids["alice"]).wechat == "zswx01"   # sales' save kept what it could not see
    owner.close()


def test_restricted_roles_search_ordinary_fields_by_pinyin_never_by_hidden_values(team_db, capsys):
    url, _ids = team_db
    bob = as_login(url, BOB)
    assert main(["--db", bob, "query", "zhangsan"]) == 0      # pinyin of 张三: still found
    assert "张三" in capsys.readouterr().out
    assert main(["--db", bob, "query", "zswx01"]) == 0        # alice's customer's WeChat ID
    assert "张三" not in capsys.readouterr().out
    conn = connect_as(url, BOB)
    with conn.cursor() as cur:
        cur.execute("SELECT search_text FROM customer")
        text = repr(cur.fetchall())
    conn.close()
    assert "zswx01" not in text and "5678" not in text and "zhangsan" in text


def test_api_viewer_reads_masked_and_writes_nothing(team_db):
    url, ids = team_db
    bob = Store.open(as_login(url, BOB))
    try:
        assert bob.guard.role.name == "viewer"
        rows = {c.id: bob.record(c) for c in bob.customers()}
        assert rows[ids["lee"]]["mobile"] == "139****1111"
        assert rows[ids["alice"]]["mobile"] == "138****5678"
        with pytest.raises(PermissionDenied):
            bob.update_customer(ids["alice"], {"notes": "x"})
        with pytest.raises(PermissionDenied):
            bob.create_customer({"name": "x"})
    finally:
        bob.close()


def test_api_own_config_folder_changes_no_rights(team_db, tmp_path, monkeypatch):
    """alice's own roles.yaml gives sales every right, her config.yaml default_role admin:
    on a shared database neither counts."""
    url, ids = team_db
    folder = tmp_path / "alice_config"
    folder.mkdir()
    everything = {"view": True, "create": True, "edit": True, "delete": True, "export": True,
                  "import": True, "sensitive": True, "rows": "all", "audit": True, "users": True}
    (folder / "roles.yaml").write_text(yaml.safe_dump({"roles": {"sales": everything}}), "utf-8")
    (folder / "config.yaml").write_text("default_role: admin\nuser: root\n", "utf-8")
    monkeypatch.setenv("KEHU_CONFIG_DIR", str(folder))
    alice = Store.open(as_login(url, ALICE))
    try:
        assert not alice.guard.can("users") and not alice.guard.can("delete")
        assert alice.guard.role.rows == "own"
        assert alice.count_customers() >= 1
        assert all(c.owner == ALICE for c in alice.customers())
        with pytest.raises(PermissionDenied):
            set_role(alice, BOB, "admin")
    finally:
        alice.close()


# --- the CLI -------------------------------------------------------------------------------

def test_cli_forged_user_env_and_config_are_refused_or_ignored(team_db, capsys, monkeypatch, tmp_path):
    url, _ids = team_db
    alice_url = as_login(url, ALICE)
    assert main(["--db", alice_url, "--user", "root", "query", ""]) == 2
    err = capsys.readouterr().err
    assert "connect as root" in err and "Traceback" not in err
    # the owner (a superuser here) cannot act under another name on a team database either
    assert main(["--db", url, "--user", ALICE, "query", ""]) == 2
    assert "connect as" in capsys.readouterr().err
    monkeypatch.setenv("USER", "root")
    monkeypatch.setenv("LOGNAME", "root")
    from kehu.models.config import config_dir

    (config_dir() / "config.yaml").write_text("user: root\ndefault_role: admin\n", "utf-8")
    assert main(["--db", alice_url, "user", "whoami"]) == 0
    out = capsys.readouterr().out
    assert ALICE in out and "Sales" in out and "root" not in out


@pytest.mark.parametrize("argv", [
    ["user", "add", "eve", "--role", "admin"],
    ["user", "set-role", "BOB", "admin"],
    ["user", "disable", "CAROL"],
    ["migrate"],
    ["team", "init"],
    ["role", "set", "sales", "rows", "all"],
])
def test_cli_privileged_commands_are_refused_to_sales(team_db, capsys, argv):
    url, _ids = team_db
    argv = [{"BOB": BOB, "CAROL": CAROL}.get(a, a) for a in argv]
    assert main(["--db", as_login(url, ALICE), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kehu: ") and "Traceback" not in err


def test_cli_roles_load_by_sales_is_refused(team_db, capsys, tmp_path):
    url, _ids = team_db
    path = tmp_path / "roles.yaml"
    path.write_text(yaml.safe_dump({"roles": {"sales": {"view": True, "sensitive": True,
                                                        "rows": "all", "users": True}}}), "utf-8")
    assert main(["--db", as_login(url, ALICE), "roles", "load", str(path)]) == 2
    assert "only the owner" in capsys.readouterr().err


def test_cli_sales_query_lists_only_its_own_customers(team_db, capsys):
    url, _ids = team_db
    assert main(["--db", as_login(url, ALICE), "query", "", "--json"]) == 0
    out = capsys.readouterr().out
    assert "张三" in out and "李四" not in out and "13900001111" not in out


def test_least_privilege_login_starts_without_traceback(team_db, capsys):
    url, _ids = team_db
    assert main(["--db", as_login(url, LEAST), "query", ""]) == 2
    err = capsys.readouterr().err
    assert "kehu user add" in err and "Traceback" not in err and "permission denied" not in err


def test_a_login_on_a_database_without_team_init_is_told_what_to_do(team_db, capsys):
    """Another login opening an owner's database before team init: one sentence.
    (A database of its own: the module's team database stays as it is.)"""
    url, _ids = team_db
    name, lone = f"kehu_noteam_{PID}", f"lone{PID}"
    other = url.rsplit("/", 1)[0] + "/" + name
    admin = psycopg2.connect(url)
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cur.execute(f'CREATE DATABASE "{name}"')
        cur.execute(f'CREATE ROLE "{lone}" LOGIN')
    try:
        Store.open(other).close()        # the owner's tables, no team
        assert main(["--db", as_login(other, lone), "query", ""]) == 2
        err = capsys.readouterr().err
        assert "kehu team init" in err and "Traceback" not in err
    finally:
        with admin.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (name,))
            cur.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cur.execute(f'DROP ROLE IF EXISTS "{lone}"')
        admin.close()


def test_non_owner_never_migrates_and_is_told_to_ask(team_db, tmp_path, capsys):
    url, _ids = team_db
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump({"extends": "default", "fields": [
        {"key": "shoe_size", "type": "integer", "group": "basic", "label": {"en": "Shoe size"}}]}), "utf-8")
    assert main(["--db", as_login(url, CAROL), "--schema", str(schema), "query", ""]) == 2
    err = capsys.readouterr().err
    assert "ask your admin to run kehu migrate" in err and "shoe_size" in err
    conn = psycopg2.connect(url)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_attribute WHERE attrelid = 'public.customer'::regclass "
                    "AND attname = 'shoe_size'")
        assert cur.fetchone()[0] == 0
    conn.close()


# --- the owner's side: users, roles, migrate -------------------------------------------------

def test_owner_changes_roles_and_users_and_the_server_follows(team_db, capsys, tmp_path):
    url, ids = team_db
    # the viewer may now see the contact group in clear: psql shows bob the number
    assert main(["--db", url, "role", "set", "viewer", "sensitive", "[contact]"]) == 0
    conn = connect_as(url, BOB)
    with conn.cursor() as cur:
        cur.execute("SELECT mobile FROM public.customer WHERE id = %s", (ids["lee"],))
        assert cur.fetchone()[0] == "+8613900001111"
    conn.close()
    assert main(["--db", url, "role", "set", "viewer", "sensitive", "false"]) == 0
    assert refused(url, BOB, "SELECT mobile FROM public.customer")
    # set-role moves bob to sales: he now sees only his own (none)
    assert main(["--db", url, "user", "set-role", BOB, "sales"]) == 0
    bob = Store.open(as_login(url, BOB))
    assert bob.guard.role.name == "sales" and bob.count_customers() == 0
    bob.close()
    assert main(["--db", url, "user", "set-role", BOB, "viewer"]) == 0
    # disable: the server no longer lets bob log in; kehu says so in one sentence
    assert main(["--db", url, "user", "disable", BOB]) == 0
    capsys.readouterr()
    with pytest.raises(psycopg2.OperationalError):
        connect_as(url, BOB)
    assert main(["--db", as_login(url, BOB), "query", ""]) == 2
    assert "not permitted to log in" in capsys.readouterr().err
    assert main(["--db", url, "user", "enable", BOB]) == 0
    connect_as(url, BOB).close()
    assert main(["--db", url, "user", "list"]) == 0
    listing = capsys.readouterr().out
    assert ALICE in listing and BOB in listing and "Sales" in listing


def test_a_role_dropped_from_the_definitions_loses_its_rights(team_db, tmp_path, capsys):
    """A roles file is laid over the built-in roles; a role of the team's own that a
    later file leaves out keeps its group role but loses every right."""
    url, _ids = team_db
    with_intern = tmp_path / "with_intern.yaml"
    with_intern.write_text(yaml.safe_dump({"roles": {"intern": {"view": True, "rows": "all"}}}),
                           "utf-8")
    without = tmp_path / "without.yaml"
    without.write_text(yaml.safe_dump({"roles": {}}), "utf-8")
    assert main(["--db", url, "roles", "load", str(with_intern)]) == 0
    assert main(["--db", url, "user", "set-role", BOB, "intern"]) == 0
    try:
        assert not refused(url, BOB, "SELECT count(*) FROM kehu_masked.customer")
        assert main(["--db", url, "roles", "load", str(without)]) == 0
        assert refused(url, BOB, "SELECT count(*) FROM public.customer")
        assert refused(url, BOB, "SELECT count(*) FROM kehu_masked.customer")
        capsys.readouterr()
        assert main(["--db", as_login(url, BOB), "query", ""]) == 2
        assert "has no rights" in capsys.readouterr().err
    finally:
        assert main(["--db", url, "user", "set-role", BOB, "viewer"]) == 0
    assert not refused(url, BOB, "SELECT count(*) FROM kehu_masked.customer")


def test_owner_migrates_and_the_team_keeps_working(team_db, tmp_path, capsys):
    url, ids = team_db
    schema = tmp_path / "schema.yaml"
    schema.write_text(yaml.safe_dump({"extends": "default", "fields": [
        {"key": "vip_note", "type": "text", "group": "basic", "label": {"en": "VIP note"},
         "sensitive": True}]}),
                      "utf-8")
    assert main(["--db", url, "--schema", str(schema), "migrate"]) == 0
    assert "vip_note" in capsys.readouterr().out
    assert refused(url, BOB, "SELECT vip_note FROM public.customer")   # sensitive: no privilege
    alice = Store.open(as_login(url, ALICE), str(schema))
    try:
        assert [c.name for c in alice.customers().order_by(alice.Customer.id)][:1] == ["张三"]
    finally:
        alice.close()


def test_manager_imports_and_reverts_without_owning_anything(team_db, tmp_path, capsys):
    url, _ids = team_db
    csv = tmp_path / "in.csv"
    csv.write_text("name,mobile,owner\n导入客户,13611112222,lee\n", "utf-8")
    carol = as_login(url, CAROL)
    assert main(["--db", carol, "import", str(csv)]) == 0
    assert "1 created" in capsys.readouterr().out
    assert main(["--db", carol, "imports", "revert", "1"]) == 0


def test_manager_recomputes_many_segments_without_touching_indexes(team_db, monkeypatch):
    from kehu.models import segments

    url, _ids = team_db
    monkeypatch.setattr(segments, "REINDEX_ABOVE", -1)   # "many rows": the owner would reindex
    carol = Store.open(as_login(url, CAROL))
    try:
        segments.recompute(carol)
    finally:
        carol.close()


def test_sqlite_user_add_says_teams_use_postgresql(sqlite_url, capsys):
    assert main(["--db", sqlite_url, "user", "add", "sam", "--role", "sales"]) == 0
    err = capsys.readouterr().err
    assert "not a security boundary" in err and "PostgreSQL" in err
    assert main(["--db", sqlite_url, "team", "init"]) == 2
    assert "single-user" in capsys.readouterr().err


def test_a_password_the_server_wants_is_asked_for(team_db, monkeypatch):
    """libpq found no password (~/.pgpass, PGPASSWORD): kehu asks once and connects with
    it (the test server trusts 127.0.0.1, so the refusal is simulated)."""
    import peewee

    from kehu.models import db as dbmod

    url, _ids = team_db
    asked = []
    monkeypatch.setattr(dbmod, "_password_prompt", lambda shown: asked.append(shown) or "s3cret")
    db = peewee.PostgresqlDatabase(urlparse(url).path[1:], host="127.0.0.1", user=ALICE)
    refusal = peewee.OperationalError("fe_sendauth: no password supplied")
    assert dbmod._asked_password(db, as_login(url, ALICE), refusal)
    assert asked and db.connect_params["password"] == "s3cret" and not db.is_closed()
    db.close()
    assert not dbmod._asked_password(db, url, peewee.OperationalError("other"))


def test_psql_kept_import_columns_only_for_roles_seeing_every_field(team_db, tmp_path, capsys):
    """An import's kept columns (customer.extra) hold whatever the file had: a role that may
    not see every field does not read them, on any path; an importing role writes them."""
    url, ids = team_db
    conn = psycopg2.connect(url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("UPDATE public.customer SET extra = %s WHERE id = %s",
                    ('{"身份证号": "110101199001011234"}', ids["alice"]))
    conn.close()
    for login in (ALICE, BOB):
        conn = connect_as(url, login)
        with conn.cursor() as cur:
            cur.execute("SELECT extra FROM customer WHERE id = %s", (ids["alice"],))
            row = cur.fetchone()
        conn.close()
        assert row is None or row[0] is None
        assert refused(url, login, f"SELECT extra FROM public.customer WHERE id = {ids['alice']}")
    sheet = tmp_path / "kept.csv"
    sheet.write_text("name,mobile,owner,介绍人" + chr(10) + "带备注客户,13611113333,lee,王经理" + chr(10), "utf-8")
    assert main(["--db", as_login(url, CAROL), "import", str(sheet)]) == 0
    assert "1 created" in capsys.readouterr().out


def test_attack_count():
    """The figure the README gives: every attack above, by path."""
    sql = len(SQL_ATTACKS)
    assert sql >= 40


def test_invalid_values_a_scan_found_are_read_only_by_roles_that_see_everything(team_db, capsys):
    from kehu.models import quality

    url, ids = team_db
    owner = Store.open(url)
    try:
        owner.db.execute_sql("UPDATE customer SET email = 'not-an-email' WHERE id = %s",
                             (ids["lee"],))   # a legacy value kehu would refuse today
        assert quality.scan(owner).get("email") == 1
    finally:
        owner.close()
    for login in (ALICE, BOB):   # restricted roles: the table is not theirs to read
        conn = connect_as(url, login)
        try:
            with pytest.raises(psycopg2.Error, match="permission denied"):
                with conn.cursor() as cur:
                    cur.execute("SELECT value FROM quality_invalid")
        finally:
            conn.close()
    # the report says so in one line; asking for the list is one sentence, no traceback
    assert main(["--db", as_login(url, BOB), "quality", "--no-scan"]) == 0
    assert "Invalid values: for roles that see every field" in capsys.readouterr().out
    assert main(["--db", as_login(url, BOB), "query", "invalid:*"]) == 2
    err = capsys.readouterr().err
    assert "sees every field" in err and "Traceback" not in err
    owner = Store.open(url)
    try:
        assert quality.findings_readable(owner)
        assert main(["--db", url, "query", "invalid:email", "--json"]) == 0
        assert "李四" in capsys.readouterr().out
    finally:
        owner.close()
