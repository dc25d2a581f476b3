"""Import contracts (import-linter, pyproject.toml): the model layer never imports the
UI; inside tui/ the command line, sub-commands, app, screens and widgets stack in that
order; sub-commands never import Textual."""
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _package_tree(folder: Path) -> Path:
    """``kehu`` as installed (tui/_root, with models/ and tui/ inside), made of symlinks."""
    kehu = folder / "kehu"
    kehu.mkdir()
    (kehu / "__init__.py").symlink_to(ROOT / "tui" / "_root" / "__init__.py")
    (kehu / "models").symlink_to(ROOT / "models", target_is_directory=True)
    (kehu / "tui").symlink_to(ROOT / "tui", target_is_directory=True)
    return folder


def test_import_contracts_hold(tmp_path):
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.fail("import-linter is part of the test extras: pip install -e '.[test]'")
    path = _package_tree(tmp_path)
    result = subprocess.run([exe, str(ROOT / "pyproject.toml"), "--no-cache"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=300, env={"PYTHONPATH": str(path),
                                                                       "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def test_one_import_path_the_folders_are_not_top_level_packages():
    import sys

    for name in ("models", "tui"):
        result = subprocess.run([sys.executable, "-c", f"import {name}"], capture_output=True,
                                text=True, cwd=ROOT, timeout=60)
        assert result.returncode == 1
        assert f"import kehu.{name}, not {name}" in result.stderr
