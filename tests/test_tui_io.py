"""The import wizard, the export dialog and the duplicates review, driven by keys
(Pilot) and checked against what the database holds."""
from __future__ import annotations

import csv

from textual.widgets import Static

from kehu.tui.app import KehuApp
from kehu.tui.screens.dedupe_screen import DedupeScreen, MergeScreen
from kehu.tui.screens.import_screen import ExportScreen, FieldPicker, ImportScreen
from tests.ui_app import keys_at_once

SIZE = (100, 30)


def text_of(widget) -> str:
    return str(widget.render())


async def open_import(app, pilot, path) -> ImportScreen:
    """The import wizard open on ``path``, its mapping shown."""
    app.push_screen(ImportScreen(str(path)))
    await pilot.pause()
    return app.screen


async def wait_workers(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_import_wizard_maps_confirms_and_imports(store, tmp_path):
    path = tmp_path / "客户.csv"
    with open(path, "w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows([["姓名", "联系方式", "公司"], ["张三", "13800138000", "星辰"],
                                  ["李四", "bad", "华信"]])
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        await pilot.press(*str(path), "enter")
        await pilot.pause()
        screen = app.screen
        assert "encoding gbk" in text_of(screen.query_one("#import-info", Static))
        assert screen.mapping.by_header()["联系方式"] is None
        await pilot.press("down", "enter")  # the column 联系方式 → pick a field
        await pilot.pause()
        assert isinstance(app.screen, FieldPicker)
        picker = app.screen
        index = picker.keys.index("mobile")
        await pilot.press(*["down"] * index, "enter")
        await pilot.pause()
        assert screen.mapping.by_header()["联系方式"] == "mobile"
        await pilot.press("d")
        await wait_workers(app, pilot)
        assert "would create 1" in text_of(screen.query_one("#import-result", Static))
        assert store.count_customers() == 0
        await pilot.press("i")
        await wait_workers(app, pilot)
        result = text_of(screen.query_one("#import-result", Static))
        assert "1 created" in result and "1 rejected" in result and "Mobile 'bad'" in result
    assert [c.mobile for c in store.customers()] == ["+8613800138000"]


async def test_export_with_one_key(store, tmp_path):
    store.create_customer({"name": "甲"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        field = app.screen.query_one("#export-path")
        field.value = str(tmp_path / "out.csv")
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, ExportScreen)
    assert "甲" in (tmp_path / "out.csv").read_text(encoding="utf-8-sig")


async def test_duplicates_review_pick_merge_and_undo(store):
    a = store.create_customer({"name": "张三", "company": "星辰科技", "mobile": "13800138000"}).id
    b = store.create_customer({"name": "Zhang San", "company": "星辰科技有限公司",
                               "phone": "+86 138 0013 8000", "email": "zs@example.com"}).id
    store.add_interaction(b, "call", summary="b's call")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f12")
        await wait_workers(app, pilot)
        screen = app.screen
        assert isinstance(screen, DedupeScreen) and len(screen.candidates) == 1
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, MergeScreen)
        await pilot.press("right")  # the first row is the name: keep "Zhang San"
        await pilot.press("m")
        await pilot.pause()
        assert isinstance(app.screen, DedupeScreen) and not screen.candidates
    survivor = store.get_customer(a)
    assert survivor.name == "Zhang San" and survivor.email == "zs@example.com"
    assert [i.summary for i in store.interactions(a)] == ["b's call"]
    from kehu.models.dedupe import list_merges, undo_merge

    undo_merge(store, list_merges(store)[0].id)
    assert store.get_customer(a).name == "张三" and store.get_customer(b).email == "zs@example.com"


async def test_import_wizard_saves_and_applies_mapping_profiles(store, tmp_path):
    from kehu.models import importer
    from kehu.tui.screens.import_screen import ProfileName, ProfilePicker

    path = tmp_path / "kunden.csv"
    path.write_text("Kunde,Handy,Ort\nMüller,13800138000,Berlin\n", encoding="utf-8")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(app, pilot, path)
        await pilot.press("p")  # nothing saved yet: said so
        await pilot.pause()
        assert not isinstance(app.screen, ProfilePicker)
        for column, field in ((0, "name"), (1, "mobile"), (2, "city")):
            screen.mapping.set(column, field, store.schema)
        await pilot.press("s")
        await pilot.pause()
        assert isinstance(app.screen, ProfileName)
        app.screen.query_one("#profile-name").value = ""
        await pilot.press(*"德国客户", "enter")
        await pilot.pause()
        assert importer.load_profile("德国客户") == {"Kunde": "name", "Handy": "mobile", "Ort": "city"}
        assert "德国客户" in text_of(screen.query_one("#import-info", Static))
    # the next file with these columns opens with the saved mapping, and says so
    again = tmp_path / "kunden2.csv"
    again.write_text("Ort,Kunde,Handy\nHamburg,Schmidt,13900139000\n", encoding="utf-8")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(app, pilot, again)
        assert screen.mapping.by_header() == {"Ort": "city", "Kunde": "name", "Handy": "mobile"}
        assert "saved profile '德国客户'" in text_of(screen.query_one("#import-info", Static))
        await pilot.press("p")  # back to the automatic mapping: Kunde is no field name kehu knows
        await pilot.pause()
        assert isinstance(app.screen, ProfilePicker)
        await pilot.press("enter")
        await pilot.pause()
        assert screen.mapping.by_header()["Kunde"] is None
        assert "saved profile" not in text_of(screen.query_one("#import-info", Static))
        await pilot.press("p", "down", "enter", "i")
        await wait_workers(app, pilot)
    assert [(c.name, c.city) for c in store.customers()] == [("Schmidt", "Hamburg")]


async def test_field_picker_narrows_as_you_type(store, tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("Kunde,Handy,Mail\nMüller,13800138000,m@example.com\n", encoding="utf-8")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_import(app, pilot, path)
        await pilot.press("down", "enter")  # the column Handy
        await pilot.pause()
        assert isinstance(app.screen, FieldPicker)
        await pilot.press("s", "j")  # pinyin initials of 手机
        await pilot.pause()
        assert app.screen.shown[0] == "mobile"
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("down", "enter", *"邮箱", "enter")  # the column Mail, by its zh label
        await pilot.pause()
        await pilot.press("up", "up", "enter", *"zzzz")  # nothing fits: Enter does nothing
        await pilot.pause()
        assert app.screen.shown == []
        await pilot.press("enter", "escape")
        await pilot.pause()
        assert screen.mapping.by_header() == {"Kunde": None, "Handy": "mobile", "Mail": "email"}


async def test_a_path_typed_right_after_ctrl_o_goes_into_the_path_field(store):
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys_at_once(app, "ctrl+o", *"a.csv")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ImportScreen)
        assert app.screen.query_one("#import-path").value == "a.csv"
