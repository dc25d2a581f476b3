"""The ``kehu`` command: the TUI by default, headless sub-commands beside it.

Sub-commands live in ``kehu.tui.cmd``: every module there defines
``register(subparsers)``, which adds its parser and sets ``func`` to a handler
``handler(args, ctx) -> int``. A user error (bad schema, bad URL, bad value)
prints one line and exits 2 — never a traceback.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from kehu import __version__
from kehu.models import i18n
from kehu.models.config import Config, ConfigError, default_db_url, load_config, user_schema_path
from kehu.models.errors import KehuError, log_bug
from kehu.models.i18n import tr
from kehu.tui.cmd import COMMANDS

if TYPE_CHECKING:  # the store, the schema and the UI are imported when a command needs them
    from kehu.models.schema import Schema
    from kehu.models.store import Store

i18n.register_folder(Path(__file__).parent)

#: the top-level options that take a value (so ``--db import.db`` is not the command)
_VALUE_OPTIONS = ("--db", "--schema", "--lang", "--user", "--keymap", "--theme")


@dataclass
class Context:
    """What a sub-command needs: the parsed options, config and an open store."""
    args: argparse.Namespace
    config: Config
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    _store: Store | None = None

    @property
    def db_url(self) -> str:
        return self.args.db or os.environ.get("KEHU_DB") or self.config.db or default_db_url()

    @property
    def schema_path(self) -> Path | None:
        if self.args.schema:
            return Path(self.args.schema)
        path = user_schema_path()
        return path if path.exists() else None

    def load_schema(self) -> Schema:
        from kehu.models.schema import load_schema

        return load_schema(self.schema_path)

    def open_store(self, *, migrate: bool = True) -> Store:
        if self._store is None:
            from kehu.models.store import Store

            # on PostgreSQL the user is who connects: --user must say the same, and
            # config.yaml's user ($USER, $LOGNAME) has no say (models.team.login_for)
            postgres = self.db_url.startswith("postgres")
            user = self.args.user if postgres else (self.args.user or self.config.user)
            self._store = Store.open(self.db_url, self.load_schema(), user=user,
                                     migrate=migrate, strict_user=True)
            self._store.guard.me  # an unknown or disabled login stops here, with one line
        return self._store

    def full_parser(self) -> argparse.ArgumentParser:
        """The parser with every sub-command's options (for ``kehu completion``)."""
        return build_parser()

    def print_json(self, data) -> None:
        """``--json`` output: UTF-8 as is, dates and decimals as text, one document."""
        import json

        print(json.dumps(data, ensure_ascii=False, indent=1, default=str), file=self.out)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _add_shared_options(parser: argparse.ArgumentParser, default=None) -> None:
    """The options every command takes, before or after the sub-command's name."""
    parser.add_argument("--db", metavar="URL", default=default, help=tr("cli.opt_db"))
    parser.add_argument("--schema", metavar="FILE", default=default, help=tr("cli.opt_schema"))
    parser.add_argument("--lang", choices=["zh", "en"], default=default, help=tr("cli.opt_lang"))
    parser.add_argument("--user", metavar="NAME", default=default, help=tr("cli.opt_user"))


class _SubParser(argparse.ArgumentParser):
    """A sub-command's parser: it takes the shared options too (``kehu import F --db URL``).

    Their default is SUPPRESS, so an option given before the sub-command is not
    reset by the sub-command's parser; nested sub-commands inherit the class.
    """

    def __init__(self, *args, **kwargs) -> None:
        # a sub-command that gives one of these flags its own meaning (bench --db,
        # audit --user) keeps it: its own definition replaces the shared one
        kwargs.setdefault("conflict_handler", "resolve")
        super().__init__(*args, **kwargs)
        _add_shared_options(self, default=argparse.SUPPRESS)


