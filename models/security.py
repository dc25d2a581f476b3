"""Users, roles and the permission guard every write and read goes through.

Who is the user: ``store.user`` (the OS login by default, ``--user`` or
``config.user`` otherwise) mapped to a row of the ``kehu_user`` table, whose
role comes from ``roles.yaml`` (defaults beside this module; a user file in the
config dir overrides roles by name).

Single-user and team mode:

* A database without kehu users records the first login that opens it as its
  admin. Until an admin adds a user (``kehu user add``), the database is
  single-user: any login acts as admin, as kehu always did on one machine.
* Once a user has been added (team mode), only enabled users get in. A login
  that is not a user gets ``default_role`` (config.yaml, then roles.yaml) if one
  is set, else ``PermissionDenied`` naming the command an admin runs to add it.

``store.guard`` answers and enforces: ``require(perm, row)``, ``row_scope()``
(the condition that limits reads to the user's own customers), ``visible(record)``
(sensitive values masked), ``check_create`` / ``check_update`` (field rights,
ownership). Screens use ``can(...)`` to hide what the role may not do.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import peewee
import yaml

from .errors import KehuError
from .config import config_dir, load_config
from .i18n import label as pick_label
from .i18n import tr
from .validate import MASK, format_phone

ROLES_PATH = Path(__file__).with_name("roles.yaml")
FIELD_PERMS = ("view", "create", "edit", "export", "sensitive")
RECORD_PERMS = ("delete", "import", "audit", "users")
#: Rights for privileged operations (checked in the model layer). A role that
#: does not name one gets the value of the right in ``PRIVILEGED_DEFAULTS`` (a
#: roles file written before they existed keeps working: admins keep them).
PRIVILEGED_PERMS = ("backup", "restore", "schema", "segments", "encrypt", "user_list", "history")
PRIVILEGED_DEFAULTS = {"backup": "users", "restore": "users", "schema": "users",
                       "segments": "users", "encrypt": "users", "user_list": "users",
                       "history": "edit"}
PERMS = FIELD_PERMS + RECORD_PERMS + PRIVILEGED_PERMS


class PermissionDenied(KehuError):
    """The current user's role does not allow this; ``str()`` says what and why."""


class RolesError(KehuError):
    """A roles.yaml that cannot be used (names the file and the role)."""


# --- roles ---------------------------------------------------------------

@dataclass(frozen=True)
class Role:
    name: str
    labels: dict[str, str]
    grants: dict[str, Any]   # perm -> True | False | frozenset of groups/field keys
    rows: str = "all"        # 'all' | 'own'

    def label(self, lang: str | None = None) -> str:
        return pick_label(self.labels, lang) or self.name

    def allows(self, perm: str, spec=None) -> bool:
        """Whether the role has ``perm`` at all (``spec`` None) or for one field."""
        grant = self.grants.get(perm, False)
        if isinstance(grant, frozenset):
            return bool(grant) if spec is None else (spec.key in grant or spec.group in grant)
        return bool(grant)


@dataclass
class Roles:
    roles: dict[str, Role]
    owner_field: str = "owner"
    default_role: str | None = None

    def get(self, name: str) -> Role:
        role = self.roles.get(name)
        if role is None:
            raise PermissionDenied(tr("security.unknown_role", role=name,
                                      roles=", ".join(self.roles)))
        return role


def _grant(value: Any, where: str, perm: str) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return frozenset(value)
    raise RolesError(tr("security.bad_grant", where=where, perm=perm, value=value))


def _default_grant(spec: dict[str, Any], perm: str) -> Any:
    """A right the role does not name: privileged ones follow the right they
    default to (as a yes/no), everything else is refused."""
    base = PRIVILEGED_DEFAULTS.get(perm)
    return bool(spec.get(base, False)) if base else False


def _read_roles_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise RolesError(f"{where}: {tr('security.bad_roles_file', error=getattr(exc, 'problem', exc))}") from None
    if not isinstance(data, dict):
        raise RolesError(f"{path}: {tr('security.bad_roles_file', error='not a mapping')}")
    return data


