"""The detail editor, quick entry, call log, conflict dialog and deleted view,
driven by keys as a user would (Pilot), checked against what the database holds.
Each test runs on SQLite and PostgreSQL (the ``store`` fixture)."""
from __future__ import annotations

import datetime as dt

import pytest
from textual.widgets import Checkbox, Input, Select, Static, TextArea

from kehu.models import i18n
from kehu.models.store import Store
from kehu.tui.app import KehuApp
from kehu.tui.screens import log_call
from kehu.tui.screens.confirm import ConfirmScreen
from kehu.tui.screens.conflict import ConflictRow, ConflictScreen
from kehu.tui.screens.deleted import DeletedScreen
from kehu.tui.screens.detail import DetailScreen
from kehu.tui.screens.log_call import LogCallScreen
from kehu.tui.screens.quick_entry import QuickEntryScreen
from tests.ui_app import keys_at_once
from kehu.tui.widgets.fields import FieldRow

SIZE = (100, 30)


def text_of(widget) -> str:
    return str(widget.render())


async def type_text(pilot, text: str) -> None:
    await pilot.press(*text)


async def open_customer(app, pilot, customer_id: int) -> DetailScreen:
    app.open_customer(customer_id)  # what Enter on a workbench row does
    await pilot.pause()
    assert isinstance(app.screen, DetailScreen)
    return app.screen


def error_under(screen, key: str) -> str:
    row = screen.query_one(f"#row-{key}", FieldRow)
    return row.note if row.has_class("-invalid") else ""


# -- new customer -----------------------------------------------------------

async def test_new_customer_by_keys_only(store):
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert isinstance(app.screen, QuickEntryScreen)
        assert app.focused.id == "field-name"
        await type_text(pilot, "张三")
        await pilot.press("tab")
        await type_text(pilot, "北京星辰科技")
        await pilot.press("tab")
        await type_text(pilot, "138 0013 8000")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, QuickEntryScreen)
    [row] = list(store.customers())
    assert (row.name, row.company, row.mobile) == ("张三", "北京星辰科技", "+8613800138000")
    assert row.stage == "lead"  # the schema default, not typed


async def test_invalid_phone_is_refused_with_the_message_under_the_field(store):
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await type_text(pilot, "Alice")
        await pilot.press("tab", "tab")
        assert app.focused.id == "field-mobile"
        await type_text(pilot, "12345")
        await pilot.press("tab")  # leaving the field checks it
        await pilot.pause()
        assert "not a valid phone number" in error_under(app.screen, "mobile")
        await pilot.press("shift+tab", "shift+tab")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, QuickEntryScreen)
        assert app.focused.id == "field-mobile"  # focus goes to the first bad field
        assert "'12345' is not a valid phone number" in error_under(app.screen, "mobile")
    assert store.count_customers() == 0


async def test_messages_and_labels_in_chinese(store):
    i18n.set_lang("zh")
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(DetailScreen())
        await pilot.pause()
        label = app.screen.query_one("#row-name .field-label")
        assert text_of(label).startswith("客户名称 *")
        assert "◆" in text_of(app.screen.query_one("#row-mobile .field-label"))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert error_under(app.screen, "name") == "必填"
        assert app.focused.id == "field-name"
    assert store.count_customers() == 0


async def test_quick_entry_goes_on_to_the_full_form_with_what_was_typed(store):
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        await type_text(pilot, "Bob")
        await pilot.press("f2")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.form.row("name").raw == "Bob"
        await pilot.press("escape")  # typed but unsaved: asks
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")  # save
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
    assert [c.name for c in store.customers()] == ["Bob"]


# -- the form -----------------------------------------------------------------

