"""Data in and out, headless:

``kehu import FILE``, ``kehu imports [revert ID]``, ``kehu export -o FILE``,
``kehu backup``, ``kehu restore FILE``, ``kehu dedupe``, ``kehu merge``.
The work is done by ``kehu.models`` (importer, exporter, backup, dedupe);
this module parses options and prints.
"""
from __future__ import annotations

import json
import sys

from rich.cells import cell_len

from kehu.models import backup as backups
from kehu.models import dedupe, exporter, import_values, importer
from kehu.models.db import sqlite_path
from kehu.models.i18n import tr
from kehu.models.results import ResultSet
from kehu.models.store import NotFound
from kehu.models.validate import MINUTES, display
from kehu.tui.cmd.progress import progress_bar

SHOW_PROBLEMS = 10



def register(sub) -> None:
    p = sub.add_parser("import", help=tr("io.import_help"), description=tr("io.import_description"))
    p.add_argument("file", metavar="FILE", help=tr("io.opt_file"))
    p.add_argument("--encoding", metavar="NAME", help=tr("io.opt_encoding"))
    p.add_argument("--delimiter", metavar="CHAR", help=tr("io.opt_delimiter"))
    p.add_argument("--sheet", metavar="NAME", help=tr("io.opt_sheet"))
    p.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help=tr("io.opt_map"))
    p.add_argument("--profile", metavar="NAME", help=tr("io.opt_profile"))
    p.add_argument("--save-profile", metavar="NAME", help=tr("io.opt_save_profile"))
    p.add_argument("--update-by", metavar="FIELD", help=tr("io.opt_update_by"))
    p.add_argument("--on-duplicate", choices=["skip", "update", "create"], default="skip",
                   help=tr("import_dupes.opt_on_duplicate"))
    p.add_argument("--dry-run", action="store_true", help=tr("io.opt_dry_run"))
    p.add_argument("--report", metavar="FILE", help=tr("io.opt_report"))
    # values that are not choices, dates like 03/04/2021 (models/import_values.py)
    p.add_argument("--choice", action="append", default=[], metavar="FIELD:VALUE=CHOICE",
                   help=tr("import_values.opt_choice"))
    p.add_argument("--add-choices", nargs="?", const="*", metavar="FIELDS",
                   help=tr("import_values.opt_add_choices"))
    p.add_argument("--date-order", choices=["ymd", "dmy", "mdy"], help=tr("import_values.opt_date_order"))
    p.add_argument("--rejects", dest="report", metavar="FILE", help=tr("import_read.opt_rejects"))
    p.add_argument("--header-row", type=int, metavar="N", help=tr("import_read.opt_header_row"))
    p.add_argument("--skip-unmapped", action="store_true", help=tr("import_read.opt_skip_unmapped"))
    p.add_argument("--all", action="store_true", help=tr("cli16.opt_all"))
    p.add_argument("--into", choices=["customers", "contacts", "timeline"], default="customers",
                   help=tr("import_sheets.opt_into"))
    p.set_defaults(func=run_import)

    p = sub.add_parser("imports", help=tr("io.imports_help"))
    p.add_argument("action", nargs="?", choices=["list", "revert"], default="list")
    p.add_argument("batch", nargs="?", type=int, metavar="ID")
    p.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    p.set_defaults(func=run_imports)

    p = sub.add_parser("export", help=tr("io.export_help"))
    p.add_argument("-o", "--output", required=True, metavar="FILE", help=tr("io.opt_output"))
    p.add_argument("--view", metavar="NAME", help=tr("io.opt_view"))
    p.add_argument("--query", metavar="Q", default="", help=tr("io.opt_query"))
    p.add_argument("--columns", metavar="KEYS", help=tr("io.opt_columns"))
    p.add_argument("--all", action="store_true", help=tr("cli16.opt_all"))
    p.set_defaults(func=run_export)

    p = sub.add_parser("backup", help=tr("io.backup_help"))
    p.add_argument("-o", "--output", metavar="FILE", help=tr("io.opt_backup_output"))
    p.add_argument("--keep", type=int, metavar="N", help=tr("io.opt_keep"))
    p.add_argument("--list", action="store_true", help=tr("io.opt_backup_list"))
    p.set_defaults(func=run_backup)

    p = sub.add_parser("restore", help=tr("io.restore_help"))
    p.add_argument("file", metavar="FILE", help=tr("io.opt_restore_file"))
    p.add_argument("--yes", action="store_true", help=tr("io.opt_yes"))
    p.set_defaults(func=run_restore)

    p = sub.add_parser("dedupe", help=tr("io.dedupe_help"))
    p.add_argument("--rules", metavar="FILE", help=tr("io.opt_rules"))
    p.add_argument("--min-score", type=int, default=0, metavar="N", help=tr("io.opt_min_score"))
    p.add_argument("--limit", type=int, default=50, metavar="N", help=tr("io.opt_limit"))
    p.add_argument("--json", action="store_true", help=tr("cli16.opt_json"))
    p.set_defaults(func=run_dedupe)

    p = sub.add_parser("merge", help=tr("io.merge_help"), description=tr("io.merge_description"))
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help=tr("io.opt_merge_ids"))
    p.add_argument("--take", action="append", default=[], metavar="FIELD", help=tr("io.opt_take"))
    p.add_argument("--list", action="store_true", help=tr("io.opt_merge_list"))
    p.add_argument("--undo", type=int, metavar="MERGE", help=tr("io.opt_undo"))
    p.add_argument("--force", action="store_true", help=tr("io.opt_force"))
    p.set_defaults(func=run_merge)


