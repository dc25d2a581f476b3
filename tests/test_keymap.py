"""Keymaps as a user meets them: remapped keys, vim keys, help, bad files."""
from __future__ import annotations

from kehu.models.config import config_dir
from kehu.tui.keymap import check_keymap, declared_bindings, load_keymap
from kehu.tui.screens.help import HelpScreen
from tests.ui_app import make_app, notes, settle


def write_user_keymap(text: str) -> None:
    (config_dir() / "keymap.yaml").write_text(text, encoding="utf-8")


def help_rows(app) -> list[tuple[str, str]]:
    assert isinstance(app.screen, HelpScreen)
    return [row for _group, rows in app.screen.groups() for row in rows]


def test_every_binding_id_is_in_the_default_keymap_and_no_other():
    keymap = load_keymap("default", user_file=False)
    assert keymap.problems == []
    # after adding a binding: python -m kehu.tui.keymap > keymaps/default.yaml
    assert set(keymap.keys) == set(declared_bindings())
    assert check_keymap(keymap) == []


def test_the_builtin_keymaps_load_cleanly():
    for name in ("vim", "emacs"):
        keymap = load_keymap(name, user_file=False)
        assert keymap.name == name
        assert keymap.problems == [] and check_keymap(keymap) == []


async def test_a_remapped_key_works_and_the_old_one_no_longer_does(tmp_path):
    write_user_keymap("app.help: f2\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert ("f2", "Help") in help_rows(app)
        assert not any(keys.startswith("f1") for keys, text in help_rows(app) if text == "Help")


async def test_help_shows_the_keys_of_the_screen_and_closes(tmp_path):
    app = make_app(tmp_path, customers=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("f1")
        await pilot.pause()
        rows = help_rows(app)
        assert ("/", "Search") in rows and ("^q", "Quit") in rows
        assert ("↓", "Down") in rows  # the table's own keys, named
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)


async def test_vim_keys_move_the_cursor(tmp_path):
    app = make_app(tmp_path, customers=30, keymap="vim")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("CustomerTable")
        assert app.focused is table and table.cursor_row == 0
        await pilot.press("j", "j", "j")
        assert table.cursor_row == 3
        await pilot.press("k")
        assert table.cursor_row == 2
        await pilot.press("G")
        await settle(app, pilot)
        assert table.cursor_row == 29
        await pilot.press("g", "g")
        await settle(app, pilot)
        assert table.cursor_row == 0
        await pilot.press("f1")
        await pilot.pause()
        assert ("↓ / j", "Down") in help_rows(app)
        assert ("home / g g", "First row") in help_rows(app)


async def test_vim_search_key_still_types_into_the_search_box(tmp_path):
    app = make_app(tmp_path, customers=5, keymap="vim")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "g", "g", "j")
        await pilot.pause()
        assert app.focused.value == "ggj"


async def test_emacs_keys(tmp_path):
    app = make_app(tmp_path, customers=10, keymap="emacs")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("CustomerTable")
        await pilot.press("ctrl+n", "ctrl+n", "ctrl+p")
        assert table.cursor_row == 1
        await pilot.press("alt+x")
        await pilot.pause()
        assert app.screen.id == "--command-palette"


async def test_emacs_meta_less_and_greater_go_to_the_first_and_last_row(tmp_path):
    """M-> / M-<: the terminal sends ESC > and ESC <, which reach kehu as '>' and '<'
    (Textual keeps Alt for letters only): they did nothing."""
    app = make_app(tmp_path, customers=120, keymap="emacs")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.screen.query_one("CustomerTable")
        for keys in (["greater_than_sign"], ["alt+greater_than_sign"]):
            await pilot.press("less_than_sign")
            assert table.cursor_row == 0
            await pilot.press(*keys)
            await settle(app, pilot)
            assert table.cursor_row == 119
        await pilot.press("alt+less_than_sign")
        assert table.cursor_row == 0
        # typed in the search box they are characters
        await pilot.press("slash", "less_than_sign")
        assert app.screen.query_one("#search").value == "<"


async def test_a_broken_keymap_file_falls_back_with_a_message(tmp_path):
    write_user_keymap("app.help: [f2\n  nonsense: : :\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert any("keymap.yaml" in n and "not valid YAML" in n for n in notes(app))
        await pilot.press("f1")  # the default keys still work
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


async def test_an_unknown_keymap_name_falls_back_to_the_default(tmp_path):
    app = make_app(tmp_path, keymap="vimm")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert app.keymap_name == "default"
        assert any("No keymap named 'vimm'" in n for n in notes(app))


async def test_unknown_ids_bad_keys_and_clashes_are_named(tmp_path):
    write_user_keymap("customers.serch: f3\napp.help: ctrl+bogus\n"
                      "customers.sort: v\n")
    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        text = "\n".join(notes(app))
        assert "customers.serch" in text
        assert "app.help" in text and "ctrl+bogus" in text
        assert "customers.sort" in text and "customers.views" in text and "clash" in text
        await pilot.press("f1")  # the bad entry was left out: F1 still opens help
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)


def test_a_keymap_entry_may_unbind_a_key():
    from kehu.models.config import config_dir as cd

    (cd() / "keymap.yaml").write_text("customers.columns: none\n", encoding="utf-8")
    keymap = load_keymap()
    assert keymap.keys["customers.columns"] == []
    assert keymap.textual_keymap()["customers.columns"] == "kehu_unbound"
