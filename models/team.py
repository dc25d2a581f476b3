"""PostgreSQL team mode: the database server itself enforces who may do what.

Everything here is PostgreSQL DDL (roles, grants, row-level security, the
masking view); it is meant to move into the PostgreSQL ``Dialect`` later.

* ``kehu team init`` (the database owner, once) creates the table ``kehu_team``
  (the team's settings and its role definitions, written by the owner only), a
  NOLOGIN group role per kehu role (``kehu_admin``, ``kehu_sales``, … named
  ``<prefix><role>``), and applies the rights (``apply``).
* ``apply`` turns the role definitions into grants: table and column
  privileges (a sensitive column a role may not see in clear gets no privilege
  at all), row-level security (``rows: own`` → only rows whose owner is the
  session user, on customer, contact, interaction and verification), an audit
  table that runtime roles may only INSERT into (as themselves) and SELECT, and
  the schema ``kehu_masked`` whose ``customer`` view shows masked values
  (138****5678) and only the rows in scope. Writes through that view run with
  the writer's own privileges (INSTEAD OF triggers), so the base table's
  column privileges and policies still decide.
* Logins are PostgreSQL LOGIN roles, members of one group role
  (``add_login``, ``set_login_role``, ``set_login_enabled``).

Nobody but the owner owns a table, so nobody else can ALTER, DROP, TRUNCATE or
DISABLE TRIGGER; schema changes go through ``kehu migrate`` by the owner.
"""
from __future__ import annotations

import json
from typing import Any

import peewee

from .errors import KehuError
from .i18n import tr

TEAM_TABLE = "kehu_team"
VIEW_SCHEMA = "kehu_masked"
DEFAULT_PREFIX = "kehu_"
CHILD_TABLES = ("contact", "interaction", "verification", "automation_fired")
MASK = "****"


class TeamError(KehuError):
    """A team operation that cannot be done; ``str()`` says why and who can do it."""


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + str(name).replace('"', '""') + '"'


def lit(text: str) -> str:
    """A quoted SQL string literal."""
    return "'" + str(text).replace("'", "''") + "'"


def _one(db: peewee.Database, sql: str, params: tuple = ()) -> Any:
    row = db.execute_sql(sql, params).fetchone()
    return row[0] if row else None


# --- who is connected ---------------------------------------------------------

def session_user(db: peewee.Database) -> str:
    return _one(db, "SELECT session_user")


def is_superuser(db: peewee.Database) -> bool:
    return bool(_one(db, "SELECT rolsuper FROM pg_roles WHERE rolname = session_user"))


def can_create_roles(db: peewee.Database) -> bool:
    return bool(_one(db, "SELECT rolsuper OR rolcreaterole FROM pg_roles "
                         "WHERE rolname = session_user"))


def table_owner(db: peewee.Database, table: str = "customer") -> str | None:
    return _one(db, "SELECT tableowner FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename = %s", (table,))


def may_migrate(db: peewee.Database) -> bool:
    """The connecting role may change the schema: it owns the customer table (or is a
    member of the role that does, or a superuser); before the first migration, it
    may create tables in the public schema."""
    owner = table_owner(db)
    if owner is None:
        return bool(_one(db, "SELECT has_schema_privilege('public', 'CREATE')"))
    return bool(_one(db, "SELECT pg_has_role(session_user, %s, 'USAGE')", (owner,)))