# --- import ------------------------------------------------------------------------

def _overrides(pairs: list[str]) -> dict[str, str | None]:
    out = {}
    for pair in pairs:
        column, sep, field = pair.partition("=")
        if not sep or not column.strip():
            raise importer.ImportFailed(tr("io.bad_map", value=pair))
        out[column.strip()] = field.strip() or None
    return out


def run_import(args, ctx) -> int:
    store = ctx.open_store()
    if args.all:   # the whole database (models/whole_db.py)
        from kehu.models.whole_db import import_all

        result = import_all(store, args.file)
        print(tr("cli16.imported_all", path=result.path, tables=result.summary()), file=ctx.out)
        if result.left_out:
            print("  " + tr("cli16.left_out", columns=", ".join(result.left_out)), file=ctx.out)
        return 0
    source = importer.open_source(args.file, encoding=args.encoding, delimiter=args.delimiter,
                                  sheet=args.sheet, header_row=args.header_row, schema=store.schema)
    if args.into != "customers":   # contacts or timeline entries (models/import_sheets.py)
        return _import_sheet(args, ctx, store, source)
    profile = importer.load_profile(args.profile) if args.profile else None
    mapping = importer.auto_mapping(store.schema, source, profile=profile,
                                    overrides=_overrides(args.map))
    mapping.keep_extra = not args.skip_unmapped   # else unmapped columns go to Other columns
    out = ctx.out
    detail = (tr("io.csv_detail", encoding=source.encoding, delimiter=repr(source.delimiter))
              if source.kind == "csv" else tr("io.sheet_detail", sheet=source.sheet)
              if source.kind == "xlsx" else tr("cli16.cards"))
    print(tr("io.reading", path=source.path, format=source.format_label, detail=detail,
             rows=source.estimated_rows), file=out)
    if source.header_row > 1:   # a title above the header (models/import_read.py)
        above = "; ".join(source.titles)
        print("  " + (tr("import_read.header_at_above", row=source.header_row, text=above) if above
                      else tr("import_read.header_at", row=source.header_row)), file=out)
    width = max((cell_len(h) for h in mapping.headers), default=0)
    for header, label, note in importer.mapping_summary(mapping, store.schema):
        target = f"→ {label}" if label else "  —"
        print(f"  {header}{' ' * (width - cell_len(header))}  {target}{'  (' + note + ')' if note else ''}", file=out)
    if mapping.name_parts:
        print("  " + tr("io.name_from_parts", columns=" + ".join(
            mapping.headers[i] for i in mapping.name_parts.values())), file=out)
    if args.save_profile:
        path = importer.save_profile(args.save_profile, mapping)
        print(tr("io.profile_saved", name=args.save_profile, path=path), file=out)
    values = import_values.options_from_args(store.schema, choices=args.choice,
                                             add_choices=args.add_choices, date_order=args.date_order,
                                             schema_path=ctx.schema_path)
    bar = progress_bar(ctx, tr("io.importing"))
    try:
        result = importer.run_import(store, source, mapping, update_by=args.update_by,
                                     dry_run=args.dry_run, report_path=args.report, progress=bar,
                                     on_duplicate=args.on_duplicate, values=values)
    finally:
        bar.end()
    key = "io.dry_run_summary" if result.dry_run else "io.import_summary"
    print(tr(key, rows=result.rows, created=result.created, updated=result.updated,
             unchanged=result.unchanged, rejected=result.rejected, empty=result.empty,
             repeated=result.repeated, batch=result.batch_id), file=out)
    if result.duplicates is not None:   # rows that are customers kehu already has
        print(result.duplicates.summary() if result.duplicates.matched else tr("import_dupes.none"),
              file=out)
        for line in result.duplicates.example_lines():
            print("  " + line, file=out)
    for line in import_values.report_lines(result, values, ctx.schema_path):
        print(line, file=out)   # values left out of kept rows, choices added, contacts
    for problem in result.problems[:SHOW_PROBLEMS]:
        print("  " + tr("io.problem", row=problem.row, field=problem.field, value=problem.value,
                        reason=problem.reason), file=out)
    if len(result.problems) > SHOW_PROBLEMS or result.rejected > SHOW_PROBLEMS:
        print("  …", file=out)
    if result.report:
        print(tr("io.report_at", path=result.report), file=out)
    if not result.dry_run:
        print(tr("io.revert_hint", batch=result.batch_id), file=out)
    return 0


