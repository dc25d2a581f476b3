"""The import wizard (Ctrl+O) driven by keys typed in bursts, as fast users type
(issue 16): sample values beside each column, the field picker's best match,
a field moved from another column visibly, TUI keys instead of CLI flags, path
completion, duplicates on re-import, contacts and timeline sheets, the header
row and values matching no choice."""
from __future__ import annotations

import csv

import pytest
from textual.widgets import Static

from kehu.models import importer
from kehu.tui.app import KehuApp
from kehu.tui.screens.confirm import ConfirmScreen
from kehu.tui.screens.import_screen import (FieldPicker, ImportScreen, complete_path, field_rank,
                                            for_tui, path_matches)
from tests.ui_app import keys_at_once

SIZE = (120, 35)


def write_csv(path, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def text_of(widget) -> str:
    return str(widget.render())


async def settle(app, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def open_wizard(app, pilot, path) -> ImportScreen:
    """Ctrl+O, the path and Enter in one burst."""
    await pilot.pause()
    keys_at_once(app, "ctrl+o", *str(path), "enter")
    await settle(app, pilot)
    assert isinstance(app.screen, ImportScreen)
    return app.screen


def result_text(screen) -> str:
    return text_of(screen.query_one("#import-result", Static))


def table_rows(screen) -> list[list[str]]:
    table = screen.query_one("#import-mapping")
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


SHEET = [["姓名", "手机", "固定电话", "城市"],
         ["张三", "13800138000", "010-88886666", "北京"],
         ["李四", "13900139000", "", "上海"],
         ["王五", "", "021-66668888", "广州"],
         ["赵六", "13700137000", "", "深圳"]]


async def test_sample_values_are_shown_beside_each_column(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        rows = {r[0]: r for r in table_rows(screen)}
        assert rows["手机"][1] == "13800138000 | 13900139000 | 13700137000"
        assert rows["固定电话"][1] == "010-88886666 | 021-66668888"   # empty cells left out
        assert rows["城市"][1] == "北京 | 上海 | 广州"


def test_typed_text_ranks_fields_best_first(store):
    schema = store.schema
    assert field_rank(schema["phone"], "dh") < field_rank(schema["mobile"], "dh")
    assert field_rank(schema["mobile"], "sj") == (0, 0)
    assert field_rank(schema["city"], "dh") is None


async def test_dh_enter_on_固定电话_picks_phone_and_keeps_手机(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        screen.mapping.set(2, None, store.schema)   # 固定电话 starts out not imported
        screen._fill_mapping()
        keys_at_once(app, "down", "down", "enter", "d", "h", "enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, FieldPicker)
        assert screen.mapping.by_header()["固定电话"] == "phone"
        assert screen.mapping.by_header()["手机"] == "mobile"


async def test_a_field_another_column_has_is_swapped_and_said(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        assert screen.mapping.by_header()["手机"] == "mobile"
        assert screen.mapping.by_header()["固定电话"] == "phone"
        keys_at_once(app, "down", "down", "enter", "s", "j", "enter")   # 固定电话 → 手机 (mobile)
        await settle(app, pilot)
        assert screen.mapping.by_header() == {"姓名": "name", "手机": "phone", "固定电话": "mobile",
                                              "城市": "city"}
        assert any("column '手机' took its old field Phone" in str(n.message)
                   for n in app._notifications)
        # a field moved from a column that had none: that column is left out, and said so
        screen.mapping.set(3, None, store.schema)
        screen._fill_mapping()
        keys_at_once(app, "down", "enter", *"city", "enter")
        await settle(app, pilot)
        assert screen.mapping.by_header()["城市"] == "city"


async def test_errors_say_keys_not_cli_flags_and_z_undoes_the_import(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Kunde", "手机"], ["张三", "13800138000"]])
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        keys_at_once(app, "d")
        await settle(app, pilot)
        said = result_text(screen)
        assert "required field Name" in said and "press Enter and choose Name" in said
        assert "--map" not in said
        keys_at_once(app, "enter", *"name", "enter")   # map Kunde → Name
        await settle(app, pilot)
        assert screen.mapping.by_header()["Kunde"] == "name"
        keys_at_once(app, "i")
        await settle(app, pilot)
        said = result_text(screen)
        assert "1 created" in said and "press z" in said and "kehu imports" not in said, said
        assert store.count_customers() == 1
        keys_at_once(app, "z")
        await settle(app, pilot)
        assert isinstance(app.screen, ConfirmScreen)
        keys_at_once(app, "y")
        await settle(app, pilot)
        assert "reverted" in result_text(screen).lower()
    assert store.count_customers() == 0


def test_models_sentences_lose_their_cli_clauses():
    text = importer.tr("import.wrong_encoding", path="a.csv", encoding="gbk", error="bad")
    assert "--encoding" in text and "--" not in for_tui(text)
    assert for_tui("there is no import #3 (`kehu imports` lists them)") == "there is no import #3"


async def test_tab_completes_the_path_and_a_suggestion_follows(store, tmp_path):
    folder = tmp_path / "客户资料"
    folder.mkdir()
    write_csv(folder / "2026年客户.csv", SHEET)
    (folder / "readme.md").write_text("x")
    assert path_matches(str(tmp_path / "客户")) == [str(folder) + "/"]
    assert path_matches(str(folder) + "/") == [str(folder / "2026年客户.csv")]   # no .md
    assert complete_path(str(tmp_path / "客")) == str(folder) + "/"
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys_at_once(app, "ctrl+o", *str(tmp_path / "客"), "tab")
        await settle(app, pilot)
        field = app.screen.query_one("#import-path")
        assert field.value == str(folder) + "/"
        keys_at_once(app, "tab", "enter")
        await settle(app, pilot)
        assert app.screen.source is not None and app.screen.source.path.name == "2026年客户.csv"


async def test_reimport_finds_duplicates_skips_then_o_updates_and_z_restores(store, tmp_path):
    path = write_csv(tmp_path / "a.csv", SHEET)
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        keys_at_once(app, "i")
        await settle(app, pilot)
        assert store.count_customers() == 4
        keys_at_once(app, "escape")
        await settle(app, pilot)
    changed = [row[:] for row in SHEET]
    changed[1][3] = "天津"
    write_csv(path, changed)
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        assert "Duplicates (o): skip" in text_of(screen.query_one("#import-options"))
        keys_at_once(app, "d")
        await settle(app, pilot)
        said = result_text(screen)
        assert "4 rows match customers kehu already has: 4 skipped" in said
        assert "row 2 is #" in said and "张三" in said
        keys_at_once(app, "i")
        await settle(app, pilot)
        assert store.count_customers() == 4
        keys_at_once(app, "o", "i")   # update the matched customers
        await settle(app, pilot)
        assert "Duplicates (o): update them" in text_of(screen.query_one("#import-options"))
        assert "1 updated" in result_text(screen)
        zhang = store.customers().where(store.Customer.name == "张三").get()
        assert zhang.city == "天津" and store.count_customers() == 4
        keys_at_once(app, "z", "y")
        await settle(app, pilot)
    assert store.customers().where(store.Customer.name == "张三").get().city == "北京"


async def test_t_imports_a_contact_list_to_the_right_customers(store, tmp_path):
    a = store.create_customer({"name": "李娜", "company": "星辰科技"}).id
    path = write_csv(tmp_path / "联系人.csv", [["公司", "联系人", "职务", "手机"],
                                              ["星辰科技", "王总", "总经理", "13911112222"],
                                              ["无此公司", "小李", "", ""]])
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        keys_at_once(app, "t")
        await settle(app, pilot)
        assert "Into (t): contacts of customers" in text_of(screen.query_one("#import-options"))
        assert screen.mapping.by_header() == {"公司": "customer", "联系人": "name", "职务": "title",
                                              "手机": "phone"}
        keys_at_once(app, "i")
        await settle(app, pilot)
        said = result_text(screen)
        assert "Contacts: 2 rows read — 1 added, 1 rejected" in said and "row 3" in said
        assert "no customer is called '无此公司'" in said
    assert [(c.name, c.title, c.phone) for c in store.contacts(a)] == [
        ("王总", "总经理", "+8613911112222")]


WPS_SHEET = [["2026年客户信息管理表", "", "", "", "", "", "", ""], [""] * 8,
             ["序号", "客户名称", "联系人", "手机", "固定电话", "行业", "累计采购金额", "备注"],
             ["1", "广州市粤海物流有限公司", "李娜", "13800138000", "020-88886666", "物流", "120000", "老客户"],
             ["2", "北京星辰科技有限公司", "王强", "13900139000", "", "农业/传媒", "", ""],
             ["3", "深圳宏达贸易有限公司", "赵敏", "", "0755-26668888", "制造", "5000", "年底回访"],
             ["4", "上海华信", "", "13700137000", "", "新能源", "", ""]]


async def test_a_wps_sheet_imports_with_no_cli_flag_and_again_skips_every_row(store, tmp_path):
    """The new user's story: GBK CSV straight out of WPS, a title row above the header,
    行业 values kehu has no choice for, a 联系人 column; then the same file again."""
    path = write_csv(tmp_path / "客户信息管理表.csv", WPS_SHEET, encoding="gbk")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        info = text_of(screen.query_one("#import-info", Static))
        assert "row 3" in info and "2026年客户信息管理表" in info
        assert screen.mapping.by_header()["客户名称"] == "name"
        keys_at_once(app, "d")
        await settle(app, pilot)
        said = result_text(screen)
        assert "would create 4" in said and "农业/传媒" in said and "新能源" in said
        assert "press c" in said.lower() or "按 c" in said
        assert "--" not in said
        keys_at_once(app, "c")
        await settle(app, pilot)
        decided = []
        for _ in range(2):   # one question per value: 农业/传媒 → 其他 (typed qt), 新能源 added
            question = app.screen
            decided.append(question.value)
            keys = [*"qt", "enter"] if question.value == "农业/传媒" else ["enter"]
            keys_at_once(app, *keys)
            await settle(app, pilot)
        assert sorted(decided) == ["农业/传媒", "新能源"]
        assert isinstance(app.screen, ImportScreen)
        assert "would create 4" in result_text(screen) and "新能源" not in result_text(screen).split(
            "would create")[1].split("\n")[0]
        keys_at_once(app, "i")
        await settle(app, pilot)
        said = result_text(screen)
        assert "4 created" in said and "0 rejected" in said
    C = store.Customer
    rows = {c.name: c for c in store.customers()}
    assert set(rows) == {"广州市粤海物流有限公司", "北京星辰科技有限公司", "深圳宏达贸易有限公司", "上海华信"}
    assert rows["广州市粤海物流有限公司"].industry == "logistics"
    assert rows["北京星辰科技有限公司"].industry == "other"
    assert rows["深圳宏达贸易有限公司"].industry == "manufacturing"
    assert rows["上海华信"].industry == "新能源"   # added to the choices
    assert store.schema["industry"].choice("新能源") is not None
    assert rows["广州市粤海物流有限公司"].phone == "+862088886666"
    assert rows["深圳宏达贸易有限公司"].notes == "年底回访"
    assert "序号" in (rows["上海华信"].extra or "")   # kept, not thrown away
    assert [c.name for c in store.contacts(rows["北京星辰科技有限公司"].id)] == ["王强"]
    assert rows["广州市粤海物流有限公司"].purchase_total == 120000
    # the same file again: every row is a customer kehu has; skipped by default
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        keys_at_once(app, "d")
        await settle(app, pilot)
        said = result_text(screen)
        assert "4 rows match customers kehu already has: 4 skipped" in said
        keys_at_once(app, "i")
        await settle(app, pilot)
        assert "0 created" in result_text(screen)
    assert C.select().count() == 4
    assert len(store.contacts(rows["北京星辰科技有限公司"].id)) == 1   # no contact twice
    assert store.get_customer(rows["广州市粤海物流有限公司"].id).purchase_total == 120000


async def test_h_chooses_the_header_row(store, tmp_path):
    from kehu.tui.screens.import_screen import HeaderRowPicker

    path = write_csv(tmp_path / "表.csv", WPS_SHEET, encoding="gbk")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        assert screen.source.header_row == 3
        keys_at_once(app, "h")
        await settle(app, pilot)
        picker = app.screen
        assert isinstance(picker, HeaderRowPicker)
        numbers = [n for n, _ in picker.rows]
        assert 3 in numbers and "◀" in str(picker.query_one("OptionList").get_option_at_index(
            numbers.index(3)).prompt)
        keys_at_once(app, *["up"] * numbers.index(3), "enter")   # the title row: a wrong header
        await settle(app, pilot)
        assert screen.source.header_row == numbers[0]
        assert "2026年客户信息管理表" in screen.mapping.headers
        keys_at_once(app, "h", *["down"] * numbers.index(3), "enter")   # back to row 3
        await settle(app, pilot)
        assert screen.source.header_row == 3 and screen.mapping.by_header()["客户名称"] == "name"
        assert "row 3" in text_of(screen.query_one("#import-info", Static))


async def test_c_asks_how_the_file_writes_its_dates(store, tmp_path):
    from kehu.tui.screens.import_screen import DateOrderPicker
    import datetime as dt

    path = write_csv(tmp_path / "a.csv", [["姓名", "开发日期"], ["张三", "03/04/2021"], ["李四", "15/03/2021"]])
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_wizard(app, pilot, path)
        keys_at_once(app, "d")
        await settle(app, pilot)
        said = result_text(screen)
        assert "press c to say which the file uses" in said and "--date-order" not in said
        keys_at_once(app, "c")
        await settle(app, pilot)
        assert isinstance(app.screen, DateOrderPicker) and "03/04/2021" in app.screen.example
        keys_at_once(app, "enter")   # day/month/year
        await settle(app, pilot)
        assert "press c" not in result_text(screen)
        keys_at_once(app, "i")
        await settle(app, pilot)
    assert {c.name: c.acquired_on for c in store.customers()} == {
        "张三": dt.date(2021, 4, 3), "李四": dt.date(2021, 3, 15)}