def roles_document(path: Path | None = None, *, shared: bool = False) -> dict[str, Any]:
    """The roles file as data: the defaults beside this module with ``path`` laid
    over them by role name. Not ``shared`` (SQLite, one user), the user's own
    roles.yaml (config dir) is laid over them too; on a shared database nothing in
    a user's config folder changes anyone's rights."""
    data = _read_roles_file(ROLES_PATH)
    files = [path] if path else []
    user_file = config_dir() / "roles.yaml"
    if not path and not shared and user_file.exists():
        files.append(user_file)
    role_data: dict[str, Any] = dict(data.get("roles") or {})
    for extra in files:
        more = _read_roles_file(extra)
        role_data.update(more.get("roles") or {})
        for key in ("owner_field", "default_role"):
            if key in more:
                data[key] = more[key]
    data["roles"] = role_data
    return data


def load_roles(path: Path | None = None, *, shared: bool = False) -> Roles:
    """The default roles, with a user roles.yaml (config dir) laid over them by name
    (not on a ``shared`` database: see ``roles_document``)."""
    data = roles_document(path, shared=shared)
    default_role = data.get("default_role")
    if not shared:
        default_role = load_config().extra.get("default_role", default_role)
    return roles_from_document(data, default_role=default_role)


def roles_from_document(data: dict[str, Any], *, default_role: Any = "<document>") -> Roles:
    """``Roles`` from a roles document (a roles file's data, or the one a team
    database keeps in its ``kehu_team`` table); ``RolesError`` names what is wrong."""
    if not isinstance(data, dict):
        raise RolesError(tr("security.bad_roles_file", error="not a mapping"))
    role_data: dict[str, Any] = dict(data.get("roles") or {})
    if default_role == "<document>":
        default_role = data.get("default_role")
    roles = {}
    for name, spec in role_data.items():
        where = f"roles.yaml: {name}"
        if not isinstance(spec, dict):
            raise RolesError(tr("security.bad_role", where=where))
        unknown = set(spec) - set(PERMS) - {"label", "rows"}
        if unknown:
            raise RolesError(tr("security.unknown_perm", where=where, perms=", ".join(sorted(unknown)),
                                known=", ".join(PERMS)))
        rows = spec.get("rows", "all")
        if rows not in ("all", "own"):
            raise RolesError(tr("security.bad_rows", where=where, value=rows))
        labels = spec.get("label") or {}
        roles[name] = Role(name, labels if isinstance(labels, dict) else {"en": str(labels)},
                           {p: _grant(spec.get(p, _default_grant(spec, p)), where, p)
                            for p in PERMS}, rows)
    if default_role is not None and default_role not in roles:
        raise RolesError(tr("security.unknown_role", role=default_role, roles=", ".join(roles)))
    return Roles(roles, data.get("owner_field") or "owner", default_role)


# --- masking -------------------------------------------------------------

def mask(spec, value: Any) -> Any:
    """A sensitive value as a role that may not see it gets it: 13812345678 →
    138****5678, zhang@example.com → z****@example.com, 张三丰 → 张****."""
    if value is None or value == "":
        return value
    text = str(value)
    kind = getattr(spec, "type", "text")
    if kind == "phone":
        shown = format_phone(text)
        digits = [c for c in (shown[1:].split(" ", 1)[-1] if shown.startswith("+") else shown)
                  if c.isdigit()]
        if len(digits) >= 7:
            return "".join(digits[:3]) + MASK + "".join(digits[-4:])
        return MASK
    if kind == "email" and "@" in text:
        local, domain = text.split("@", 1)
        return local[:1] + MASK + "@" + domain
    if kind in ("text", "longtext", "url", "tags", "choice") and len(text) > 1:
        return text[:1] + MASK
    return MASK


def _same(submitted: Any, shown: Any) -> bool:
    """A form value that is what the user was shown (None and '' alike)."""
    if submitted in (None, "") or shown in (None, ""):
        return submitted in (None, "") and shown in (None, "")
    return str(submitted) == str(shown)


# --- users ---------------------------------------------------------------

def build_user_model(db: peewee.Database) -> type[peewee.Model]:
    return type("KehuUser", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "kehu_user"}),
        "login": peewee.TextField(unique=True),
        "display_name": peewee.TextField(null=True),
        "role": peewee.TextField(),
        "disabled": peewee.BooleanField(default=False),
        "created_at": peewee.DateTimeField(default=dt.datetime.now),
        "created_by": peewee.TextField(null=True),
    })