def _print_mapping(mapping, schema, out) -> None:
    width = max((cell_len(h) for h in mapping.headers), default=0)
    for header, label, note in importer.mapping_summary(mapping, schema):
        target = f"→ {label}" if label else "  —"
        print(f"  {header}{' ' * (width - cell_len(header))}  {target}{'  (' + note + ')' if note else ''}", file=out)


def _import_sheet(args, ctx, store, source) -> int:
    from kehu.models import import_sheets

    schema = import_sheets.target_schema(args.into)
    mapping = importer.auto_mapping(schema, source, overrides=_overrides(args.map))
    out = ctx.out
    _print_mapping(mapping, schema, out)
    result = import_sheets.run_import(store, source, mapping, args.into, dry_run=args.dry_run,
                                      report_path=args.report)
    print(tr("import_sheets.dry_summary" if args.dry_run else "import_sheets.summary",
             target=tr("import_sheets.target_" + args.into), rows=result.rows, created=result.created,
             rejected=result.rejected, empty=result.empty), file=out)
    for problem in result.problems[:SHOW_PROBLEMS]:
        print("  " + tr("io.problem", row=problem.row, field=problem.field, value=problem.value,
                        reason=problem.reason), file=out)
    if result.report:
        print(tr("io.report_at", path=result.report), file=out)
    return 0


def run_imports(args, ctx) -> int:
    store = ctx.open_store()
    if args.action == "revert":
        if args.batch is None:
            raise importer.ImportFailed(tr("io.revert_needs_id"))
        result = importer.revert_import(store, args.batch)
        print(tr("io.reverted", batch=result.batch_id, deleted=result.deleted, hidden=result.hidden,
                 restored=result.restored, skipped=len(result.skipped)), file=ctx.out)
        if result.skipped:
            print("  " + tr("io.revert_skipped", ids=", ".join(f"#{i}" for i in result.skipped[:20])),
                  file=ctx.out)
        return 0
    batches = importer.list_imports(store)
    if args.json:
        ctx.print_json([{"id": b.id, "at": b.created_at.isoformat(timespec="seconds"),
                         "user": b.user or "", "source": b.source, "created": b.created,
                         "updated": b.updated, "rejected": b.rejected,
                         "reverted_at": b.reverted_at.isoformat(timespec="seconds")
                         if b.reverted_at else None} for b in batches])
        return 0
    if not batches:
        print(tr("io.no_imports"), file=ctx.out)
    for b in batches:
        state = (tr("io.batch_reverted", when=b.reverted_at.strftime(MINUTES))
                 if b.reverted_at else "")
        print(tr("io.batch_line", id=b.id, when=b.created_at.strftime(MINUTES),
                 user=b.user or "", source=b.source, created=b.created, updated=b.updated,
                 rejected=b.rejected) + (f"  [{state}]" if state else ""), file=ctx.out)
    return 0


