"""The interface in Chinese and English: labels, footer, help, palette, switching."""
from __future__ import annotations

import re
from pathlib import Path

import yaml

import kehu.tui.app  # noqa: F401 — screens imported in English first, like a long test run
from kehu.models.config import load_config
from kehu.tui.screens.help import HelpScreen
from textual.widgets._footer import FooterKey
from tests.ui_app import make_app, run_palette, settle

UI_CATALOGUE = Path(kehu.tui.app.__file__).parent / "messages_ui.yaml"


def footer_texts(app) -> list[str]:
    return [key.description for key in app.screen.query(FooterKey)]


def header_line(app) -> str:
    return app.screen.query_one("CustomerTable").render_line(0).text


def test_every_ui_message_has_both_languages_with_the_same_placeholders():
    catalogue = yaml.safe_load(UI_CATALOGUE.read_text(encoding="utf-8"))
    for key, texts in catalogue.items():
        assert set(texts) == {"en", "zh"}, key
        assert set(re.findall(r"{(\w+)", texts["en"])) == set(re.findall(r"{(\w+)", texts["zh"])), key


async def test_the_chinese_interface_shows_chinese_labels(tmp_path):
    app = make_app(tmp_path, lang="zh", customers=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        spec = app.store.schema.table_fields[0]
        assert spec.label("zh") in header_line(app)
        assert "搜索" in footer_texts(app) and "Search" not in footer_texts(app)
        await pilot.press("f1")
        await pilot.pause()
        rows = [row for _g, rows in app.screen.groups() for row in rows]
        assert ("/", "搜索") in rows and ("^q", "退出") in rows
        assert app.screen.query_one("#help-title").render().plain.startswith("按键")


async def test_the_english_interface_shows_english_labels(tmp_path):
    app = make_app(tmp_path, lang="en", customers=3)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        spec = app.store.schema.table_fields[0]
        assert spec.label("en") in header_line(app)
        assert "Search" in footer_texts(app) and "搜索" not in footer_texts(app)


async def test_switching_language_from_the_palette_is_remembered(tmp_path):
    app = make_app(tmp_path, lang="en")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await run_palette(app, pilot, "中文")
        assert "搜索" in footer_texts(app)
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert ("/", "搜索") in [row for _g, rows in app.screen.groups() for row in rows]
    assert load_config().lang == "zh"