def create_tables(store) -> None:
    store.db.create_tables([store.guard.User], safe=True)


@dataclass(frozen=True)
class Identity:
    login: str
    display_name: str | None
    role: Role
    team: bool  # False: single-user database, everyone acts as admin

    @property
    def names(self) -> set[str]:
        return {n for n in (self.login, self.display_name) if n}


class Guard:
    """The current user's rights on one store; every check raises ``PermissionDenied``."""

    TEAM_KEY = "security.team"

    def __init__(self, store):
        self.store = store
        self.User = build_user_model(store.db)
        self._roles: Roles | None = None
        self._me: Identity | None = None
        self._pg_team: bool | None = None

    # -- who -------------------------------------------------------------
    @property
    def roles(self) -> Roles:
        """The role definitions: a team database's own (``kehu_team``, written by its
        owner); another shared (PostgreSQL) database's built-in ones; on SQLite the
        built-in ones with the user's roles.yaml laid over them (single user)."""
        if self._roles is None:
            if self.pg_team:
                from . import team

                self._roles = roles_from_document(team.settings(self.store.db)["roles"])
            else:
                self._roles = load_roles(shared=self.store.is_postgres)
        return self._roles

    @property
    def pg_team(self) -> bool:
        """A PostgreSQL database that ``kehu team init`` made a team database: the
        server enforces the roles, identity and role come from PostgreSQL."""
        if self._pg_team is None:
            from . import team

            self._pg_team = self.store.is_postgres and team.is_team(self.store.db)
        return self._pg_team

    def reset(self) -> None:
        """Forget the cached identity (after a user or role change)."""
        self._me = None

    @property
    def team(self) -> bool:
        return self.pg_team or bool(self.store.get_meta(self.TEAM_KEY, False))

    @property
    def me(self) -> Identity:
        if self._me is None:
            self._me = self._identify()
        return self._me

    def _identify(self) -> Identity:
        store, U, login = self.store, self.User, self.store.user
        roles = self.roles
        if self.pg_team:
            return self._identify_team()
        if not store.db.table_exists("kehu_user"):   # an unmigrated database: nothing to guard
            return Identity(login, None, roles.get("admin"), False)
        user = U.get_or_none(U.login == login)
        if user is None and not U.select().exists():
            # the first login of a fresh database becomes its admin
            U.insert(login=login, role="admin", created_by=login).on_conflict_ignore().execute()
            store.audit.record("create", "kehu_user", None, after={"login": login, "role": "admin"})
            user = U.get_or_none(U.login == login)
        team = self.team
        if user is not None and user.disabled and team:
            raise PermissionDenied(tr("security.user_disabled", login=login))
        if user is not None and team:
            return Identity(login, user.display_name, roles.get(user.role), True)
        if not team:
            return Identity(login, user.display_name if user else None, roles.get("admin"), False)
        if roles.default_role:
            return Identity(login, None, roles.get(roles.default_role), True)
        raise PermissionDenied(tr("security.unknown_user", login=login))

    def _identify_team(self) -> Identity:
        """On a team database: the session user (``Store.open`` made sure), with the
        role whose group role PostgreSQL says they are a member of; the owner of the
        schema is its admin."""
        from . import team

        store, U, login, roles = self.store, self.User, self.store.user, self.roles
        if team.may_migrate(store.db):
            name = "admin" if "admin" in roles.roles else next(
                (n for n, r in roles.roles.items() if r.allows("users")), None)
        else:
            name = team.member_role(store.db, team.settings(store.db)["prefix"], list(roles.roles))
        if name is None:
            raise PermissionDenied(tr("team.not_a_member", login=login))
        user = U.get_or_none(U.login == login)
        return Identity(login, user.display_name if user else None, roles.get(name), True)

    @property
    def role(self) -> Role:
        return self.me.role

    # -- questions the UI asks -------------------------------------------
    def can(self, perm: str, spec=None, row=None) -> bool:
        try:
            role = self.role
        except PermissionDenied:
            return False
        if not role.allows(perm, spec):
            return False
        return row is None or self.owns(row)

    def owns(self, row) -> bool:
        """A customer (row or dict) is within the user's row scope."""
        if self.role.rows == "all":
            return True
        field = self.roles.owner_field
        owner = row.get(field) if isinstance(row, dict) else getattr(row, field, None)
        return owner in self.me.names

    def row_scope(self) -> peewee.Expression | None:
        """The condition limiting customer reads to the user's own rows (None: all)."""
        me = self.me
        if me.role.rows == "all":
            return None
        column = getattr(self.store.Customer, self.roles.owner_field, None)
        if column is None:
            return peewee.SQL("1 = 0")
        return column.in_(sorted(me.names))

    def may_see(self, spec) -> bool:
        return not spec.sensitive or self.role.allows("sensitive", spec)

    def mask(self, spec, value: Any) -> Any:
        """``value`` as this user may see it (masked if the field is sensitive to them)."""
        if not self.role.allows("view", spec):
            return None if value in (None, "") else MASK
        return value if self.may_see(spec) else mask(spec, value)

    def visible(self, record: dict[str, Any]) -> dict[str, Any]:
        """A customer record with every value the user may not see masked."""
        role = self.role
        if role.grants.get("view") is True and role.grants.get("sensitive") is True:
            return record
        out = dict(record)
        for spec in self.store.schema.fields:
            if spec.key in out:
                out[spec.key] = self.mask(spec, out[spec.key])
        return out

    # -- enforcement -----------------------------------------------------
    def require(self, perm: str, row=None, spec=None) -> None:
        role = self.role
        if not role.allows(perm, spec):
            key = "security.denied_field" if spec is not None else "security.denied"
            raise PermissionDenied(tr(key, login=self.me.login, role=role.label(),
                                      action=tr(f"security.perm.{perm}"),
                                      field=spec.label() if spec is not None else ""))
        if row is not None and not self.owns(row):
            raise PermissionDenied(tr("security.not_owner", login=self.me.login,
                                      id=getattr(row, "id", None) or row.get("id")))

    def _check_fields(self, perm: str, data: dict[str, Any], current=None) -> dict[str, Any]:
        """The changes a user may make. A field they may not write (or see) that
        comes back as they were shown it (masked, or empty) is dropped, so saving
        a whole form works; any other change to it is refused, naming the field."""
        out = {}
        for key, value in data.items():
            spec = self.store.schema.get(key)
            if spec is None or (self.role.allows(perm, spec) and self.may_see(spec)):
                out[key] = value        # (validation names an unknown field)
                continue
            shown = self.mask(spec, getattr(current, key)) if current is not None else None
            if _same(value, shown):
                continue
            self.require(perm, spec=spec)
            self.require("sensitive", spec=spec)
        return out

    def check_create(self, data: dict[str, Any]) -> dict[str, Any]:
        self.require("create")
        data = self._check_fields("create", data)
        if self.role.rows == "own":
            field = self.roles.owner_field
            if field in self.store.schema and not data.get(field):
                data[field] = self.me.login
            self.require("create", row=data)
        return data

    def check_update(self, current, changes: dict[str, Any]) -> dict[str, Any]:
        self.require("edit", row=current)
        changes = self._check_fields("edit", changes, current)
        field = self.roles.owner_field
        if self.role.rows == "own" and field in changes:
            self.require("edit", row={field: changes[field], "id": current.id})
        return changes


