"""What is due, across all customers: follow-ups and verification (核实).

Four lists, one key each: ``1`` overdue follow-ups, ``2`` today's, ``3`` the
next seven days', ``4`` customers due for verification. ``x`` marks a
follow-up done, ``v`` records that the selected customer was verified (every
kind, by you, now) and it leaves the list; Enter opens the customer.
"""
from __future__ import annotations

from rich.cells import set_cell_size
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models import timeline, verify
from kehu.models.i18n import tr

from ..widgets.paged_list import PagedList
from .timeline import TimelineList
from kehu.tui.widgets.footer import KehuFooter

MODES = ("overdue", "today", "week", "verification")


def app_policy(app) -> verify.Policy:
    """The verification policy of the app's config; a bad setting is reported once
    and the defaults are used."""
    policy = getattr(app, "_kehu_verify_policy", None)
    if policy is None:
        try:
            policy = verify.load_policy(getattr(app, "config", None))
        except verify.PolicyError as exc:
            app.notify(str(exc), severity="error", timeout=10)
            policy = verify.load_policy()
        app._kehu_verify_policy = policy
    return policy


class VerifyList(PagedList):
    COMPONENT_CLASSES = PagedList.COMPONENT_CLASSES | {"verify--due", "verify--ok"}
    DEFAULT_CSS = """
    VerifyList > .verify--due { color: $error; }
    VerifyList > .verify--ok { color: $text-muted; }
    """

    def __init__(self, policy: verify.Policy, count, page, **kwargs):
        self.policy = policy
        super().__init__(count, page, self.render_due, **kwargs)

    def render_due(self, row: verify.DueCustomer, width: int) -> Text:
        text = Text(set_cell_size(row.name or "", 24) + "  ")
        for key, (when, who) in row.last.items():
            kind = self.policy.get(key)
            style = self.get_component_rich_style(
                "verify--due" if key in row.due else "verify--ok", partial=True)
            seen = f"{when:%Y-%m-%d} {who or ''}".strip() if when else tr("due.never")
            text.append(f"  {kind.label() if kind else key}: {seen}", style)
        return text


