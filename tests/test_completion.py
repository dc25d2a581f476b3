"""`kehu completion bash|zsh|fish`: what the shell offers after each word."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from kehu.tui import cli
from kehu.tui.cmd import COMMANDS

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("completion") / "kehu.bash"
    import io

    out = io.StringIO()
    parser = cli.build_parser(["completion", "bash"])
    args = parser.parse_args(["completion", "bash"])
    args.func(args, type("Ctx", (), {"out": out, "full_parser": staticmethod(cli.build_parser)})())
    path.write_text(out.getvalue(), encoding="utf-8")
    return str(path)


def offered(script: str, *words: str) -> list[str]:
    quoted = " ".join(f"'{w}'" for w in words)
    code = (f"source {script}\nCOMP_WORDS=(kehu {quoted}); COMP_CWORD={len(words)}\n"
            "_kehu; printf '%s\\n' \"${COMPREPLY[@]}\"")
    out = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr == ""
    return [line for line in out.stdout.splitlines() if line]


def test_sub_commands_and_their_actions(bash_script):
    assert sorted(offered(bash_script, "")) == sorted(COMMANDS)
    assert offered(bash_script, "imp") == ["import", "imports"]
    assert offered(bash_script, "user", "") == ["add", "list", "set-role", "disable", "enable",
                                                "whoami"]


def test_options_of_the_command_being_typed(bash_script):
    assert offered(bash_script, "import", "--dr") == ["--dry-run"]
    assert "--set" in offered(bash_script, "update", "--")
    assert "--dry-run" not in offered(bash_script, "query", "--")


def test_choices_after_an_option_and_option_values_skipped(bash_script):
    assert offered(bash_script, "--lang", "") == ["zh", "en"]
    # 'import' is the value of --db here, not the command
    assert offered(bash_script, "--db", "import", "us") == ["user"]
    assert offered(bash_script, "completion", "") == ["bash", "zsh", "fish"]


def test_zsh_and_fish_scripts_name_every_command(capsys):
    for shell in ("zsh", "fish"):
        assert cli.main(["completion", shell]) == 0
        text = capsys.readouterr().out
        for name in COMMANDS:
            assert name in text