# --- user management (admins) ---------------------------------------------

def list_users(store) -> list:
    store.guard.me   # a fresh database records its first login before listing
    store.guard.require("user_list")
    U = store.guard.User
    if store.guard.pg_team:
        return _team_users(store)
    return list(U.select().order_by(U.login))


def _team_users(store) -> list:
    """A team database's users as PostgreSQL knows them: the members of the kehu
    group roles (role, LOGIN or not), with their kehu display names."""
    from types import SimpleNamespace

    from . import team

    db, U = store.db, store.guard.User
    prefix = team.settings(db)["prefix"]
    names = {u.login: u.display_name for u in U.select()}
    out = {}
    for role in store.guard.roles.roles:
        rows = db.execute_sql(
            "SELECT u.rolname, u.rolcanlogin FROM pg_auth_members m "
            "JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member "
            "WHERE g.rolname = %s", (team.group(prefix, role),)).fetchall()
        for login, can_login in rows:
            out.setdefault(login, SimpleNamespace(login=login, display_name=names.get(login),
                                                  role=role, disabled=not can_login))
    return [out[k] for k in sorted(out)]


def _team_user(store, login: str, *, role: str | None = None, new: bool = False,
               display_name: str | None = None, password: str | None = None,
               disabled: bool | None = None):
    """Add or change a user of a team database: their PostgreSQL login role and group
    membership (``models.team``), and their kehu_user row (display name). Owner only."""
    from . import team

    db, U = store.db, store.guard.User
    if not team.may_migrate(db):
        raise team.TeamError(tr("team.owner_only", login=team.session_user(db),
                                owner=team.table_owner(db) or "?", command="kehu user"))
    row = U.get_or_none(U.login == login)
    before = _as_dict(row) if row is not None else None
    if new:
        team.add_login(store, login, role, password)
    elif role is not None:
        team.set_login_role(store, login, role)
    if disabled is not None:
        team.set_login_enabled(store, login, not disabled)
    values = {k: v for k, v in (("role", role), ("display_name", display_name),
                                ("disabled", disabled)) if v is not None}
    with db.atomic():
        if row is None:
            current = [u for u in _team_users(store) if u.login == login]
            values.setdefault("role", current[0].role if current else role or "")
            row = U.create(login=login, created_by=store.user, **values)
        elif values:
            U.update(**values).where(U.id == row.id).execute()
        row = _user(store, login)
        store.audit.record("create" if before is None else "update", "kehu_user", row.id,
                           before=before, after=_as_dict(row))
    store.guard.reset()
    return row