class DueScreen(Screen):
    BINDINGS = [
        Binding("1", "mode('overdue')", tr("timeline.bucket.overdue"), id="due.overdue"),
        Binding("2", "mode('today')", tr("timeline.bucket.today"), id="due.today"),
        Binding("3", "mode('week')", tr("timeline.bucket.week"), id="due.week"),
        Binding("4", "mode('verification')", tr("due.verification"), id="due.verification"),
        Binding("x", "done", tr("due.done"), id="due.done"),
        Binding("v", "verify", tr("due.verify"), id="due.verify"),
        Binding("escape", "close", tr("due.close"), id="due.close"),
    ]
    DEFAULT_CSS = """
    DueScreen #due-tabs { height: auto; padding: 0 1; }
    DueScreen #due-status { height: auto; padding: 0 1; color: $text-muted; }
    DueScreen .hidden { display: none; }
    """

    def __init__(self, mode: str = "overdue"):
        super().__init__()
        self.mode = mode if mode in MODES else "overdue"

    @property
    def store(self):
        return self.app.store

    def compose(self) -> ComposeResult:
        store = self.app.store
        self.policy = app_policy(self.app)
        yield Header()
        yield Static(id="due-tabs")
        yield TimelineList(store, self._count_follow_ups, self._page_follow_ups,
                           show_customer=True, empty=tr("due.none"), id="due-follow-ups")
        yield VerifyList(self.policy, lambda: verify.count_due(store, self.policy),
                         lambda offset, limit: verify.due_for_verification(
                             store, self.policy, offset=offset, limit=limit),
                         empty=tr("due.none_to_verify"), id="due-verify", classes="hidden",
                         load_on_mount=self.mode == "verification")
        yield Static(id="due-status")
        yield KehuFooter()

    def on_mount(self) -> None:
        self.verify_count = None
        self.action_mode(self.mode)
        if self.mode != "verification":
            self.count_verification()

    @property
    def current_customer_id(self) -> int | None:
        row = self.active_list().current
        if row is None:
            return None
        return row.id if self.mode == "verification" else row.customer_id

    def active_list(self) -> PagedList:
        return self.query_one("#due-verify" if self.mode == "verification" else "#due-follow-ups",
                              PagedList)

    def _count_follow_ups(self) -> int:
        return timeline.follow_up_counts(self.store)[self.mode] if self.mode in timeline.BUCKETS \
            else 0

    def _page_follow_ups(self, offset: int, limit: int) -> list:
        if self.mode not in timeline.BUCKETS:
            return []
        return timeline.follow_ups(self.store, self.mode, offset=offset, limit=limit)

    def count_verification(self) -> None:
        """Count who is due for verification off the UI thread (a full scan on a big
        database); the tab shows … until then."""
        self.verify_count = None

        def count() -> None:
            try:
                total = verify.count_due(self.store, self.policy)
            finally:
                self.store.db.close()  # this thread's connection only
            self.app.call_from_thread(self._counted, total)

        self.run_worker(count, thread=True, exclusive=True, group="due-count")

    def _counted(self, total: int) -> None:
        if self.mode != "verification":  # else the list's own count is newer
            self.verify_count = total
            self.update_tabs()

    def update_tabs(self) -> None:
        counts: dict[str, object] = dict(timeline.follow_up_counts(self.store))
        if self.mode == "verification":
            self.verify_count = self.query_one("#due-verify", PagedList).row_count
        counts["verification"] = "…" if self.verify_count is None else self.verify_count
        labels = {"overdue": tr("timeline.bucket.overdue"), "today": tr("timeline.bucket.today"),
                  "week": tr("timeline.bucket.week"), "verification": tr("due.verification")}
        text = Text()
        for number, mode in enumerate(MODES, 1):
            style = "reverse bold" if mode == self.mode else ""
            count = counts[mode]
            shown = f"{count:,}" if isinstance(count, int) else count
            text.append(f" {number} {labels[mode]} ({shown}) ", style)
            text.append(" ")
        self.query_one("#due-tabs", Static).update(text)

    def action_mode(self, mode: str) -> None:
        self.mode = mode
        follow, check = self.query_one("#due-follow-ups"), self.query_one("#due-verify")
        follow.set_class(mode == "verification", "hidden")
        check.set_class(mode != "verification", "hidden")
        if mode == "verification":
            check.reload()
            check.focus()
        else:
            follow.reload(keep_cursor=False)
            follow.focus()
        self.update_tabs()

    def on_screen_resume(self) -> None:
        self.active_list().reload()
        if self.mode != "verification":
            self.count_verification()
        self.update_tabs()

    def action_done(self) -> None:
        if self.mode == "verification":
            return
        row = self.active_list().current
        if row is None:
            return
        timeline.mark_follow_up_done(self.store, row.id)
        self.active_list().reload()
        self.update_tabs()
        self.query_one("#due-status", Static).update(
            tr("due.marked_done", name=row.customer_name))

    def action_verify(self) -> None:
        customer_id = self.current_customer_id
        if customer_id is None:
            return
        kinds = verify.mark_verified(self.store, customer_id, policy=self.policy)
        name = self.store.get_customer(customer_id).name
        if self.mode == "verification":
            self.query_one("#due-verify", PagedList).reload()
        else:
            self.count_verification()
        self.update_tabs()
        self.query_one("#due-status", Static).update(
            tr("due.verified", name=name, kinds=", ".join(
                self.policy.get(k).label() for k in kinds)))

    def on_paged_list_chosen(self, event: PagedList.Chosen) -> None:
        event.stop()
        customer_id = self.current_customer_id
        if customer_id is None:
            return
        if self.mode == "verification":
            from .chain import ChainScreen

            self.app.push_screen(ChainScreen(customer_id))
        else:
            from .timeline import TimelineScreen

            self.app.push_screen(TimelineScreen(customer_id))

    def action_close(self) -> None:
        self.dismiss()
