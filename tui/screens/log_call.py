"""Log a call: the current customer (or one found by typing), a running timer,
notes, outcome, the next follow-up and a satisfaction score (one field, on the
satisfaction field's scale; the customer's field then shows it) — saved as a
timeline entry with its duration (``store.add_interaction(kind='call', ...)``).
"""
from __future__ import annotations

import datetime as dt
from functools import partial
from time import monotonic
from typing import Callable

import peewee
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from kehu.models import automations
from kehu.models.errors import KehuError
from kehu.models.i18n import tr
from kehu.models.results import ResultSet
from kehu.models.satisfaction import clean_score, scale_text
from kehu.models.store import NotFound
from kehu.models.validate import FieldError, display, parse_date
from kehu.tui.screens.confirm import confirm

MATCHES = 8


def parse_follow_up(text: str, today: dt.date | None = None) -> dt.date | None:
    """'' → None, '+3' or '7d', '2w', '1m' → that far from today (as the search box
    types days, counted forward), else a date (ValueError if not)."""
    from kehu.models.agenda import day_ahead

    text = text.strip()
    if not text:
        return None
    ahead = day_ahead(text, today)
    if ahead is not None:
        return ahead
    return parse_date(text)


def format_duration(seconds: int) -> str:
    return tr("call.duration", minutes=seconds // 60, seconds=seconds % 60)


def customer_line(store, record: dict) -> str:
    """'张三 · 北京星辰科技 · 138 0013 8000': the name and the table fields that say who
    it is, from a record as the store hands it out (masked for the user's role)."""
    parts = [display(spec, record.get(spec.key)) for spec in store.schema.table_fields
             if spec.searchable and spec.type in ("text", "phone")]
    return " · ".join(p for p in parts if p)


class LogCallScreen(ModalScreen[int | None]):
    """Dismisses with the new interaction's id, or ``None`` when cancelled."""

    DEFAULT_CSS = """
    LogCallScreen { align: center middle; }
    LogCallScreen > Vertical { width: 90; max-width: 100%; height: auto; max-height: 100%;
                               border: thick $accent; background: $surface; padding: 0 1; }
    LogCallScreen #call-title { text-style: bold; width: 1fr; }
    LogCallScreen #call-timer { color: $accent; text-style: bold; }
    LogCallScreen OptionList { height: auto; max-height: 8; border: none; }
    LogCallScreen TextArea { height: 5; }
    LogCallScreen Input, LogCallScreen TextArea { background: $boost; }
    LogCallScreen Input:focus, LogCallScreen TextArea:focus { background: $primary 25%; }
    LogCallScreen Label { color: $text-muted; }
    LogCallScreen #call-error { color: $error; height: auto; }
    LogCallScreen .legend { color: $text-muted; }
    """
    BINDINGS = [
        Binding("ctrl+s", "save", tr("detail.save"), id="call.save"),
        Binding("escape", "cancel", tr("confirm.cancel"), id="call.cancel"),
    ]

    def __init__(self, customer_id: int | None = None, *,
                 clock: Callable[[], float] | None = None):
        """``clock`` (seconds, default ``time.monotonic``) times the call."""
        super().__init__()
        self.customer_id = customer_id
        self.clock = clock or monotonic
        self.started = self.clock()
        self._generation = 0          # the search the matches shown belong to
        self._searching = False       # a search is running for what is typed
        self._pick_when_found = False  # Enter came before the matches: take the first

    @property
    def store(self):
        return self.app.store

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(tr("call.title"), id="call-title")
            yield Static(self._timer_text(), id="call-timer")
            yield Input(placeholder=tr("call.search"), id="call-search", compact=True)
            yield OptionList(id="call-matches")
            yield Label(tr("call.notes"))
            yield TextArea(id="call-notes", soft_wrap=True, tab_behavior="focus", compact=True)
            yield Label(tr("call.outcome"))
            outcomes = [o.strip() for o in tr("call.outcomes").split(",")]
            yield Input(id="call-outcome", compact=True,
                        suggester=SuggestFromList(outcomes, case_sensitive=False))
            yield Label(tr("call.follow_up"))
            yield Input(id="call-follow-up", placeholder="YYYY-MM-DD", compact=True,
                        restrict=r"[0-9\-/.+ dwmDWM天周月]*")
            yield Label(tr("call.score", scale=scale_text(self.store)))
            yield Input(id="call-score", compact=True, restrict=r"[0-9.,]*")
            yield Static("", id="call-error")
            yield Static(tr("call.legend"), classes="legend")

    def on_mount(self) -> None:
        self.set_interval(1, self._tick)
        picked = False
        if self.customer_id is not None:
            try:
                self._pick(self.store.record(self.store.get_customer(self.customer_id)))
                picked = True
            except NotFound:
                self.customer_id = None
        if not picked:
            self.query_one("#call-matches", OptionList).display = False
            self.set_focus(self.query_one("#call-search", Input))

    # -- timer ------------------------------------------------------------
    @property
    def elapsed(self) -> int:
        return max(0, int(round(self.clock() - self.started)))

    def _timer_text(self) -> str:
        seconds = self.elapsed
        return tr("call.timer", elapsed=f"{seconds // 60:02d}:{seconds % 60:02d}")

    def _tick(self) -> None:
        self.query_one("#call-timer", Static).update(self._timer_text())

    # -- choosing the customer ------------------------------------------------
    def _pick(self, record: dict) -> None:
        self.customer_id = record["id"]
        self.query_one("#call-title", Static).update(
            tr("call.title_for", name=customer_line(self.store, record) or record.get("name")))
        self.query_one("#call-search", Input).display = False
        self.query_one("#call-matches", OptionList).display = False
        self.set_focus(self.query_one("#call-notes", TextArea))

    def _pick_id(self, customer_id: int) -> None:
        self._pick(self.store.record(self.store.get_customer(customer_id)))

    def on_input_changed(self, event: Input.Changed) -> None:
        """Each keystroke starts a search off the UI thread (the store's search:
        the search index, the user's row scope, values masked for the role); an
        older search still running is superseded."""
        if event.input.id != "call-search":
            return
        self._generation += 1
        self._pick_when_found = False
        query = event.value.strip()
        if not query:
            self._searching = False
            matches = self.query_one("#call-matches", OptionList)
            matches.clear_options()
            matches.display = False
            return
        self._searching = True
        self.run_worker(partial(self._find, self._generation, query), thread=True,
                        exclusive=True, group="call-search")

    def _find(self, generation: int, query: str) -> None:
        """(worker thread) The first matches, most recently changed first."""
        store = self.store
        error = None
        try:
            records = ResultSet(store, query, sort=[("updated_at", "desc")]).page(0, MATCHES)
        except KehuError as exc:   # a query the language refuses, or a right missing
            records, error = [], getattr(exc, "message", None) or str(exc)
        finally:
            store.db.close()       # this thread's own connection
        self.app.call_from_thread(self._show_matches, generation, query, records, error)

    def _show_matches(self, generation: int, query: str, records: list[dict],
                      error: str | None) -> None:
        if generation != self._generation or not self.is_attached:
            return
        self._searching = False
        matches = self.query_one("#call-matches", OptionList)
        matches.clear_options()
        options = [Option(customer_line(self.store, r) or r.get("name") or "", id=str(r["id"]))
                   for r in records]
        matches.add_options(options or [Option(error or tr("call.no_match", query=query),
                                               disabled=True)])
        matches.highlighted = 0 if options else None
        matches.display = True
        if self._pick_when_found and options:
            self._pick_when_found = False
            self._pick_id(int(options[0].id))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "call-search":
            matches = self.query_one("#call-matches", OptionList)
            if self._searching:   # the matches shown are for what was typed before
                self._pick_when_found = True
            elif matches.highlighted is not None and matches.option_count:
                option = matches.get_option_at_index(matches.highlighted)
                if option.id:
                    self._pick_id(int(option.id))
        else:
            self.focus_next()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self._pick_id(int(event.option.id))

    def on_key(self, event) -> None:
        if event.key == "down" and self.focused is self.query_one("#call-search", Input):
            matches = self.query_one("#call-matches", OptionList)
            if matches.display:
                matches.focus()
                event.stop()

    # -- save / cancel ----------------------------------------------------
    def _error(self, message: str, focus: str) -> None:
        self.query_one("#call-error", Static).update(message)
        widget = self.query_one(focus)
        widget.display = True
        widget.focus()

    def action_save(self) -> None:
        if self.customer_id is None:
            self._error(tr("call.pick_first"), "#call-search")
            return
        raw_date = self.query_one("#call-follow-up", Input).value
        try:
            follow_up = parse_follow_up(raw_date)
        except ValueError:
            self._error(tr("call.bad_date", value=raw_date), "#call-follow-up")
            return
        raw_score = self.query_one("#call-score", Input).value.strip().replace(",", ".")
        try:
            score = clean_score(self.store, raw_score)
        except FieldError as exc:
            self._error(str(exc), "#call-score")
            return
        notes = self.query_one("#call-notes", TextArea).text.strip()
        summary, _, rest = notes.partition("\n")
        outcome = self.query_one("#call-outcome", Input).value.strip()
        duration = self.elapsed
        try:
            row = self.store.add_interaction(
                self.customer_id, "call", summary=summary.strip() or None,
                details=notes if rest.strip() else None, outcome=outcome or None,
                duration_seconds=duration, next_follow_up=follow_up, score=score)
        except (FieldError, NotFound) as exc:
            self._error(str(exc), "#call-notes")
            return
        except peewee.DatabaseError as exc:
            self._error(tr("detail.db_error", error=exc), "#call-notes")
            return
        name = self.store.get_customer(self.customer_id, include_deleted=True).name
        # what automation rules did on this call, after the word that it was saved
        self.notify("  ".join([tr("call.saved", name=name, duration=format_duration(duration)),
                               *automations.take_notes(self.store)]))
        self.dismiss(row.id)

    def action_cancel(self) -> None:
        typed = (self.query_one("#call-notes", TextArea).text.strip()
                 or self.query_one("#call-outcome", Input).value.strip()
                 or self.query_one("#call-score", Input).value.strip())
        if typed:
            confirm(self.app, tr("call.discard_question"), lambda: self.dismiss(None),
                    yes=tr("detail.discard"))
        else:
            self.dismiss(None)
