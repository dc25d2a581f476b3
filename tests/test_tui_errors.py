"""The TUI's one error handler: a KehuError anywhere is its sentence, a bug is
logged and named in one sentence, and kehu keeps running where that is safe."""
from __future__ import annotations

from textual import work
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from kehu.models.errors import KehuError, log_dir
from kehu.tui.screens.workbench import WorkbenchScreen
from tests.ui_app import keys_at_once, make_app, notes, settle

SIZE = (80, 24)


class Refused(KehuError):
    pass


class Trouble(ModalScreen):
    """A screen whose key raises a user error, whose worker has a bug, and whose
    button handler has a bug."""

    BINDINGS = [Binding("x", "refuse", "refuse"), Binding("w", "start", "work")]

    def compose(self):
        yield Static("trouble")
        yield Button("boom", id="boom")

    def action_refuse(self) -> None:
        raise Refused("Grade: 'Z' is not one of A, B, C")

    def action_start(self) -> None:
        self.broken_worker()

    @work(thread=True)
    def broken_worker(self) -> None:
        raise RuntimeError("worker bug")

    def on_button_pressed(self) -> None:
        raise RuntimeError("handler bug")


async def test_a_kehu_error_from_a_screen_action_is_its_sentence(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(Trouble())
        await pilot.press("x")
        await pilot.pause()
        assert "Grade: 'Z' is not one of A, B, C" in notes(app)
        assert isinstance(app.screen, Trouble) and app.is_running
        await pilot.press("x")  # the screen still answers its keys
        await pilot.pause()
        assert notes(app).count("Grade: 'Z' is not one of A, B, C") == 2
        assert app.bugs == []
    assert not (log_dir() / "kehu.log").exists()


async def test_a_bug_in_a_worker_is_logged_and_named_in_one_sentence(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(Trouble())
        await pilot.press("w")
        await settle(app, pilot)
        log = log_dir() / "kehu.log"
        assert log.is_file()
        assert "RuntimeError: worker bug" in log.read_text(encoding="utf-8")
        [sentence] = [n for n in notes(app) if "internal error" in n]
        assert "(RuntimeError)" in sentence and str(log) in sentence
        assert isinstance(app.screen, Trouble) and app.is_running  # nothing else stopped
        await pilot.press("x")
        await pilot.pause()
        assert "Grade: 'Z' is not one of A, B, C" in notes(app)
        assert [str(b) for b in app.bugs] == ["worker bug"]


async def test_a_bug_in_a_dialog_handler_closes_the_dialog_not_kehu(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await app.push_screen(Trouble())
        await pilot.click("#boom")
        await settle(app, pilot)
        assert "RuntimeError: handler bug" in (log_dir() / "kehu.log").read_text(encoding="utf-8")
        assert any("internal error (RuntimeError)" in n for n in notes(app))
        assert isinstance(app.screen, WorkbenchScreen) and app.is_running


async def test_a_date_far_back_typed_in_the_search_box_is_a_sentence_not_an_exit(tmp_path):
    app = make_app(tmp_path, customers=20)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        keys_at_once(app, "/", *"created>=1000000d")
        await settle(app, pilot)
        await pilot.pause(0.3)
        await settle(app, pilot)
        assert app.is_running and isinstance(app.screen, WorkbenchScreen)
        shown = str(app.screen.query_one("#query-error").render())
        assert "Created: '1000000d' reaches back before the year 1" in shown
        assert app.bugs == []