# --- export ------------------------------------------------------------------------

def run_export(args, ctx) -> int:
    store = ctx.open_store()
    if args.all:   # the whole database (models/whole_db.py)
        from kehu.models.whole_db import export_all

        result = export_all(store, args.output)
        print(tr("cli16.exported_all", path=result.path, tables=result.summary()), file=ctx.out)
        return 0
    bar = progress_bar(ctx, tr("io.exporting"))
    try:
        if args.output.lower().endswith((".vcf", ".vcard")):   # vCard 3.0, one per customer
            from kehu.models.vcard import export_vcards

            done = export_vcards(store, args.output, rows=ResultSet(store, args.query))
            print(tr("cli16.exported_vcards", rows=done.rows, path=done.path), file=ctx.out)
            return 0
        if args.view:
            result = exporter.export_view(store, args.output, args.view, search=args.query,
                                          progress=bar)
        else:
            columns = ([c.strip() for c in args.columns.split(",") if c.strip()]
                       if args.columns else None)
            if columns:
                unknown = [c for c in columns if c not in store.schema]
                resolved = [store.schema.resolve(c) for c in unknown]
                if any(r is None for r in resolved):
                    bad = unknown[[r is None for r in resolved].index(True)]
                    raise exporter.ExportFailed(tr("import.unknown_field", field=bad))
                columns = [c if c in store.schema else store.schema.resolve(c).key for c in columns]
            result = exporter.export(store, args.output, rows=ResultSet(store, args.query),
                                     columns=columns, progress=bar)
    finally:
        bar.end()
    print(tr("io.exported", rows=result.rows, columns=len(result.columns), path=result.path),
          file=ctx.out)
    return 0


# --- backup and restore ------------------------------------------------------------------

def run_backup(args, ctx) -> int:
    if ctx.db_url.startswith("postgres"):
        print(backups.pg_dump_hint(ctx.db_url), file=ctx.out)
        return 1
    if args.list:   # this database's backups only
        found = backups.list_backups(ctx.db_url)
        if not found:
            print(tr("io.no_backups", folder=backups.database_backup_dir(ctx.db_url)
                     or backups.backup_dir()), file=ctx.out)
        for path in found:
            print(f"{path}  {path.stat().st_size / 1e6:,.1f} MB", file=ctx.out)
        others = backups.unmatched_old_backups(ctx.db_url)
        if others:
            print(tr("backup.unmatched_old", count=len(others), folder=backups.backup_dir()),
                  file=ctx.out)
        return 0
    keep = args.keep if args.keep is not None else ctx.config.backup_keep
    result = backups.backup(ctx.db_url, args.output, keep=keep, store=ctx.open_store())
    if result.cleaned:
        print(tr("backup.cleaned", count=len(result.cleaned)), file=ctx.out)
    print(tr("io.backed_up", path=result.path), file=ctx.out)
    if result.removed:
        print(tr("io.rotated", count=len(result.removed), keep=keep), file=ctx.out)
    return 0


def run_restore(args, ctx) -> int:
    current = sqlite_path(ctx.db_url)
    if current is not None and current.exists():   # refused before anything is asked
        ctx.open_store().guard.require("restore")
    counts = backups.check_backup(args.file)
    print(tr("io.restore_check", path=args.file, customers=counts.get("customer", 0),
             contacts=counts.get("contact", 0), entries=counts.get("interaction", 0)), file=ctx.out)
    if not args.yes:
        if not sys.stdin.isatty():
            raise backups.BackupError(tr("io.restore_needs_yes"))
        answer = input(tr("io.restore_confirm", url=ctx.db_url) + " ")
        if answer.strip().lower() not in ("y", "yes", "是", "好"):
            print(tr("io.cancelled"), file=ctx.out)
            return 1
    ctx.close()
    result = backups.restore(ctx.db_url, args.file, user=ctx.args.user or ctx.config.user,
                             counts=counts, schema=ctx.load_schema())
    print(tr("io.restored", path=args.file), file=ctx.out)
    if result.aside:
        print(tr("io.kept_aside", path=result.aside), file=ctx.out)
    return 0


