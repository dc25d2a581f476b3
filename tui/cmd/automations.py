"""`kehu automations list [--json]`, `kehu automations check [FILE ...]` and
`kehu automations run [--dry-run] [--json] [--rule NAME] [--today DATE]`: the
automation rules (models/automations.py) in effect, checked, and the time rules
run (cron-friendly: running twice changes nothing more)."""
from __future__ import annotations

import json
from pathlib import Path

from kehu.models import automations
from kehu.models.i18n import tr


def register(sub) -> None:
    parser = sub.add_parser("automations", help=tr("cmd_automations.help"),
                            description=tr("cmd_automations.description"))
    inner = parser.add_subparsers(dest="automations_command", metavar="ACTION")
    p = inner.add_parser("list", help=tr("cmd_automations.list_help"))
    p.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    p.set_defaults(func=run_list)
    p = inner.add_parser("check", help=tr("cmd_automations.check_help"))
    p.add_argument("files", nargs="*", metavar="FILE", help=tr("cmd_automations.opt_files"))
    p.set_defaults(func=run_check)
    p = inner.add_parser("run", help=tr("cmd_automations.run_help"))
    p.add_argument("--dry-run", action="store_true", help=tr("cmd_automations.opt_dry_run"))
    p.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    p.add_argument("--rule", metavar="NAME", help=tr("cmd_automations.opt_rule"))
    p.add_argument("--today", metavar="DATE", help=tr("cmd_automations.opt_today"))
    p.set_defaults(func=run_run)
    p = inner.add_parser("log", help=tr("cmd_automations.log_help"))
    p.add_argument("--customer", type=int, metavar="ID", help=tr("cmd_automations.opt_customer"))
    p.add_argument("--limit", type=int, default=50, metavar="N", help=tr("agenda.opt_limit"))
    p.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    p.set_defaults(func=run_log)
    parser.set_defaults(func=lambda args, ctx: parser.print_help(ctx.out) or 0)


def _paths() -> list[Path]:
    return [automations.DEFAULT_PATH, automations.user_path()]


def run_list(args, ctx) -> int:
    schema = ctx.load_schema()
    rules = automations.load_rules(schema)
    if args.json:
        print(json.dumps({"files": [str(p) for p in _paths() if p.exists()],
                          "rules": [r.as_dict(schema) for r in rules]},
                         ensure_ascii=False, indent=1), file=ctx.out)
        return 0
    print(tr("cmd_automations.files", files=", ".join(str(p) for p in _paths() if p.exists())),
          file=ctx.out)
    if not rules:
        print(tr("cmd_automations.no_rules"), file=ctx.out)
    for rule in rules:
        state = tr("cmd_automations.on" if rule.enabled else "cmd_automations.off")
        print(f"[{state}] {rule.name}  ({rule.path}:{rule.line})",
              file=ctx.out)
        print("    " + tr("cmd_automations.when", when=rule.when_text()), file=ctx.out)
        if rule.condition:
            print("    " + tr("cmd_automations.if", condition=rule.condition), file=ctx.out)
        for action in rule.actions:
            print("    → " + action.describe(schema), file=ctx.out)
    return 0


def run_check(args, ctx) -> int:
    schema = ctx.load_schema()
    given = [Path(f) for f in args.files]
    for path in given:
        if not path.exists():
            raise automations.AutomationError(tr("cmd_automations.no_file"), path)
    # a user file is read over the built-in examples, as kehu reads it (it may switch
    # an example on by its name alone)
    paths = [automations.DEFAULT_PATH] + [p for p in given or _paths()[1:]
                                          if p.resolve() != automations.DEFAULT_PATH.resolve()]
    rules = automations.check(schema, paths)
    print(tr("cmd_automations.ok", rules=len(rules), enabled=sum(r.enabled for r in rules),
             files=", ".join(str(p) for p in paths if p.exists())), file=ctx.out)
    return 0


def run_run(args, ctx) -> int:
    from kehu.tui.cmd.report import _today as parse_today   # one --today for every command

    today = parse_today(ctx, args.today)
    store = ctx.open_store()
    result = automations.run(store, today, dry_run=args.dry_run, only=args.rule)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1), file=ctx.out)
        return 2 if result.problems else 0
    for firing in result.firings:
        print(firing.sentence(), file=ctx.out)
    for problem in result.problems:
        print(problem, file=ctx.err)
    print(result.summary(), file=ctx.out)
    return 2 if result.problems else 0   # a rule that could not run at all: cron hears it


def run_log(args, ctx) -> int:
    store = ctx.open_store()
    rows = automations.history(store, args.customer, max(1, args.limit))
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1, default=str), file=ctx.out)
        return 0
    if not rows:
        print(tr("cmd_automations.log_empty"), file=ctx.out)
    for row in rows:
        print(tr("cmd_automations.log_line", at=f"{row['fired_at']:%Y-%m-%d %H:%M}",
                 rule=row["rule"], id=row["customer_id"], login=row["login"],
                 changes="; ".join(row["changes"]) or "-"), file=ctx.out)
    return 0