def command_in(argv: list[str]) -> str | None:
    """The sub-command named in ``argv``, if any (the first word that is not an option)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--":
            return None
        elif arg in _VALUE_OPTIONS:
            skip = True
        elif not arg.startswith("-"):
            return arg if arg in COMMANDS else None
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The ``kehu`` parser.

    With ``argv``, only the module of the command it names is imported; the other
    commands get a parser that only knows its help line (enough for ``--help``
    and for "invalid choice"). Without ``argv``, every command's module is loaded.
    """

    parser = argparse.ArgumentParser(
        prog="kehu", description=tr("cli.description"),
        epilog=tr("cli.epilog"), formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"kehu {__version__}")
    _add_shared_options(parser)
    parser.add_argument("--keymap", metavar="NAME", help=tr("cli.opt_keymap"))
    parser.add_argument("--theme", metavar="NAME", help=tr("cli.opt_theme"))
    parser.add_argument("--demo", action="store_true", help=tr("cli.opt_demo"))
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_SubParser)
    if argv is None:
        wanted = {module for module, _ in COMMANDS.values()}
    else:
        command = command_in(argv)
        wanted = {COMMANDS[command][0]} if command else set()
    registered: set[str] = set()
    for name, (module_name, help_key) in COMMANDS.items():
        if module_name in wanted:
            if module_name not in registered:
                registered.add(module_name)
                importlib.import_module(f"kehu.tui.cmd.{module_name}").register(sub)
        else:
            sub.add_parser(name, help=tr(help_key))
    return parser


def _early_lang(argv: list[str]) -> None:
    """Pick the language before building --help texts: --lang, then config, then locale."""
    lang = None
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif arg.startswith("--lang="):
            lang = arg.split("=", 1)[1]
    if lang is None:
        try:
            lang = load_config().lang
        except ConfigError:
            lang = None
    i18n.set_lang(lang)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.umask(0o077)  # every file kehu writes (database, backups, exports) is the owner's only
    _early_lang(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except ConfigError as exc:
        print(f"kehu: {exc}", file=sys.stderr)
        return 2
    if args.lang:
        i18n.set_lang(args.lang)
    from kehu.models.validate import set_phone_region

    set_phone_region(config.phone_region)
    ctx = Context(args, config)
    try:
        if getattr(args, "func", None):
            code = int(args.func(args, ctx) or 0)
            sys.stdout.flush()
            return code
        return run_tui(ctx)
    except KehuError as exc:   # the one place a user error becomes its sentence and exit 2
        print(f"kehu: {exc}", file=ctx.err)
        return 2
    except BrokenPipeError:
        return _reader_went_away()
    except KeyboardInterrupt:
        print(tr("cli.interrupted"), file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - anything else is a bug: logged, one sentence
        print(bug_sentence(exc), file=sys.stderr)
        return 1
    finally:
        ctx.close()


def bug_sentence(exc: BaseException) -> str:
    """Log ``exc`` with its traceback and say where, in one sentence."""
    path = log_bug(exc)
    if path is None:
        return tr("cli.bug_unlogged", error=f"{type(exc).__name__}: {exc}")
    return tr("cli.bug_logged", error=type(exc).__name__, path=path)


def _reader_went_away() -> int:
    """``kehu … | head``: the reader closed the pipe; stop quietly as cat does.

    Python would complain again when it flushes stdout at exit, so stdout is
    pointed at /dev/null first.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 141


def run_tui(ctx: Context) -> int:
    store = ctx.open_store()
    if ctx.args.demo and store.count_customers() == 0:
        from kehu.models.demo import generate

        print(tr("demo.filling", count=2000), file=ctx.err)
        generate(store, customers=2000)
        from kehu.tui.cmd.demo import _score_segments   # as `kehu demo`: segments, stages
        _score_segments(store)                           # and churn rhythm of one definition
    from kehu.tui import terminal_input
    from kehu.tui.app import KehuApp

    terminal_input.install()   # Esc then a key in one burst stays Esc, then the key
    app = KehuApp(store, ctx.config, keymap=ctx.args.keymap, theme=ctx.args.theme)
    app.run()
    return app.return_code or 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
