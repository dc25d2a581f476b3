"""The day's agenda (models/agenda.py): whom to call today and why.

One list in five parts (follow-ups due, cadence calls, birthdays, churn
warnings, verification due), each line a customer and one line why. On a line:
``c`` logs a call (the call screen; saving it clears the line), ``s`` snoozes
it 3 days, ``w`` a week, ``x`` marks it done, Enter opens the customer. A
handled line leaves the list and does not come back. ``o`` chooses whose
agenda (a manager: another owner's, or everybody's; ``kehu agenda --owner``).
"""
from __future__ import annotations

import datetime as dt

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from kehu.models import agenda
from kehu.models.i18n import tr
from kehu.tui.widgets.customer_table import fit
from kehu.tui.widgets.footer import KehuFooter


class AgendaScreen(Screen):
    BINDINGS = [
        Binding("c", "call", tr("agenda_ui.call"), id="agenda.call"),
        Binding("s", "snooze(3)", tr("agenda_ui.snooze"), id="agenda.snooze"),
        Binding("w", "snooze(7)", tr("agenda_ui.snooze_week"), id="agenda.snooze_week"),
        Binding("x", "done", tr("agenda_ui.done"), id="agenda.done"),
        Binding("enter", "open", tr("agenda_ui.open"), id="agenda.open"),
        Binding("o", "owner", tr("agenda_owner.key"), id="agenda.owner"),
        Binding("ctrl+r", "reload", tr("agenda_ui.reload"), id="agenda.reload", show=False),
        Binding("escape", "close", tr("agenda_ui.close"), id="agenda.close"),
    ]
    DEFAULT_CSS = """
    AgendaScreen #agenda-title { height: auto; padding: 0 1; text-style: bold; }
    AgendaScreen #agenda-list { height: 1fr; border: none; }
    AgendaScreen #agenda-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, *, owner: str | None = None, today: dt.date | None = None):
        """``today`` fixes the day (tests); None: the real day at each reload."""
        super().__init__()
        self.owner = owner
        self.fixed_today = today
        self.items: dict[str, agenda.Item] = {}
        self.result: agenda.Agenda | None = None

    @property
    def store(self):
        return self.app.store

    @property
    def today(self) -> dt.date:
        return self.fixed_today or dt.date.today()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="agenda-title")
        yield OptionList(id="agenda-list")
        yield Static(tr("agenda_ui.legend"), id="agenda-status")
        yield KehuFooter()

    def on_mount(self) -> None:
        self.reload()
        self.query_one("#agenda-list", OptionList).focus()

    # -- the list -------------------------------------------------------------
    def reload(self, keep: int | None = None) -> None:
        try:
            cfg = agenda.load_config()
        except agenda.CadenceError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            cfg = agenda.load_config(agenda.DEFAULT_PATH)
        self.result = result = agenda.build(self.store, self.today, owner=self.owner, config=cfg)
        self.query_one("#agenda-title", Static).update(tr(
            "agenda_ui.title", owner=result.owner or tr("agenda.everybody"),
            today=result.today.isoformat(), count=result.total_text()))
        options: list[Option] = []
        self.items = {}
        names = [item.name or "" for kind in agenda.KINDS for item in result.sections[kind]]
        # the name column: as wide as the widest name, at most 30% of the screen (10–32 cells)
        widest = max((cell_len(name) for name in names), default=10)
        self._name_cells = max(10, min(widest, 32, int(self.app.size.width * 0.3) or 16))
        for kind in agenda.KINDS:
            items = result.sections[kind]
            options.append(Option(Text(f"{tr('agenda.section.' + kind)} ({result.count_text(kind)})",
                                       style="bold"), disabled=True))
            for item in items:
                self.items[item.key] = item
                options.append(Option(self._line(item), id=item.key))
            if not items:
                options.append(Option(Text(tr("agenda.nothing"), style="dim"), disabled=True))
        listing = self.query_one("#agenda-list", OptionList)
        listing.clear_options()
        listing.add_options(options)
        enabled = [i for i, o in enumerate(options) if not o.disabled]
        if enabled:
            target = keep if keep is not None else enabled[0]
            # the next line after the one handled (or the last one)
            listing.highlighted = next((i for i in enabled if i >= target), enabled[-1])

    def _line(self, item: agenda.Item) -> Text:
        cells = getattr(self, "_name_cells", 16)
        text = Text("  " + fit(item.name or "", cells) + "  ")
        # one line per item: the why is cut with … at the width (the list's padding and
        # scroll bar: 4 cells), never wrapped onto a second line
        room = max(10, self.app.size.width - cells - 8)
        why = item.why if cell_len(item.why) <= room else fit(item.why, room).rstrip()
        text.append(why, style="italic" if item.kind == "churn" else "")
        return text

    def on_resize(self) -> None:
        if self.result is not None:   # the name column and the cut follow the width
            self.action_reload()

    @property
    def current(self) -> agenda.Item | None:
        listing = self.query_one("#agenda-list", OptionList)
        if listing.highlighted is None:
            return None
        option = listing.get_option_at_index(listing.highlighted)
        return self.items.get(option.id) if option.id else None

    @property
    def current_customer_id(self) -> int | None:
        item = self.current
        return item.customer_id if item else None

    def _after(self, message: str) -> None:
        listing = self.query_one("#agenda-list", OptionList)
        self.reload(keep=listing.highlighted)
        self.query_one("#agenda-status", Static).update(message)

    # -- actions ----------------------------------------------------------------
    def action_call(self) -> None:
        from .log_call import LogCallScreen

        item = self.current
        if item is None:
            return

        def logged(entry_id: int | None) -> None:
            if entry_id is None:
                return
            agenda.called(self.store, item)
            self._after(tr("agenda_ui.called", name=item.name))

        self.app.push_screen(LogCallScreen(item.customer_id), logged)

    def action_snooze(self, days: int) -> None:
        item = self.current
        if item is None:
            return
        until = agenda.snooze(self.store, item, int(days), self.today)
        self._after(tr("agenda_ui.snoozed", name=item.name, date=until.isoformat()))

    def action_done(self) -> None:
        item = self.current
        if item is None:
            return
        agenda.done(self.store, item)
        self._after(tr("agenda_ui.marked_done", name=item.name))

    def action_open(self) -> None:
        item = self.current
        if item is not None:
            self.app.open_customer(item.customer_id)

    def action_owner(self) -> None:
        """Choose whose agenda: the owners of the customers this user can read."""
        from kehu.models.agenda_owners import choices

        from .entry_forms import PickModal

        def chosen(owner: str | None) -> None:
            if owner is None:
                return
            self.owner = owner
            self.reload()
            self.query_one("#agenda-status", Static).update(tr(
                "agenda_owner.shown", owner=self.result.owner or tr("agenda.everybody")))

        current = self.owner or (self.result.owner if self.result else None) or "*"
        self.app.push_screen(PickModal(tr("agenda_owner.title"), choices(self.store),
                                       current), chosen)

    def action_reload(self) -> None:
        self.reload(keep=self.query_one("#agenda-list", OptionList).highlighted)

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open()

    def on_screen_resume(self) -> None:
        if self.result is not None:   # back from a customer or a call: show what changed
            self.action_reload()