# --- duplicates ----------------------------------------------------------------------------

def _short(store, cid: int) -> str:
    try:
        row = store.get_customer(cid)
    except NotFound:
        return f"#{cid}"
    company = f" · {row.company}" if getattr(row, "company", None) else ""
    return f"#{cid} {row.name}{company}"


def run_dedupe(args, ctx) -> int:
    store = ctx.open_store()
    rules = dedupe.load_rules(store, args.rules)
    bar = progress_bar(ctx, tr("io.scanning"))
    try:
        result = dedupe.find_duplicates(store, rules, progress=bar)
    finally:
        bar.end()
    shown = [c for c in result.candidates if c.score >= args.min_score]
    if args.json:
        ctx.print_json({"scanned": result.scanned, "pairs": len(shown), "shown": [
            {"score": c.score, "a": c.a, "b": c.b, "a_name": _short(store, c.a),
             "b_name": _short(store, c.b), "why": c.why} for c in shown[:args.limit]],
            "not_compared": [{"rule": rule, "key": key, "size": size}
                             for rule, key, size in result.skipped_blocks]})
        return 0
    print(tr("io.dedupe_summary", pairs=len(shown), scanned=result.scanned), file=ctx.out)
    for cand in shown[:args.limit]:
        print(f"{cand.score:3d}  {_short(store, cand.a)}  ⇄  {_short(store, cand.b)}", file=ctx.out)
        print(f"     {cand.why}", file=ctx.out)
    if len(shown) > args.limit:
        print(tr("io.more_pairs", count=len(shown) - args.limit), file=ctx.out)
    for rule, key, size in result.skipped_blocks:
        print(tr("io.block_skipped", rule=rule, key=key, size=size), file=ctx.out)
    if shown:
        print(tr("io.merge_hint", a=shown[0].a, b=shown[0].b), file=ctx.out)
    return 0


def run_merge(args, ctx) -> int:
    store = ctx.open_store()
    if args.list:
        records = dedupe.list_merges(store)
        if not records:
            print(tr("io.no_merges"), file=ctx.out)
        for r in records:
            state = f"  [{tr('io.undone')}]" if r.undone_at else ""
            print(tr("io.merge_line", id=r.id, when=r.created_at.strftime(MINUTES),
                     user=r.user or "", survivor=r.survivor_id, merged=r.merged_id) + state,
                  file=ctx.out)
        return 0
    if args.undo is not None:
        record = dedupe.undo_merge(store, args.undo, force=args.force)
        print(tr("io.merge_undone", id=record.id, survivor=record.survivor_id,
                 merged=record.merged_id), file=ctx.out)
        return 0
    if len(args.ids) != 2:
        raise dedupe.DedupeError(tr("io.merge_needs_two"))
    survivor, other = args.ids
    plan = dedupe.merge_plan(store, survivor, other)
    by_key = {c.spec.key: c for c in plan}
    values = {}
    for name in args.take:
        spec = store.schema.get(name) or store.schema.resolve(name)
        if spec is None or spec.key not in by_key:
            raise dedupe.DedupeError(tr("dedupe.unknown_field_merge", field=name))
        values[spec.key] = by_key[spec.key].other
    record = dedupe.merge(store, survivor, other, values, expected_versions=plan.versions)
    for choice in plan:
        if choice.differs and choice.other not in (None, ""):
            kept = values.get(choice.spec.key, choice.value)
            print(f"  {choice.spec.label()}: {display(choice.spec, kept)}", file=ctx.out)
    print(tr("io.merged", other=other, survivor=survivor,
             contacts=len(json.loads(record.contact_ids)),
             entries=len(json.loads(record.interaction_ids)), id=record.id), file=ctx.out)
    return 0
