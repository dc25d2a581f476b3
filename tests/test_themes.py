"""Themes: built-in, user files, bad files, switching from the palette."""
from __future__ import annotations

import yaml

from kehu.models.config import config_dir, load_config
from kehu.tui import themes
from tests.ui_app import make_app, notes, run_palette, settle


def write_user_theme(name: str, text: str) -> None:
    folder = config_dir() / "themes"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.yaml").write_text(text, encoding="utf-8")


def test_builtin_themes_define_every_crm_colour():
    builtin = themes.builtin_themes()
    assert {"kehu-dark", "kehu-light", "kehu-contrast"} <= set(builtin)
    wanted = set(builtin["kehu-dark"].variables)
    assert {"stance-supporter", "stance-opponent", "timeline-call", "timeline-complaint",
            "grade-a", "overdue"} <= wanted
    for theme in builtin.values():
        assert set(theme.variables) == wanted, theme.name
    assert builtin["kehu-contrast"].background == "#ffffff"


async def test_the_config_theme_is_used_and_crm_colours_reach_the_app(tmp_path):
    app = make_app(tmp_path, theme="kehu-contrast")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == "kehu-contrast"
        assert themes.crm_color(app, "stance", "opponent") == "#c00000"
        assert themes.crm_color(app, "grade", "A") == "#b00000"
        assert notes(app) == []


async def test_a_user_theme_needs_only_the_colours_it_changes(tmp_path):
    write_user_theme("mine", "name: mine\nprimary: '#ff8800'\ndark: true\n"
                     "variables: {stance-supporter: '#00ff00'}\n")
    app = make_app(tmp_path, theme="mine")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == "mine" and notes(app) == []
        assert themes.crm_color(app, "stance", "supporter") == "#00ff00"
        assert themes.crm_color(app, "timeline", "call") == "#4fa3e0"  # from kehu-dark


async def test_a_bad_theme_file_gives_one_message_and_the_default(tmp_path):
    write_user_theme("broken", "name: broken\nprimary: not-a-colour\n")
    app = make_app(tmp_path, theme="broken")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == "kehu-dark"
        about_file = [n for n in notes(app) if "broken.yaml" in n]
        assert len(about_file) == 1
        assert "primary" in about_file[0] and "not-a-colour" in about_file[0]


async def test_theme_file_that_is_not_yaml_is_named(tmp_path):
    write_user_theme("odd", "name: [odd\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == "kehu-dark"
        assert any("odd.yaml" in n and "YAML" in n for n in notes(app))


async def test_an_unknown_theme_name_falls_back(tmp_path):
    app = make_app(tmp_path, theme="solarized-pink")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.theme == "kehu-dark"
        assert any("solarized-pink" in n for n in notes(app))


async def test_theme_switch_from_the_palette_is_remembered(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await run_palette(app, pilot, "kehu-light")
        assert app.theme == "kehu-light"
    assert load_config().theme == "kehu-light"
    saved = yaml.safe_load((config_dir() / "config.yaml").read_text(encoding="utf-8"))
    assert saved["theme"] == "kehu-light"