def _oid(db: peewee.Database, name: str, schema: str = "public") -> int | None:
    """A relation's oid from the catalogue (which needs no right on the schema)."""
    return _one(db, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = %s AND c.relname = %s", (schema, name))


def has_table(db: peewee.Database, name: str, schema: str = "public") -> bool:
    return _oid(db, name, schema) is not None


def is_team(db: peewee.Database) -> bool:
    """``kehu team init`` has run on this database."""
    return has_table(db, TEAM_TABLE)


def settings(db: peewee.Database) -> dict[str, Any]:
    rows = db.execute_sql(f"SELECT key, value FROM public.{TEAM_TABLE}").fetchall()
    return {k: json.loads(v) for k, v in rows}


def group(prefix: str, role: str) -> str:
    return f"{prefix}{role}"


def member_role(db: peewee.Database, prefix: str, role_names: list[str]) -> str | None:
    """The kehu role whose group role the session user is a member of (the first
    in the roles file's order when several)."""
    for name in role_names:
        exists = _one(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", (group(prefix, name),))
        if exists and _one(db, "SELECT pg_has_role(session_user, %s, 'MEMBER')",
                           (group(prefix, name),)):
            return name
    return None


def columns(db: peewee.Database, table: str, schema: str = "public") -> list[tuple[str, str]]:
    """(name, SQL type) of a table's columns, in order (pg_catalog: visible to all)."""
    return db.execute_sql(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        "WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum", (_oid(db, table, schema),)).fetchall()


def login_for(db: peewee.Database, user: str | None, *, strict: bool = False) -> str:
    """The kehu user of a PostgreSQL connection: its session user. A different name
    (--user, $USER, config) is refused. A superuser, whom no rule binds anyway (it
    may SET SESSION AUTHORIZATION), may name itself in the API (tests, scripts), and
    through the CLI (``strict``) only on a database that is no team database."""
    me = session_user(db)
    if not user or user == me:
        return me
    if is_superuser(db) and not (strict and is_team(db)):
        return user
    raise TeamError(tr("team.forged_user", user=user, login=me))


def open_check(store, migrate: bool) -> None:
    """What opening a PostgreSQL database does: the owner migrates (``migrate``);
    anyone else runs no DDL and gets one sentence when they cannot work here."""
    db = store.db
    if may_migrate(db):
        if migrate:
            from .store import migrate_schema

            store.migration = migrate_schema(store)
        _search_path(store, "public")
        return
    if not migrate:
        return
    me = session_user(db)
    if not has_table(db, "customer") or not has_table(db, "kehu_meta"):
        raise TeamError(tr("team.not_set_up", login=me))
    if not (_one(db, "SELECT has_schema_privilege('public', 'USAGE')")
            and _one(db, "SELECT has_any_column_privilege(%s::oid, 'SELECT')",
                     (_oid(db, "customer"),))):
        raise TeamError(tr("team.no_rights" if is_team(db) else "team.no_rights_no_team",
                           login=me))
    present = {c for c, _t in columns(db, "customer")}
    behind = [f.key for f in store.schema.fields if f.key not in present]
    if behind:
        raise TeamError(tr("team.schema_behind", fields=", ".join(behind), login=me))
    role = store.guard.role   # not a member of a kehu role: one sentence here
    restricted = _restricted(store.schema, role) and is_team(db)
    _search_path(store, f"{VIEW_SCHEMA}, public" if restricted else "public")


def _search_path(store, path: str) -> None:
    """Where unqualified names resolve, on this and every later connection (worker
    threads connect on their own): a role that may not see every column reads and
    writes customers through ``kehu_masked.customer``."""
    db = store.db
    sql = f"SET search_path TO {path}"
    db.execute_sql(sql)
    original = db._initialize_connection

    def init(conn):
        original(conn)
        with conn.cursor() as cur:
            cur.execute(sql)

    db._initialize_connection = init


# --- team init ---------------------------------------------------------------

def init(store, roles_document: dict[str, Any], prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Make ``store``'s database a team database; returns the group roles made."""
    db = store.db
    if not store.is_postgres:
        raise TeamError(tr("team.sqlite_single_user"))
    me = session_user(db)
    if not may_migrate(db):
        raise TeamError(tr("team.owner_only", login=me, owner=table_owner(db) or "?",
                           command="kehu team init"))
    if not can_create_roles(db):
        raise TeamError(tr("team.needs_createrole", login=me))
    if not prefix or not all(c.isalnum() or c == "_" for c in prefix) or not prefix[0].isalpha():
        raise TeamError(tr("team.bad_prefix", prefix=prefix))
    if is_team(db) and settings(db).get("prefix") not in (None, prefix):
        raise TeamError(tr("team.already", prefix=settings(db).get("prefix")))
    made = []
    with db.atomic():
        db.execute_sql(f"CREATE TABLE IF NOT EXISTS public.{TEAM_TABLE} "
                       "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        put_setting(db, "prefix", prefix)
        put_setting(db, "roles", roles_document)
        for name in (roles_document.get("roles") or {}):
            role = group(prefix, name)
            if not _one(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
                db.execute_sql(f"CREATE ROLE {q(role)} NOLOGIN")
                made.append(role)
        apply(store)
    return made


def put_setting(db: peewee.Database, key: str, value: Any) -> None:
    db.execute_sql(f"INSERT INTO public.{TEAM_TABLE} (key, value) VALUES (%s, %s) "
                   "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                   (key, json.dumps(value, ensure_ascii=False)))


def load_roles_document(store, document: dict[str, Any]) -> list[str]:
    """Replace the team's role definitions (owner only) and re-apply the rights;
    a new role gets its group role. Returns the group roles made."""
    db = store.db
    if not may_migrate(db):
        raise TeamError(tr("team.owner_only", login=session_user(db),
                           owner=table_owner(db) or "?", command="kehu roles load"))
    prefix = settings(db)["prefix"]
    return init(store, document, prefix)


# --- rights ------------------------------------------------------------------

def _sees(role, spec) -> bool:
    return role.allows("view", spec) and (not spec.sensitive or role.allows("sensitive", spec))


def drop_views(db: peewee.Database) -> None:
    """The masking view depends on the customer columns: migrations drop it first."""
    db.execute_sql(f"DROP SCHEMA IF EXISTS {VIEW_SCHEMA} CASCADE")


def apply(store) -> None:
    """Grant each group role what its role definition allows (idempotent: every
    kehu right is revoked first). Run by the owner: team init, roles load, migrate."""
    from .security import roles_from_document

    db, schema = store.db, store.schema
    conf = settings(db)
    prefix = conf["prefix"]
    roles = roles_from_document(conf["roles"])
    groups = {name: group(prefix, name) for name in roles.roles}
    from .io_tables import io_models

    io_models(store)   # the import and merge journal: made now, so it gets its grants
    from .automations import fired_model
    fired_model(store)   # what rules did: a child table of the customer (row security)
    for name, role in groups.items():   # a role added by hand to the table
        if not _one(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)):
            db.execute_sql(f"CREATE ROLE {q(role)} NOLOGIN")
    every = ", ".join(q(g) for g in groups.values())
    # a role the definitions no longer have keeps its group role (its members may be
    # moved later) but loses every right
    stale = [r[0] for r in db.execute_sql(
        "SELECT rolname FROM pg_roles WHERE NOT rolcanlogin AND starts_with(rolname, %s)",
        (prefix,)).fetchall() if r[0] not in groups.values()]
    tables = [r[0] for r in db.execute_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()]
    with db.atomic():
        drop_views(db)
        revoked = ", ".join(q(g) for g in [*groups.values(), *stale])
        db.execute_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {revoked}")
        db.execute_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {revoked}")
        db.execute_sql(f"REVOKE ALL ON SCHEMA public FROM {revoked}")
        db.execute_sql(f"GRANT USAGE ON SCHEMA public TO {every}")
        cust_cols = [c for c, _t in columns(db, "customer")]
        for name, role in roles.roles.items():
            g = q(groups[name])
            writes = role.allows("create") or role.allows("edit") or role.allows("import")
            seen = [c for c in cust_cols if c not in schema or _sees(role, schema[c])]
            full = len(seen) == len(cust_cols)
            if not full:   # the search text holds every searchable value in clear, an
                # import's kept columns (extra) whatever the file had: written, not read
                seen = [c for c in seen if c not in ("search_text", "extra")]
            cols = ", ".join(q(c) for c in seen)
            writable = cols + ', "search_text", "extra"' if not full else cols
            db.execute_sql(f"GRANT SELECT ({cols}) ON public.customer TO {g}")
            if role.allows("create") or role.allows("import"):
                db.execute_sql(f"GRANT INSERT ({writable}) ON public.customer TO {g}")
            if role.allows("edit") or role.allows("delete") or role.allows("import"):
                db.execute_sql(f"GRANT UPDATE ({writable}) ON public.customer TO {g}")
            if role.allows("delete"):
                db.execute_sql(f"GRANT DELETE ON public.customer TO {g}")
            for table in tables:
                if table == "customer":
                    continue
                privs = ["SELECT"]
                if table in CHILD_TABLES:
                    if role.allows("edit") or role.allows("import"):
                        privs += ["INSERT", "UPDATE", "DELETE"]
                elif table == "kehu_audit":      # never UPDATE, DELETE or TRUNCATE
                    db.execute_sql(f"GRANT INSERT ON public.kehu_audit TO {g}")
                    if _restricted(schema, role):  # the values before/after, in clear
                        audit_cols = ", ".join(q(c) for c, _t in columns(db, "kehu_audit")
                                               if c != "changes")
                        db.execute_sql(f"GRANT SELECT ({audit_cols}) ON public.kehu_audit TO {g}")
                        continue
                elif table in ("kehu_user", TEAM_TABLE):
                    pass                          # written by the owner (kehu user, roles load)
                elif table == "kehu_meta":
                    if writes:
                        privs += ["INSERT", "UPDATE"]
                elif table in ("import_batch", "import_change"):
                    if not role.allows("import"):
                        continue                  # rows' values before an import, in clear
                    privs += ["INSERT", "UPDATE", "DELETE"]
                elif table == "quality_invalid":
                    if _restricted(schema, role):
                        continue                  # the invalid values found, in clear
                    if writes:
                        privs += ["INSERT", "UPDATE", "DELETE"]
                elif table == "merge_record":
                    if not role.allows("delete"):
                        continue
                    privs += ["INSERT", "UPDATE", "DELETE"]
                elif writes:
                    privs += ["INSERT", "UPDATE", "DELETE"]
                db.execute_sql(f"GRANT {', '.join(privs)} ON public.{q(table)} TO {g}")
            if writes:
                db.execute_sql(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {g}")
        _policies(db, roles, groups)
        _masking_view(db, schema, roles, groups, cust_cols)
        _audit_view(db, schema, roles, groups)


def _restricted(schema, role) -> bool:
    """A role that may not read every value in clear: it reads customers and the audit
    trail through the masking views (``kehu_masked``)."""
    return role.rows == "own" or any(not _sees(role, f) for f in schema.fields)


def _own_expr(roles, column: str = "owner") -> str:
    return (f"({q(column)} = session_user OR {q(column)} = (SELECT u.display_name "
            f"FROM public.kehu_user u WHERE u.login = session_user))")


def _policies(db, roles, groups) -> None:
    all_rows = [q(groups[n]) for n, r in roles.roles.items() if r.rows == "all"]
    own_rows = [q(groups[n]) for n, r in roles.roles.items() if r.rows == "own"]
    has_owner = any(c == roles.owner_field for c, _t in columns(db, "customer"))
    own = _own_expr(roles, roles.owner_field) if has_owner else "false"
    scoped = {"customer": own}
    for table in CHILD_TABLES:
        scoped[table] = ("EXISTS (SELECT 1 FROM public.customer c "
                         f"WHERE c.id = {q(table)}.customer_id)")
    for table, expr in scoped.items():
        db.execute_sql(f"ALTER TABLE public.{q(table)} ENABLE ROW LEVEL SECURITY")
        for policy in ("kehu_all", "kehu_own"):
            db.execute_sql(f"DROP POLICY IF EXISTS {policy} ON public.{q(table)}")
        if all_rows:
            db.execute_sql(f"CREATE POLICY kehu_all ON public.{q(table)} TO {', '.join(all_rows)} "
                           "USING (true) WITH CHECK (true)")
        if own_rows:
            db.execute_sql(f"CREATE POLICY kehu_own ON public.{q(table)} TO {', '.join(own_rows)} "
                           f"USING ({expr}) WITH CHECK ({expr})")
    # the audit trail: read by all, written only as oneself, never changed
    every = ", ".join(q(g) for g in groups.values())
    db.execute_sql("ALTER TABLE public.kehu_audit ENABLE ROW LEVEL SECURITY")
    for policy in ("kehu_read", "kehu_append"):
        db.execute_sql(f"DROP POLICY IF EXISTS {policy} ON public.kehu_audit")
    db.execute_sql(f"CREATE POLICY kehu_read ON public.kehu_audit FOR SELECT TO {every} USING (true)")
    db.execute_sql(f"CREATE POLICY kehu_append ON public.kehu_audit FOR INSERT TO {every} "
                   "WITH CHECK (login = session_user)")


def _mask_sql(spec, col: str) -> str:
    """The SQL that masks one column as ``security.mask`` does in Python."""
    kind = getattr(spec, "type", "text")
    if kind == "phone":
        digits = f"regexp_replace(regexp_replace({col}::text, '^\\+86', ''), '\\D', '', 'g')"
        return (f"CASE WHEN {col} IS NULL OR {col}::text = '' THEN {col}::text "
                f"WHEN length({digits}) >= 7 THEN left({digits}, 3) || '{MASK}' || right({digits}, 4) "
                f"ELSE '{MASK}' END")
    if kind == "email":
        return (f"CASE WHEN {col} IS NULL OR {col} = '' THEN {col} WHEN position('@' in {col}) > 0 "
                f"THEN left({col}, 1) || '{MASK}@' || split_part({col}, '@', 2) ELSE '{MASK}' END")
    if kind in ("text", "longtext", "url", "tags", "choice"):
        return (f"CASE WHEN {col} IS NULL OR {col}::text = '' THEN {col}::text "
                f"WHEN length({col}::text) > 1 THEN left({col}::text, 1) || '{MASK}' "
                f"ELSE '{MASK}' END")
    return f"CASE WHEN {col} IS NULL THEN NULL ELSE '{MASK}' END"


def _member_of(group_names: list[str]) -> str:
    if not group_names:
        return "false"
    return "(" + " OR ".join(f"pg_has_role(session_user, {lit(g)}, 'MEMBER')"
                             for g in group_names) + ")"


def _masking_view(db, schema, roles, groups, cust_cols) -> None:
    """``kehu_masked.customer``: every column, masked for the roles that may not see
    it, only the rows in the session user's scope; writes go to ``public.customer``
    with the writer's own rights."""
    types = dict(columns(db, "customer"))
    select = []
    for col in cust_cols:
        spec = schema.get(col) if col in schema else None
        if col == "search_text":
            full = [groups[n] for n, r in roles.roles.items()
                    if all(_sees(r, s) for s in schema.fields)]
            # the others search the words of the ordinary fields only: the search text
            # keeps the sensitive fields' words after PRIVATE_MARK (models.search)
            from .search import PRIVATE_MARK

            select.append(f"CASE WHEN {_member_of(full)} THEN c.search_text "
                          f"ELSE split_part(c.search_text, {lit(PRIVATE_MARK)}, 1) END "
                          "AS search_text")
            continue
        if col == "extra":   # an import's kept columns: for the roles that see every field
            full = [groups[n] for n, r in roles.roles.items()
                    if all(_sees(r, s) for s in schema.fields)]
            select.append(f"CASE WHEN {_member_of(full)} THEN c.extra END AS extra")
            continue
        if spec is None:
            select.append(f"c.{q(col)}")
            continue
        seeing = [groups[n] for n, r in roles.roles.items() if _sees(r, spec)]
        if len(seeing) == len(groups):
            select.append(f"c.{q(col)}")
        else:
            select.append(f"CASE WHEN {_member_of(seeing)} THEN c.{q(col)}::text "
                          f"ELSE {_mask_sql(spec, 'c.' + q(col))} END AS {q(col)}")
    all_rows = [groups[n] for n, r in roles.roles.items() if r.rows == "all"]
    has_owner = roles.owner_field in types
    own = (f"c.{q(roles.owner_field)} = session_user OR c.{q(roles.owner_field)} = "
           "(SELECT u.display_name FROM public.kehu_user u WHERE u.login = session_user)"
           if has_owner else "false")
    db.execute_sql(f"CREATE SCHEMA {VIEW_SCHEMA}")
    db.execute_sql(f"CREATE VIEW {VIEW_SCHEMA}.customer WITH (security_barrier) AS "
                   f"SELECT {', '.join(select)} FROM public.customer c "
                   f"WHERE {_member_of(all_rows)} OR {own}")
    # writes: only the columns given/changed, as the writer (privileges and policies apply)
    checks_upd, checks_ins = [], []
    for col in cust_cols:
        if col == "id":
            continue
        value = f"(($1).{q(col)})::{types[col]}"
        checks_upd.append(f"IF NEW.{q(col)} IS DISTINCT FROM OLD.{q(col)} THEN "
                          f"sets := sets || {lit(q(col) + ' = ' + value)}::text; END IF;")
        checks_ins.append(f"IF NEW.{q(col)} IS NOT NULL THEN names := names || {lit(q(col))}::text; "
                          f"vals := vals || {lit(value)}::text; END IF;")
    nl = "\n  "
    db.execute_sql(f"""
CREATE FUNCTION {VIEW_SCHEMA}.customer_write() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE sets text[] := '{{}}'; names text[] := '{{}}'; vals text[] := '{{}}'; new_id bigint;
BEGIN
 IF TG_OP = 'DELETE' THEN
  DELETE FROM public.customer WHERE id = OLD.id;
  RETURN OLD;
 ELSIF TG_OP = 'UPDATE' THEN
  {nl.join(checks_upd)}
  IF cardinality(sets) > 0 THEN
   EXECUTE 'UPDATE public.customer SET ' || array_to_string(sets, ', ') || ' WHERE id = ($1).id'
     USING NEW;
  END IF;
  RETURN NEW;
 ELSE
  {nl.join(checks_ins)}
  EXECUTE 'INSERT INTO public.customer (' || array_to_string(names, ', ') || ') VALUES ('
     || array_to_string(vals, ', ') || ') RETURNING id' INTO new_id USING NEW;
  NEW.id := new_id;
  RETURN NEW;
 END IF;
END $fn$""")
    db.execute_sql(f"CREATE TRIGGER customer_write INSTEAD OF INSERT OR UPDATE OR DELETE "
                   f"ON {VIEW_SCHEMA}.customer FOR EACH ROW "
                   f"EXECUTE FUNCTION {VIEW_SCHEMA}.customer_write()")
    every = ", ".join(q(g) for g in groups.values())
    db.execute_sql(f"GRANT USAGE ON SCHEMA {VIEW_SCHEMA} TO {every}")
    for name, role in roles.roles.items():
        privs = ["SELECT"]
        if role.allows("create") or role.allows("import"):
            privs.append("INSERT")
        if role.allows("edit") or role.allows("delete") or role.allows("import"):
            privs.append("UPDATE")
        if role.allows("delete"):
            privs.append("DELETE")
        db.execute_sql(f"GRANT {', '.join(privs)} ON {VIEW_SCHEMA}.customer TO {q(groups[name])}")


def _audit_view(db, schema, roles, groups) -> None:
    """``kehu_masked.kehu_audit``: the trail as a restricted role may read it — the
    customer values it may not see masked in each entry's changes, and only entries
    of customers in its scope (or its own). Appending goes through to the table as
    the writer (the table's policy: only as oneself)."""
    cols = [c for c, _t in columns(db, "kehu_audit")]
    full = [groups[n] for n, r in roles.roles.items() if not _restricted(schema, r)]
    hidden = []
    for name, role in roles.roles.items():
        keys = [f.key for f in schema.fields if not _sees(role, f)]
        if keys:
            hidden.append(f"WHEN pg_has_role(session_user, {lit(groups[name])}, 'MEMBER') "
                          f"THEN ARRAY[{', '.join(lit(k) for k in keys)}]::text[]")
    hidden_sql = f"CASE {' '.join(hidden)} ELSE ARRAY[]::text[] END" if hidden else "ARRAY[]::text[]"
    masked = ("(SELECT COALESCE(jsonb_object_agg(e.key, CASE WHEN e.key = ANY(" + hidden_sql + ") "
              f"THEN '[\"{MASK}\", \"{MASK}\"]'::jsonb ELSE e.value END), '{{}}'::jsonb)::text "
              "FROM jsonb_each(CASE WHEN a.changes ~ '^\\s*\\{' THEN a.changes::jsonb "
              "ELSE '{}'::jsonb END) e)")
    select = []
    for col in cols:
        if col == "changes":
            select.append(f"CASE WHEN {_member_of(full)} OR a.table_name <> 'customer' "
                          f"THEN a.changes ELSE {masked} END AS changes")
        else:
            select.append(f"a.{q(col)}")
    all_rows = [groups[n] for n, r in roles.roles.items() if r.rows == "all"]
    has_owner = any(c == roles.owner_field for c, _t in columns(db, "customer"))
    own = (f"EXISTS (SELECT 1 FROM public.customer c WHERE c.id = a.customer_id AND "
           f"{_own_expr(roles, roles.owner_field).replace(q(roles.owner_field), 'c.' + q(roles.owner_field))})"
           if has_owner else "false")
    db.execute_sql(f"CREATE VIEW {VIEW_SCHEMA}.kehu_audit WITH (security_barrier) AS "
                   f"SELECT {', '.join(select)} FROM public.kehu_audit a "
                   f"WHERE {_member_of(all_rows)} OR a.login = session_user OR {own}")
    names = [c for c in cols if c != "id"]
    db.execute_sql(f"""
CREATE FUNCTION {VIEW_SCHEMA}.kehu_audit_append() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
 INSERT INTO public.kehu_audit ({', '.join(q(c) for c in names)})
   VALUES ({', '.join('NEW.' + q(c) for c in names)}) RETURNING id INTO NEW.id;
 RETURN NEW;
END $fn$""")
    db.execute_sql(f"CREATE TRIGGER kehu_audit_append INSTEAD OF INSERT ON {VIEW_SCHEMA}.kehu_audit "
                   f"FOR EACH ROW EXECUTE FUNCTION {VIEW_SCHEMA}.kehu_audit_append()")
    every = ", ".join(q(g) for g in groups.values())
    db.execute_sql(f"GRANT SELECT, INSERT ON {VIEW_SCHEMA}.kehu_audit TO {every}")


# --- logins ------------------------------------------------------------------

def _kehu_groups(db, prefix: str, role_names) -> list[str]:
    return [group(prefix, n) for n in role_names
            if _one(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", (group(prefix, n),))]


def _role_exists(db, login: str) -> bool:
    return bool(_one(db, "SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)))


def _run(db, sql: str, params: tuple = (), *, login: str = "") -> None:
    """Role DDL; the server's refusal (no CREATEROLE) becomes one sentence."""
    try:
        with db.atomic():
            db.execute_sql(sql, params)
    except peewee.ProgrammingError as exc:
        raise TeamError(tr("team.server_refused", login=session_user(db),
                           error=str(exc).strip().splitlines()[0])) from None


def add_login(store, login: str, role: str, password: str | None = None) -> bool:
    """Create the LOGIN role ``login`` (or give an existing role LOGIN) and make it a
    member of ``role``'s group only. Returns True when the login role was created."""
    db = store.db
    conf = settings(db)
    prefix, names = conf["prefix"], list((conf["roles"].get("roles") or {}))
    if role not in names:
        raise TeamError(tr("security.unknown_role", role=role, roles=", ".join(names)))
    if login.startswith(prefix) and login[len(prefix):] in names:
        raise TeamError(tr("team.login_is_group", login=login))
    created = not _role_exists(db, login)
    if created:
        if password:
            _run(db, f"CREATE ROLE {q(login)} LOGIN PASSWORD %s", (password,), login=login)
        else:
            _run(db, f"CREATE ROLE {q(login)} LOGIN", login=login)
    else:
        if _one(db, "SELECT rolsuper FROM pg_roles WHERE rolname = %s", (login,)):
            raise TeamError(tr("team.login_is_superuser", login=login))
        _run(db, f"ALTER ROLE {q(login)} LOGIN", login=login)
        if password:
            _run(db, f"ALTER ROLE {q(login)} PASSWORD %s", (password,), login=login)
    set_login_role(store, login, role)
    dbname = _one(db, "SELECT current_database()")
    _run(db, f"ALTER ROLE {q(login)} IN DATABASE {q(dbname)} "
             f"SET search_path = {VIEW_SCHEMA}, public", login=login)
    return created


def set_login_role(store, login: str, role: str) -> None:
    db = store.db
    conf = settings(db)
    prefix, names = conf["prefix"], list((conf["roles"].get("roles") or {}))
    if role not in names:
        raise TeamError(tr("security.unknown_role", role=role, roles=", ".join(names)))
    if not _role_exists(db, login):
        raise TeamError(tr("security.no_such_user", login=login))
    for other in _kehu_groups(db, prefix, names):
        if other != group(prefix, role) and _one(
                db, "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
                    "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
                (other, login)):
            _run(db, f"REVOKE {q(other)} FROM {q(login)}", login=login)
    _run(db, f"GRANT {q(group(prefix, role))} TO {q(login)}", login=login)


def set_login_enabled(store, login: str, enabled: bool) -> None:
    if not _role_exists(store.db, login):
        raise TeamError(tr("security.no_such_user", login=login))
    _run(store.db, f"ALTER ROLE {q(login)} {'LOGIN' if enabled else 'NOLOGIN'}", login=login)


def drop_groups(db, prefix: str, role_names) -> None:
    """Drop the group roles (tests; a database being retired). Needs CREATEROLE."""
    for g in _kehu_groups(db, prefix, role_names):
        db.execute_sql(f"DROP OWNED BY {q(g)}")
        db.execute_sql(f"DROP ROLE {q(g)}")
