"""The wheel installs everything under one import name, with its data files."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src")  # build from a copy: parallel runs share no build/
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for folder in ("models", "tui", "keymaps", "themes"):
        shutil.copytree(ROOT / folder, src / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                             "--no-build-isolation", "-q", "-w", str(out)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    (wheel,) = out.glob("kehu-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_only_the_kehu_package_is_installed(wheel_names):
    tops = {name.split("/")[0] for name in wheel_names}
    assert tops == {"kehu", next(t for t in tops if t.endswith(".dist-info"))}


def test_every_module_and_data_file_ships(wheel_names):
    mapping = {"models": "kehu/models", "tui": "kehu/tui", "keymaps": "kehu/keymaps",
               "themes": "kehu/themes"}
    missing = []
    for folder, target in mapping.items():
        for path in (ROOT / folder).rglob("*"):
            if "__pycache__" in path.parts or path.suffix not in (".py", ".yaml", ".tcss"):
                continue
            rel = path.relative_to(ROOT / folder).as_posix()
            if folder == "tui" and rel.startswith("_root/"):
                rel = rel[len("_root/"):]
                target_name = f"kehu/{rel}"
            else:
                target_name = f"{target}/{rel}"
            if target_name not in wheel_names:
                missing.append(target_name)
    assert not missing, f"not in the wheel (add the package to pyproject.toml): {missing}"
    assert "kehu/models/default_schema.yaml" in wheel_names
    assert "kehu/tui/messages.yaml" in wheel_names