async def test_form_has_a_section_per_group_and_the_widget_of_each_type(store):
    row = store.create_customer({"name": "Carol"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(app, pilot, row.id)
        sections = [s.id for s in screen.query(".form-section")]
        groups = [g.key for g in store.schema.groups
                  if store.schema.group_fields(g.key)]
        assert sections == [f"section-{g}" for g in groups]
        expected = {"longtext": TextArea, "choice": Select, "boolean": Checkbox}
        for spec in store.schema.fields:
            widget = screen.form.row(spec.key).widget
            if spec.computed:
                assert isinstance(widget, Static) and not widget.can_focus
            else:
                assert isinstance(widget, expected.get(spec.type, Input)), spec.key
            label = text_of(screen.form.row(spec.key).query_one(".field-label"))
            assert label.startswith(spec.label())
            assert ("*" in label) == (spec.required and not spec.computed)
            assert ("◆" in label) == spec.sensitive


async def test_edit_and_save(store):
    row = store.create_customer({"name": "Dora", "company": "Old Co"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(app, pilot, row.id)
        await pilot.press("ctrl+down")  # next group: contact, starting at company
        assert app.focused.id == "field-company"
        await pilot.press("ctrl+u")
        await type_text(pilot, "New Co")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "version 2" in text_of(screen.query_one("#detail-title"))
        assert not screen.form.dirty
        await pilot.press("escape")  # saved: leaves without asking
        await pilot.pause()
        assert not isinstance(app.screen, (DetailScreen, ConfirmScreen))
    again = store.get_customer(row.id)
    assert (again.company, again.version) == ("New Co", 2)


async def test_escape_with_unsaved_changes_asks(store):
    row = store.create_customer({"name": "Eve"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(app, pilot, row.id)
        await type_text(pilot, " Smith")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert "unsaved changes to Eve" in text_of(app.screen.query_one(".question"))
        await pilot.press("escape")  # keep editing
        await pilot.pause()
        assert app.screen is screen
        assert screen.form.row("name").raw == "Eve Smith"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("n")  # discard
        await pilot.pause()
        assert not isinstance(app.screen, (DetailScreen, ConfirmScreen))
    assert store.get_customer(row.id).name == "Eve"


async def test_form_is_usable_at_80x24(store):
    row = store.create_customer({"name": "Fay"})
    app = KehuApp(store)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_customer(app, pilot, row.id)
        last = [s for s in store.schema.fields if not s.computed][-1]
        for _ in range(len(store.schema.groups) - 1):
            await pilot.press("ctrl+down")
        while app.focused.id != f"field-{last.key}":
            await pilot.press("tab")
        await pilot.pause()
        assert screen.form.scroll_y > 0
        assert screen.form.region.contains_region(app.focused.region)


# -- log a call -----------------------------------------------------------

async def test_log_a_call_from_the_detail_screen(store, monkeypatch):
    row = store.create_customer({"name": "Gus"})
    now = [1000.0]
    monkeypatch.setattr(log_call, "monotonic", lambda: now[0])
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_customer(app, pilot, row.id)
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LogCallScreen)
        assert "Gus" in text_of(app.screen.query_one("#call-title"))
        assert app.focused.id == "call-notes"
        await type_text(pilot, "wants a quote")
        await pilot.press("tab")
        await type_text(pilot, "interested")
        await pilot.press("tab")
        await type_text(pilot, "+3")
        now[0] += 185  # three minutes five seconds on the phone
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
    [call] = list(store.interactions(row.id))
    assert (call.kind, call.summary, call.outcome) == ("call", "wants a quote", "interested")
    assert call.duration_seconds == 185
    assert call.next_follow_up == dt.date.today() + dt.timedelta(days=3)


async def test_log_a_call_searching_the_customer(store):
    store.create_customer({"name": "张三", "mobile": "13800138000"})
    store.create_customer({"name": "李四"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        app.push_screen(LogCallScreen())
        await pilot.pause()
        await pilot.press("ctrl+s")  # nobody picked yet: refused, says why
        await pilot.pause()
        assert "Pick the customer first" in text_of(app.screen.query_one("#call-error"))
        assert app.focused.id == "call-search"
        await type_text(pilot, "zs")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        assert "张三" in text_of(app.screen.query_one("#call-title"))
        await type_text(pilot, "no answer")
        await pilot.press("tab", "tab")
        await type_text(pilot, "2099-13-01")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert "'2099-13-01' is not a date" in text_of(app.screen.query_one("#call-error"))
        await pilot.press("ctrl+u")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, LogCallScreen)
    zs = store.customers().where(store.Customer.name == "张三").get()
    [call] = list(store.interactions(zs.id))
    assert call.summary == "no answer" and call.duration_seconds >= 0


# -- conflicts ----------------------------------------------------------------

@pytest.fixture
def other(store):
    """A second connection to the same database: another terminal, another user."""
    s = Store.open(store.url, store.schema, user="colleague")
    yield s
    s.close()


async def _edit_then_conflict(app, pilot, store, other, row_id):
    screen = await open_customer(app, pilot, row_id)
    other.update_customer(row_id, {"company": "Theirs Co", "city": "Tokyo"})
    await pilot.press("ctrl+down")
    await pilot.press("ctrl+u")
    await type_text(pilot, "Mine Co")
    await pilot.press("tab", "tab")
    assert app.focused.id == "field-title"
    await type_text(pilot, "CEO")
    await pilot.press("ctrl+s")
    await pilot.pause()
    assert isinstance(app.screen, ConflictScreen)
    assert store.get_customer(row_id).company == "Theirs Co"  # nothing written yet
    return screen


async def test_conflicting_save_lets_the_user_pick_per_field(store, other):
    row = store.create_customer({"name": "Hal", "company": "Old Co", "city": "Paris"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _edit_then_conflict(app, pilot, store, other, row.id)
        rows = {r.spec.key: r for r in app.screen.query(ConflictRow)}
        assert set(rows) == {"company", "city", "title"}
        assert rows["company"].has_class("-both")
        shown = [text_of(label) for label in rows["company"].query("Label")]
        assert shown[1:] == ["Old Co", "Theirs Co", "Mine Co"]  # original / theirs / mine
        assert (rows["city"].choice, rows["title"].choice) == ("theirs", "mine")
        assert app.focused is rows["company"]
        await pilot.press("left")  # keep their company
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        assert screen.form.row("company").raw == "Theirs Co"
    saved = store.get_customer(row.id)
    assert (saved.company, saved.city, saved.title) == ("Theirs Co", "Tokyo", "CEO")
    assert saved.version == 3


async def test_conflict_keep_all_mine_and_cancel(store, other):
    row = store.create_customer({"name": "Ida", "company": "Old Co", "city": "Paris"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await _edit_then_conflict(app, pilot, store, other, row.id)
        await pilot.press("escape")  # back to editing: nothing saved, edits kept
        await pilot.pause()
        assert app.screen is screen
        assert screen.form.row("company").raw == "Mine Co"
        assert store.get_customer(row.id).company == "Theirs Co"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ConflictScreen)
        await pilot.press("m")  # all mine: my values, and the original city back
        await pilot.press("enter")
        await pilot.pause()
    saved = store.get_customer(row.id)
    assert (saved.company, saved.city, saved.title) == ("Mine Co", "Paris", "CEO")


# -- delete and restore ---------------------------------------------------------

async def test_delete_asks_is_soft_and_the_deleted_view_restores(store):
    row = store.create_customer({"name": "Jay"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_customer(app, pilot, row.id)
        await pilot.press("f8")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # changed my mind
        await pilot.pause()
        assert store.count_customers() == 1
        await pilot.press("f8")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert store.count_customers() == 0
        assert not isinstance(app.screen, DetailScreen)
        await pilot.press("f9")
        await pilot.pause()
        assert isinstance(app.screen, DeletedScreen)
        await pilot.press("enter")
        await pilot.pause()
    assert store.get_customer(row.id).name == "Jay"


async def test_each_kind_of_field_takes_typed_values(store):
    row = store.create_customer({"name": "Kim"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_customer(app, pilot, row.id)
        form = screen.form

        async def into(key: str, *keys: str) -> None:
            form.focus_field(key)
            await pilot.pause()
            await pilot.press(*keys)

        await into("birthday", *"19900102", "tab")
        await pilot.pause()
        assert form.row("birthday").raw == "1990-01-02"  # tidied on leaving the field
        await into("registered_capital", *"1.5万")
        await into("tags", *"vip, key account")
        await into("marketing_opt_in", "space")
        await into("grade", "enter", "down", "enter")
        await into("notes", *"line one", "enter", *"line two")
        await pilot.press("ctrl+s")
        await pilot.pause()
    saved = store.get_customer(row.id)
    assert saved.birthday == dt.date(1990, 1, 2)
    assert saved.registered_capital == 15000
    assert saved.tags == "vip,key account"
    assert saved.marketing_opt_in is True
    assert saved.grade == "A"
    assert saved.notes == "line one\nline two"


async def test_a_newer_version_with_no_field_changed_needs_no_choice(store, other):
    row = store.create_customer({"name": "Lee", "company": "Old Co"})
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await open_customer(app, pilot, row.id)
        other.delete_customer(row.id)
        other.restore_customer(row.id)  # the version moved on, no field changed
        await pilot.press("ctrl+down", "ctrl+u")
        await type_text(pilot, "New Co")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
    saved = store.get_customer(row.id)
    assert (saved.company, saved.version) == ("New Co", 4)


async def test_a_fast_typist_fills_each_field_in_turn(store):
    """While the customer is on the phone: name, Tab, company, Tab, mobile arrive
    faster than the screen draws; each must land in its own field."""
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+n")
        await pilot.pause()
        keys_at_once(app, *"张三", "tab", *"星辰", "tab", *"13800138000")
        await pilot.pause()
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
    [row] = list(store.customers())
    assert (row.name, row.company, row.mobile) == ("张三", "星辰", "+8613800138000")


async def test_a_name_typed_right_after_ctrl_n_goes_into_the_name_field(store):
    app = KehuApp(store)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        keys_at_once(app, "ctrl+n", *"Sam", "tab", "1")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, QuickEntryScreen)
        assert app.screen.query_one("#field-name").value == "Sam"
        assert app.focused.value == "1"  # Tab went on to the next field
        assert store.count_customers() == 0  # nothing happened on the table underneath
