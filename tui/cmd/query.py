"""`kehu query 'Q' [--json|--csv] [--sort KEYS] [--limit N] [--view KEY]`:
the search-box language, headless.

The query is taken as typed, even when it starts with ``-`` (``kehu query
'-email:@'`` finds the customers without an email, as the search box does):
a word starting with a single ``-`` that is none of the command's options is a
query word, never an unknown option. Several words are one query
(``kehu query grade:A -stage:lost``); ``--`` still ends the options.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
from decimal import Decimal

from kehu.models.i18n import tr
from kehu.models.query import QueryError
from kehu.models.results import ResultSet
from kehu.models.validate import display
from kehu.models.views import load_views

EXIT_BAD_QUERY = 2


def register(sub) -> None:
    parser = sub.add_parser("query", help=tr("cmd_query.help"), description=tr("cmd_query.description"))
    # the parser class is the CLI's shared one; this one also takes '-word' queries
    parser.__class__ = _query_parser_class(type(parser))
    parser.add_argument("query", nargs="*", default=[], help=tr("cmd_query.opt_query"))
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help=tr("cmd_query.opt_json"))
    fmt.add_argument("--csv", action="store_true", help=tr("cmd_query.opt_csv"))
    fmt.add_argument("--count", action="store_true", help=tr("cmd_query.opt_count"))
    parser.add_argument("--sort", metavar="KEYS", help=tr("cmd_query.opt_sort"))
    parser.add_argument("--limit", type=int, default=None, metavar="N", help=tr("cmd_query.opt_limit"))
    parser.add_argument("--view", metavar="KEY", help=tr("cmd_query.opt_view"))
    parser.set_defaults(func=run)


def _json_value(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _query_parser_class(base: type) -> type:
    """``base`` whose parsing moves query words starting with ``-`` behind ``--``."""
    if getattr(base, "_takes_dash_queries", False):
        return base

    class QueryParser(base):
        _takes_dash_queries = True

        def parse_known_args(self, args=None, namespace=None):
            import sys

            args = list(sys.argv[1:] if args is None else args)
            return super().parse_known_args(dash_words_last(self, args), namespace)

    return QueryParser


def _takes_value(parser: argparse.ArgumentParser, word: str) -> bool | None:
    """Whether ``word`` is an option of ``parser`` that takes a value (None: no option)."""
    name = word.split("=", 1)[0]
    for action in parser._actions:  # argparse lists no public way to look an option up
        if name in action.option_strings:
            return "=" not in word and action.nargs != 0
    return None


def dash_words_last(parser: argparse.ArgumentParser, args: list[str]) -> list[str]:
    """``args`` with every query word after a final ``--``, so argparse takes a
    word starting with ``-`` (``-email:@``) for what it is: part of the query.

    An option's value stays beside its option (``--sort -name``); a ``--word``
    that is no option is left where it is, for argparse to name as unknown.
    """
    if "--" in args:
        return args
    options: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        takes = _takes_value(parser, word) if word.startswith("-") and word != "-" else None
        if takes and i + 1 < len(args):  # --sort -name: one word, or argparse refuses it
            options.append(f"{word}={args[i + 1]}")
            i += 1
        elif takes is not None or word.startswith("--"):
            options.append(word)
        else:
            words.append(word)
        i += 1
    return options + (["--", *words] if words else [])


def run(args, ctx) -> int:
    if isinstance(args.query, list):
        args.query = " ".join(args.query)
    store = ctx.open_store()
    err = getattr(ctx, "err", None)
    try:
        if args.view:
            view = load_views(store.schema).find(args.view)
            if view is None:
                print(tr("views.not_found", name=args.view), file=err)
                return EXIT_BAD_QUERY
            rs = ResultSet(store, args.query, sort=args.sort or view.sort or None,
                           base_filter=view.query or None)
            keys = view.column_keys(store.schema)
        else:
            rs = ResultSet(store, args.query, sort=args.sort)
            keys = [f.key for f in store.schema.table_fields]
    except QueryError as exc:
        print(tr("cmd_query.bad_query", query=args.query, error=exc), file=err)
        if args.query:
            print("  " + args.query, file=err)
            print("  " + " " * _cells(args.query[:exc.position]) + "^" * max(1, exc.length), file=err)
        return EXIT_BAD_QUERY
    out = ctx.out
    if args.count:
        print(rs.count(), file=out)
        return 0
    limit = args.limit if args.limit is not None else (None if (args.json or args.csv) else 50)
    rows = rs.page(0, limit) if limit is not None else rs.page(0, rs.count())
    if args.json:
        keys = ["id", *store.schema.keys]
        json.dump([{k: _json_value(r.get(k)) for k in keys} for r in rows], out,
                  ensure_ascii=False, indent=1)
        print(file=out)
    elif args.csv:
        keys = ["id", *store.schema.keys]
        writer = csv.writer(out)
        writer.writerow(keys)
        for r in rows:
            writer.writerow(["" if r.get(k) is None else _json_value(r.get(k)) for k in keys])
    else:
        specs = [store.schema[k] for k in keys]
        table = [[s.label() for s in specs]] + [[display(s, r.get(s.key)) for s in specs] for r in rows]
        widths = [min(30, max(_cells(row[i]) for row in table)) for i in range(len(specs))]
        for row in table:
            print("  ".join(_pad(cell, w) for cell, w in zip(row, widths)).rstrip(), file=out)
        total = rs.count()
        print(tr("cmd_query.shown", shown=len(rows), total=total), file=out)
    return 0


def _cells(text: str) -> int:
    from unicodedata import east_asian_width

    return sum(2 if east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    while _cells(text) > width:
        text = text[:-1]
    return text + " " * (width - _cells(text))
