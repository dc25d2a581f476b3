"""The README's table of sub-commands names every command kehu has, and no other."""
from __future__ import annotations

import re
from pathlib import Path

from kehu.tui.cmd import COMMANDS

README = Path(__file__).resolve().parents[1] / "README.md"


def test_every_command_is_in_the_readme_table_and_every_one_there_exists():
    text = README.read_text(encoding="utf-8")
    section = text.split("### Headless sub-commands", 1)[1].split("\n### ", 1)[0]
    named = set(re.findall(r"`kehu ([a-z-]+)", section))
    assert set(COMMANDS) - named == set(), "missing from the README's command table"
    assert named - set(COMMANDS) == set(), "in the README but not a command"