def _user(store, login: str):
    U = store.guard.User
    user = U.get_or_none(U.login == login)
    if user is None:
        raise RolesError(tr("security.no_such_user", login=login))
    return user


def _as_dict(user) -> dict[str, Any]:
    return {"login": user.login, "display_name": user.display_name, "role": user.role,
            "disabled": user.disabled}


def add_user(store, login: str, role: str, display_name: str | None = None,
             password: str | None = None):
    """Add a user. On a team database (PostgreSQL) this creates or grants their
    LOGIN role (``password`` optional: peer/.pgpass users need none); on SQLite
    the role is a convenience of the file's owner, not a security boundary."""
    guard = store.guard
    guard.require("users")
    login = (login or "").strip()
    if not login:
        raise RolesError(tr("security.login_required"))
    guard.roles.get(role)
    if guard.pg_team:
        return _team_user(store, login, role=role, new=True, display_name=display_name,
                          password=password, disabled=False)
    U = guard.User
    if U.get_or_none(U.login == login) is not None:
        raise RolesError(tr("security.user_exists", login=login))
    with store.db.atomic():
        user = U.create(login=login, role=role, display_name=display_name or None,
                        created_by=store.user)
        store.audit.record("create", "kehu_user", user.id, after=_as_dict(user))
        store.set_meta(Guard.TEAM_KEY, True)
        if not U.select().where(U.login == guard.me.login).exists():
            # the admin adding the first team member joins the team as themselves
            U.create(login=guard.me.login, role="admin", created_by=store.user)
    guard.reset()
    return user


def _change_user(store, login: str, **changes):
    store.guard.require("users")
    if store.guard.pg_team:
        return _team_user(store, login, **changes)
    user = _user(store, login)
    before = _as_dict(user)
    U = store.guard.User
    with store.db.atomic():
        U.update(**changes).where(U.id == user.id).execute()
        store.set_meta(Guard.TEAM_KEY, True)
        user = _user(store, login)
        store.audit.record("update", "kehu_user", user.id, before=before, after=_as_dict(user))
    store.guard.reset()
    return user


def _admins_left(store, excluding: str) -> int:
    U = store.guard.User
    return U.select().where(U.role == "admin", U.disabled == False,  # noqa: E712
                            U.login != excluding).count()


def set_role(store, login: str, role: str):
    store.guard.roles.get(role)
    if store.guard.pg_team:   # the schema's owner is its admin whatever happens
        return _change_user(store, login, role=role)
    if role != "admin" and _user(store, login).role == "admin" and not _admins_left(store, login):
        raise RolesError(tr("security.last_admin", login=login))
    return _change_user(store, login, role=role)


def set_disabled(store, login: str, disabled: bool = True):
    if store.guard.pg_team:
        return _change_user(store, login, disabled=disabled)
    if disabled and _user(store, login).role == "admin" and not _admins_left(store, login):
        raise RolesError(tr("security.last_admin", login=login))
    return _change_user(store, login, disabled=disabled)
