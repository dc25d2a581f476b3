"""`kehu schema check [FILE]` and `kehu schema show`."""
from __future__ import annotations

from kehu.models.db import DatabaseError, redact
from kehu.models.i18n import tr
from kehu.models.schema import load_schema
from kehu.models.store import Store, plan_migration


def register(sub) -> None:
    parser = sub.add_parser("schema", help=tr("schema.help"))
    actions = parser.add_subparsers(dest="schema_action", metavar="ACTION", required=True)
    check = actions.add_parser("check", help=tr("schema.check_help"))
    check.add_argument("file", nargs="?", help="schema.yaml")
    check.set_defaults(func=check_schema)
    show = actions.add_parser("show", help=tr("schema.show_help"))
    show.set_defaults(func=show_schema)


def check_schema(args, ctx) -> int:
    path = args.file or ctx.schema_path
    schema = load_schema(path)  # a SchemaError reaches the CLI's one-line handler
    print(tr("schema.ok", path=path or "default", fields=len(schema.fields),
             groups=len(schema.groups)), file=ctx.out)
    try:
        store = Store.open(ctx.db_url, schema, migrate=False)
    except DatabaseError as exc:
        print(tr("schema.db_unreachable", error=exc), file=ctx.out)
        return 0
    try:
        report, refusals = plan_migration(store)
    finally:
        store.close()
    for message in refusals:
        print(message, file=ctx.out)
    if report.added:
        print(tr("schema.will_add", keys=", ".join(report.added)), file=ctx.out)
    if report.retyped:
        print(tr("schema.will_retype", keys=", ".join(report.retyped)), file=ctx.out)
    if report.retired:
        print(tr("schema.retired", keys=", ".join(report.retired)), file=ctx.out)
    if not (refusals or report.changed or report.retired):
        print(tr("schema.up_to_date", url=redact(ctx.db_url)), file=ctx.out)
    return 1 if refusals else 0


def show_schema(args, ctx) -> int:
    schema = ctx.load_schema()
    for group in schema.groups:
        fields = schema.group_fields(group.key)
        if not fields:
            continue
        print(f"[{group.key}] {group.label()}", file=ctx.out)
        for spec in fields:
            flags = [name for name, on in (("required", spec.required), ("index", spec.index),
                                           ("search", spec.searchable), ("table", spec.in_table),
                                           ("sensitive", spec.sensitive),
                                           ("computed", spec.computed),
                                           ("important", spec.important)) if on]
            print(f"  {spec.key:<20} {spec.type:<9} {spec.label():<12} {' '.join(flags)}",
                  file=ctx.out)
    return 0
