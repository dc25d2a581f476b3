"""`kehu user add|list|set-role|disable|enable|whoami`, `kehu audit`, `kehu encrypt|decrypt`.

Registering this module also teaches the model layer to ask for the key of an
encrypted database on the terminal (when ``KEHU_DB_KEY`` is not set), for every
sub-command and the TUI alike.
"""
from __future__ import annotations

import datetime as dt
import getpass
import os
import re
import sys

from pathlib import Path

from kehu.models import crypto, security, team
from kehu.models.store import migrate_schema
from kehu.models import audit
from kehu.models.audit import ACTIONS
from kehu.models.db import set_password_prompt, sqlite_path
from kehu.models.errors import KehuError
from kehu.models.i18n import tr



def _ask_key(path) -> str:
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass(tr("crypto.key_prompt", path=path))


def _ask_pg_password(url: str) -> str:
    if not sys.stdin.isatty():
        return ""
    return getpass.getpass(tr("cmd_team.pg_password_prompt", url=url))


def register(sub) -> None:
    crypto.set_key_prompt(_ask_key)
    set_password_prompt(_ask_pg_password)   # a PostgreSQL login without ~/.pgpass or PGPASSWORD

    user = sub.add_parser("user", help=tr("cmd_user.help"))
    actions = user.add_subparsers(dest="user_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help=tr("cmd_user.add_help"))
    add.add_argument("login")
    add.add_argument("--role", default="viewer", help=tr("cmd_user.opt_role"))
    add.add_argument("--name", help=tr("cmd_user.opt_name"))
    pw = add.add_mutually_exclusive_group()
    pw.add_argument("--password", action="store_true", dest="ask_password",
                    help=tr("cmd_team.opt_password"))
    pw.add_argument("--password-stdin", action="store_true", help=tr("cmd_team.opt_password_stdin"))
    add.set_defaults(func=user_add)
    listing = actions.add_parser("list", help=tr("cmd_user.list_help"))
    listing.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    listing.set_defaults(func=user_list)
    set_role = actions.add_parser("set-role", help=tr("cmd_user.set_role_help"))
    set_role.add_argument("login")
    set_role.add_argument("role")
    set_role.set_defaults(func=user_set_role)
    for name, disabled in (("disable", True), ("enable", False)):
        p = actions.add_parser(name, help=tr(f"cmd_user.{name}_help"))
        p.add_argument("login")
        p.set_defaults(func=user_disable, disabled=disabled)
    whoami = actions.add_parser("whoami", help=tr("cmd_user.whoami_help"))
    whoami.set_defaults(func=user_whoami)

    audit = sub.add_parser("audit", help=tr("cmd_audit.help"))
    audit.add_argument("verify", nargs="?", choices=["verify"], metavar="verify",
                       help=tr("cmd_audit2.verify_help"))
    audit.add_argument("--head", metavar="HASH", help=tr("cmd_audit2.opt_head"))
    audit.add_argument("--customer", type=int, metavar="ID", help=tr("cmd_audit.opt_customer"))
    audit.add_argument("--user", dest="audit_user", metavar="LOGIN", help=tr("cmd_audit.opt_user"))
    audit.add_argument("--since", metavar="DATE", help=tr("cmd_audit.opt_since"))
    audit.add_argument("--action", choices=list(ACTIONS))
    audit.add_argument("--limit", type=int, default=200, metavar="N", help=tr("cmd_audit.opt_limit"))
    audit.add_argument("--revert", type=int, metavar="ENTRY", help=tr("cmd_audit.opt_revert"))
    audit.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    audit.set_defaults(func=audit_show)

    _register_team(sub)

    for name in ("encrypt", "decrypt"):
        p = sub.add_parser(name, help=tr(f"cmd_crypto.{name}_help"))
        p.set_defaults(func=convert, convert=name)



# --- users -------------------------------------------------------------------

def user_add(args, ctx) -> int:
    store = ctx.open_store()
    password = _password(args, args.login)
    if not store.is_postgres:
        print(tr("cmd_team.sqlite_roles_note"), file=ctx.err)
    user = security.add_user(store, args.login, args.role, args.name, password=password)
    role = store.guard.roles.get(user.role).label()
    if store.guard.pg_team:
        print(tr("cmd_team.user_added", login=user.login, role=role,
                 group=team.group(team.settings(store.db)["prefix"], user.role),
                 db=_db_name(store)), file=ctx.out)
        return 0
    print(tr("cmd_user.added", login=user.login, role=role), file=ctx.out)
    return 0


def user_list(args, ctx) -> int:
    store = ctx.open_store()
    roles = store.guard.roles
    users = security.list_users(store)
    me = store.user
    if args.json:
        ctx.print_json([{"login": u.login, "role": u.role, "name": u.display_name or "",
                         "disabled": bool(u.disabled), "you": u.login == me,
                         "team": bool(store.guard.team)} for u in users])
        return 0
    width = max([len(u.login) for u in users] + [5])
    print(f"{tr('cmd_user.col_login'):<{width}}  {tr('cmd_user.col_role'):<14} "
          f"{tr('cmd_user.col_name')}", file=ctx.out)
    for u in users:
        role = roles.roles.get(u.role)
        flags = []
        if u.disabled:
            flags.append(tr("cmd_user.disabled"))
        if u.login == me:
            flags.append(tr("cmd_user.you"))
        print(f"{u.login:<{width}}  {(role.label() if role else u.role):<14} "
              f"{u.display_name or ''} {' '.join(flags)}".rstrip(), file=ctx.out)
    if not store.guard.team:
        print(tr("cmd_user.single_user"), file=ctx.out)
    return 0


def user_set_role(args, ctx) -> int:
    store = ctx.open_store()
    user = security.set_role(store, args.login, args.role)
    print(tr("cmd_user.role_set", login=user.login, role=store.guard.roles.get(user.role).label()),
          file=ctx.out)
    return 0


def user_disable(args, ctx) -> int:
    store = ctx.open_store()
    user = security.set_disabled(store, args.login, args.disabled)
    print(tr("cmd_user.disabled_now" if args.disabled else "cmd_user.enabled_now",
             login=user.login), file=ctx.out)
    return 0


def user_whoami(args, ctx) -> int:
    store = ctx.open_store()
    me = store.guard.me
    role = me.role
    rights = [p for p in security.PERMS if role.allows(p)]
    print(tr("cmd_user.whoami", login=me.login, role=role.label(),
             rows=tr(f"cmd_user.rows_{role.rows}"), rights=", ".join(rights)), file=ctx.out)
    return 0


# --- audit -------------------------------------------------------------------

_RELATIVE = re.compile(r"^(\d+)\s*([dhw])$")


def parse_since(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    text = text.strip()
    m = _RELATIVE.match(text)
    if m:
        n, unit = int(m.group(1)), m.group(2)
        delta = {"d": dt.timedelta(days=n), "h": dt.timedelta(hours=n),
                 "w": dt.timedelta(weeks=n)}[unit]
        return dt.datetime.now() - delta
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise KehuError(tr("cmd_audit.bad_since", value=text)) from None


def _value(value) -> str:
    return "∅" if value in (None, "") else str(value)


def audit_verify(args, ctx) -> int:
    """`kehu audit verify [--head HASH]`: walk the hash chain; 0 intact, 1 tampered."""
    store = ctx.open_store()
    report = store.audit.verify(noted_head=args.head)
    if getattr(args, "json", False):
        ctx.print_json({"ok": report.ok, "entries": report.entries, "head": report.head,
                        "problem": report.problem, "entry": report.entry,
                        "migrated_upto": report.migrated_upto, "sentence": report.sentence()})
        return 0 if report.ok else 1
    print(report.sentence(), file=ctx.out if report.ok else ctx.err)
    meta = store.get_meta("audit_chain") or {}
    if report.migrated_upto is not None:
        print(tr("audit_chain.migrated", id=report.migrated_upto, since=meta.get("since", "?")),
              file=ctx.out)
    return 0 if report.ok else 1


def audit_show(args, ctx) -> int:
    if args.verify:
        return audit_verify(args, ctx)
    store = ctx.open_store()
    if args.revert is not None:
        new_id = store.audit.revert(args.revert)
        print(tr("cmd_audit.reverted", id=args.revert, new=new_id), file=ctx.out)
        return 0
    since = parse_since(args.since)
    if args.customer is not None and not store.guard.can("audit"):
        changes = [c for c in store.audit.history(args.customer)
                   if (not args.audit_user or c.user == args.audit_user)
                   and (since is None or c.at >= since)
                   and (not args.action or c.action == args.action)][:args.limit]
    else:
        changes = store.audit.entries(customer=args.customer, user=args.audit_user,
                                      since=since, action=args.action, limit=args.limit)
    names = _customer_names(store, {c.customer_id for c in changes if c.customer_id})
    if args.json:
        ctx.print_json([{"id": c.id, "at": c.at.isoformat(timespec="seconds"), "user": c.user,
                         "action": c.action, "table": c.table, "record_id": c.record_id,
                         "customer_id": c.customer_id,
                         "customer": names.get(c.record_id if c.table == "customer"
                                               else c.customer_id),
                         "fields": c.fields, "batch": c.batch, "note": c.note,
                         "reverts": c.reverts} for c in changes])
        return 0
    for c in changes:
        what = f"{c.table} {c.record_id}" if c.record_id is not None else c.table
        if c.table == "customer" and c.record_id in names:
            what += f" ({names[c.record_id]})"
        elif c.customer_id in names:
            what += f" → customer {c.customer_id} ({names[c.customer_id]})"
        extra = tr("audit.reverts", id=c.reverts) if c.reverts else ""
        print(f"#{c.id:<6} {c.at:%Y-%m-%d %H:%M:%S}  {c.user:<10} "
              f"{tr('audit.action.' + c.action):<8} {what} {extra}".rstrip(), file=ctx.out)
        if c.note:
            print("        " + c.note, file=ctx.out)
        if c.action == "import":
            rows = c.fields.get("rows", [None, "?"])[1]
            print("        " + tr("audit.import_rows", rows=rows, batch=_value(c.batch)), file=ctx.out)
            continue
        for key, (old, new) in c.fields.items():
            spec = store.schema.get(key)
            label = spec.label() if spec else key
            print(f"        {label}: {_value(old)} → {_value(new)}", file=ctx.out)
    if not changes:
        print(tr("cmd_audit.none"), file=ctx.out)
    return 0


def _customer_names(store, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    C = store.Customer
    return {r.id: r.name for r in store.customers(include_deleted=True)
            .select(C.id, C.name).where(C.id.in_(sorted(ids)))}


# --- encryption --------------------------------------------------------------

def convert(args, ctx) -> int:
    path = sqlite_path(ctx.db_url)
    if path is None:
        raise crypto.CryptoError(tr("crypto.not_sqlite", url=ctx.db_url))
    if not path.exists():
        raise crypto.CryptoError(tr("crypto.missing", path=path))
    if args.convert == "encrypt":
        if crypto.is_encrypted(path):
            raise crypto.CryptoError(tr("crypto.already_encrypted", path=path))
        key = _new_key(path)
        audit.convert_database(ctx.db_url, "encrypt", key, user=_cli_user(ctx))
        print(tr("crypto.encrypted", path=path), file=ctx.out)
    else:
        if not crypto.is_encrypted(path):
            raise crypto.CryptoError(tr("crypto.not_encrypted", path=path))
        audit.convert_database(ctx.db_url, "decrypt", crypto.key_for(path), user=_cli_user(ctx))
        print(tr("crypto.decrypted", path=path), file=ctx.out)
    return 0


def _cli_user(ctx) -> str | None:
    return getattr(ctx.args, "user", None) or ctx.config.user


def _new_key(path) -> str:
    key = os.environ.get(crypto.KEY_ENV)
    if key:
        return key
    if not sys.stdin.isatty():
        raise crypto.CryptoError(tr("crypto.no_key", path=path))
    key = getpass.getpass(tr("crypto.new_key_prompt", path=path))
    if getpass.getpass(tr("crypto.repeat_key_prompt")) != key:
        raise crypto.CryptoError(tr("crypto.keys_differ"))
    if not key:
        raise crypto.CryptoError(tr("crypto.empty_key"))
    return key


# --- team mode (PostgreSQL) ----------------------------------------------------

def _register_team(sub) -> None:
    team_p = sub.add_parser("team", help=tr("cmd_team.help"))
    team_actions = team_p.add_subparsers(dest="team_action", metavar="ACTION", required=True)
    init = team_actions.add_parser("init", help=tr("cmd_team.init_help"))
    init.add_argument("--prefix", default=team.DEFAULT_PREFIX, help=tr("cmd_team.opt_prefix"))
    init.add_argument("--roles", metavar="FILE", help=tr("cmd_team.opt_roles"))
    init.set_defaults(func=team_init)

    migrate = sub.add_parser("migrate", help=tr("cmd_team.migrate_help"))
    migrate.set_defaults(func=run_migrate)

    roles = sub.add_parser("roles", help=tr("cmd_team.roles_help"))
    roles_actions = roles.add_subparsers(dest="roles_action", metavar="ACTION", required=True)
    load = roles_actions.add_parser("load", help=tr("cmd_team.roles_load_help"))
    load.add_argument("file")
    load.set_defaults(func=roles_load)
    show = roles_actions.add_parser("show", help=tr("cmd_team.roles_show_help"))
    show.set_defaults(func=roles_show)

    role = sub.add_parser("role", help=tr("cmd_team.role_help"))
    role_actions = role.add_subparsers(dest="role_action", metavar="ACTION", required=True)
    rshow = role_actions.add_parser("show", help=tr("cmd_team.roles_show_help"))
    rshow.add_argument("name", nargs="?")
    rshow.set_defaults(func=roles_show)
    rset = role_actions.add_parser("set", help=tr("cmd_team.role_set_help"))
    rset.add_argument("name")
    rset.add_argument("right")
    rset.add_argument("value", help=tr("cmd_team.opt_value"))
    rset.set_defaults(func=role_set)


def _password(args, login: str) -> str | None:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n") or None
    if getattr(args, "ask_password", False):
        if not sys.stdin.isatty():
            raise KehuError(tr("cmd_team.no_terminal"))
        first = getpass.getpass(tr("cmd_team.password_prompt", login=login))
        if getpass.getpass(tr("cmd_team.password_again")) != first:
            raise KehuError(tr("cmd_team.passwords_differ"))
        return first or None
    return None


def _pg_store(ctx):
    store = ctx.open_store()
    if not store.is_postgres:
        raise team.TeamError(tr("team.sqlite_single_user"))
    return store


def team_init(args, ctx) -> int:
    store = _pg_store(ctx)
    document = security.roles_document(Path(args.roles) if args.roles else None, shared=True)
    security.roles_from_document(document)      # refuse a bad file before touching anything
    made = team.init(store, document, args.prefix)
    store.guard.reset()
    print(tr("cmd_team.initialised", roles=", ".join(
        team.group(args.prefix, n) for n in document["roles"]), made=len(made)), file=ctx.out)
    print(tr("cmd_team.next_steps", db=_db_name(store)), file=ctx.out)
    return 0


def _db_name(store) -> str:
    return store.db.execute_sql("SELECT current_database()").fetchone()[0]


def run_migrate(args, ctx) -> int:
    store = ctx.open_store(migrate=False)
    if store.is_postgres and not team.may_migrate(store.db):
        raise team.TeamError(tr("team.owner_only", login=team.session_user(store.db),
                                owner=team.table_owner(store.db) or "?", command="kehu migrate"))
    report = migrate_schema(store)
    print(tr("cmd_team.migrated", added=", ".join(report.added) or "-",
             retyped=", ".join(report.retyped) or "-"), file=ctx.out)
    return 0


def _team_store(ctx):
    store = _pg_store(ctx)
    if not store.guard.pg_team:
        raise team.TeamError(tr("cmd_team.not_team"))
    return store


def roles_load(args, ctx) -> int:
    store = _team_store(ctx)
    document = security.roles_document(Path(args.file), shared=True)
    security.roles_from_document(document)
    with store.db.atomic():
        team.load_roles_document(store, document)
        store.audit.record("update", "kehu_team", None, note=tr("cmd_team.audit_roles", file=args.file))
    print(tr("cmd_team.roles_loaded", roles=", ".join(document["roles"])), file=ctx.out)
    return 0


def roles_show(args, ctx) -> int:
    import yaml

    store = ctx.open_store()
    if store.guard.pg_team:
        document = team.settings(store.db)["roles"]
    else:
        document = security.roles_document(shared=store.is_postgres)
    name = getattr(args, "name", None)
    if name:
        if name not in (document.get("roles") or {}):
            store.guard.roles.get(name)          # the sentence naming the roles there are
        document = {"roles": {name: document["roles"][name]}}
    print(yaml.safe_dump(document, allow_unicode=True, sort_keys=False).rstrip(), file=ctx.out)
    return 0


def role_set(args, ctx) -> int:
    import yaml

    store = _team_store(ctx)
    document = team.settings(store.db)["roles"]
    roles = document.setdefault("roles", {})
    if args.name not in roles:
        store.guard.roles.get(args.name)
    roles[args.name] = {**roles[args.name], args.right: yaml.safe_load(args.value)}
    security.roles_from_document(document)       # a bad right or value: one sentence
    with store.db.atomic():
        team.load_roles_document(store, document)
        store.audit.record("update", "kehu_team", None,
                           note=f"role {args.name}: {args.right} = {args.value}")
    print(tr("cmd_team.role_changed", role=args.name, right=args.right, value=args.value),
          file=ctx.out)
    return 0
