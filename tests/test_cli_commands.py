"""The table of sub-commands (kehu.tui.cmd.COMMANDS) is what the modules register,
and only the command being run is imported."""
from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from kehu.models.i18n import tr
from kehu.tui import cli
from kehu.tui.cmd import COMMANDS


def _registered() -> dict[str, tuple[str, str]]:
    """command → (module, help text) as each module's register() adds them."""
    found: dict[str, tuple[str, str]] = {}
    import pkgutil

    from kehu.tui import cmd

    for info in pkgutil.iter_modules(cmd.__path__):
        module = importlib.import_module(f"kehu.tui.cmd.{info.name}")
        if not hasattr(module, "register"):
            continue
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(parser_class=cli._SubParser)
        module.register(sub)
        helps = {a.dest: a.help for a in sub._choices_actions}
        for name in sub.choices:
            found[name] = (info.name, helps.get(name))
    return found


def test_the_table_names_every_command_its_module_and_help():
    registered = _registered()
    assert sorted(registered) == sorted(COMMANDS)
    for name, (module, help_key) in COMMANDS.items():
        assert registered[name] == (module, tr(help_key)), name


def test_help_lists_every_command_without_importing_them(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    out = capsys.readouterr().out
    for name, (_, help_key) in COMMANDS.items():
        assert name in out
        assert tr(help_key).split()[0] in out


def _modules_after(args: list[str]) -> set[str]:
    code = ("import sys\nfrom kehu.tui import cli\n"
            f"try:\n    cli.main({args!r})\nexcept SystemExit:\n    pass\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith('kehu') or m in ('textual', 'peewee'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split()[-1000:])


def test_version_and_help_load_no_store_no_ui_no_command():
    for args in (["--version"], ["--help"]):
        loaded = _modules_after(args)
        assert "kehu.models.store" not in loaded, args
        assert "textual" not in loaded and "peewee" not in loaded, args
        assert not any(m.startswith("kehu.tui.cmd.") for m in loaded), args


def test_a_command_loads_its_own_module_only(tmp_path):
    loaded = _modules_after(["schema", "check", "--help"])
    assert "kehu.tui.cmd.schema" in loaded
    assert "kehu.tui.cmd.io" not in loaded and "kehu.tui.cmd.bench" not in loaded


def test_options_before_the_command_are_not_taken_for_it(tmp_path, capsys):
    db = tmp_path / "import.db"   # a value that looks like a command name must not be one
    assert cli.command_in(["--db", "import", "query", "x"]) == "query"
    assert cli.command_in(["--lang", "zh"]) is None
    assert cli.main(["--db", f"sqlite:///{db}", "query", "nobody"]) == 0


def test_an_unknown_command_is_refused_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["frobnicate"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "frobnicate" in err and "import" in err
