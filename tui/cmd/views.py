"""`kehu views`: list the views, rename or delete a saved one (the views screen's F2 and Del).

Views live in the user's own views.yaml (config folder), not in the database: on
a PostgreSQL team nobody's saved views are shared, so each person renames and
deletes only their own, and the built-in rosters stay as they are.
"""
from __future__ import annotations

from kehu.models.i18n import tr
from kehu.models.views import load_views, remove_view, rename_view, user_views_path


def register(sub) -> None:
    parser = sub.add_parser("views", help=tr("page.views_help"))
    parser.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    parser.set_defaults(func=run_list)
    inner = parser.add_subparsers(dest="views_command", metavar="{list,rename,delete}")
    listing = inner.add_parser("list", help=tr("page.views_list_help"))
    listing.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    listing.set_defaults(func=run_list)
    rename = inner.add_parser("rename", help=tr("page.views_rename_help"))
    rename.add_argument("view", metavar="VIEW", help=tr("page.views_opt_view"))
    rename.add_argument("name", metavar="NEW_NAME", help=tr("page.views_opt_name"))
    rename.set_defaults(func=run_rename)
    delete = inner.add_parser("delete", help=tr("page.views_delete_help"))
    delete.add_argument("view", metavar="VIEW", help=tr("page.views_opt_view"))
    delete.set_defaults(func=run_delete)


def run_list(args, ctx) -> int:
    views = load_views(ctx.load_schema())
    for error in views.errors:
        print(f"kehu: {error}", file=ctx.err)
    if getattr(args, "json", False):
        ctx.print_json([{"key": v.key, "name": v.name(), "builtin": v.builtin, "query": v.query}
                        for v in views])
        return 0
    for view in views:
        kind = tr("views.builtin") if view.builtin else tr("views.saved")
        print(f"{view.key}\t{view.name()}\t{kind}\t{view.query}".rstrip(), file=ctx.out)
    return 0


def run_rename(args, ctx) -> int:
    view = rename_view(args.view, args.name, ctx.load_schema())
    print(tr("page.view_renamed", key=view.key, name=view.name(), path=user_views_path()),
          file=ctx.out)
    return 0


def run_delete(args, ctx) -> int:
    view = remove_view(args.view, ctx.load_schema())
    print(tr("page.view_deleted", name=view.name(), path=user_views_path()), file=ctx.out)
    return 0
