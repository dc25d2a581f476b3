"""The timeline (来往大事记) of one customer: every dealing, newest first.

The list is a ``PagedList``: it counts the entries and fetches only the pages
on screen, so ten thousand entries open at once. ``a`` adds an entry, ``e`` or
Enter edits, ``d`` deletes (``u`` brings it back), ``f`` filters by kind,
``x`` marks the follow-up of an entry done. Purchase totals follow every
change (the model layer keeps them).
"""
from __future__ import annotations

import datetime as dt

from rich.cells import cell_len, set_cell_size
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from kehu.models import automations, chain, timeline
from kehu.models.i18n import tr
from kehu.models.store import NotFound
from kehu.models.validate import MINUTES

from ..widgets.paged_list import PagedList
from .entry_forms import FormModal, PickModal, entry_fields
from kehu.tui.widgets.footer import KehuFooter

ALL = "__all__"


def kind_tone(item) -> str:
    """The theme colour of a kind: ``tone:`` in the kinds list, else success for
    kinds with an amount and accent for the rest."""
    if item is None:
        return "muted"
    return item.extra.get("tone") or ("success" if item.extra.get("has_amount") else "accent")


def money(value) -> str:
    return "" if value is None else f"¥{value:,.2f}"


class TimelineList(PagedList):
    COMPONENT_CLASSES = PagedList.COMPONENT_CLASSES | {
        "timeline--success", "timeline--accent", "timeline--warning", "timeline--error",
        "timeline--muted", "timeline--overdue"}
    DEFAULT_CSS = """
    TimelineList > .timeline--success { color: $success; }
    TimelineList > .timeline--accent { color: $accent; }
    TimelineList > .timeline--warning { color: $warning; }
    TimelineList > .timeline--error { color: $error; }
    TimelineList > .timeline--muted { color: $text-muted; }
    TimelineList > .timeline--overdue { color: $error; text-style: bold; }
    """

    def __init__(self, store, count, page, *, show_customer: bool = False, **kwargs):
        self.store = store
        self.show_customer = show_customer
        self.kind_width = max((cell_len(i.label()) for i in timeline.kind_items(store)),
                              default=4)
        super().__init__(count, page, self.render_entry, **kwargs)

    def style_of(self, tone: str) -> Style:
        return self.get_component_rich_style(f"timeline--{tone}", partial=True)

    def render_entry(self, entry, width: int) -> Text:
        item = self.store.schema.list_item("interaction_kinds", entry.kind)
        tone = self.style_of(kind_tone(item))
        text = Text()
        if self.show_customer:  # the due view: when, with whom, then what
            text.append(*self.follow_up(entry))
            text.append("  ")
            text.append(set_cell_size(getattr(entry, "customer_name", "") or "", 24) + "  ")
        text.append(f"{item.icon if item else '·'} ", tone)
        text.append(f"{entry.occurred_at:{MINUTES}}  ", self.style_of("muted"))
        label = item.label() if item else entry.kind
        text.append(label + " " * max(1, self.kind_width - cell_len(label) + 1), tone)
        text.append(f"{entry.user or ''}  ", self.style_of("muted"))
        contact = getattr(entry, "contact_name", None)
        if contact:
            text.append(f"@{contact}  ")
        text.append(entry.summary or "")
        if entry.amount is not None:
            text.append(f"  {money(entry.amount)}", self.style_of("success"))
        if getattr(entry, "score", None) is not None:   # a satisfaction score
            text.append(f"  ☺{entry.score:.1f}", self.style_of("success"))
        if entry.next_follow_up and not self.show_customer:
            text.append("  ")
            text.append(*self.follow_up(entry))
        return text

    def follow_up(self, entry) -> tuple[str, Style]:
        """'⏰2024-06-01' (red when overdue) or '✓2024-06-01' once done."""
        if entry.follow_up_done:
            return f"✓{entry.next_follow_up:%Y-%m-%d}", self.style_of("muted")
        late = entry.next_follow_up < dt.date.today()
        return (f"⏰{entry.next_follow_up:%Y-%m-%d}",
                self.style_of("overdue" if late else "warning"))


class TimelineScreen(Screen):
    BINDINGS = [
        Binding("a", "add", tr("timeline.add"), id="timeline.add"),
        Binding("e", "edit", tr("timeline.edit"), id="timeline.edit"),
        Binding("d,delete", "delete", tr("timeline.delete"), id="timeline.delete"),
        Binding("u", "undo_delete", tr("timeline.undo_delete"), id="timeline.undo_delete",
                show=False),
        Binding("f", "filter", tr("timeline.filter"), id="timeline.filter"),
        Binding("x", "follow_up_done", tr("timeline.follow_up_done"),
                id="timeline.follow_up_done"),
        Binding("c", "chain", tr("timeline.chain"), id="timeline.chain"),
        Binding("escape", "close", tr("timeline.close"), id="timeline.close"),
    ]
    DEFAULT_CSS = """
    TimelineScreen #timeline-head { height: auto; padding: 0 1; text-style: bold; }
    TimelineScreen #timeline-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, customer_id: int, *, contact_id: int | None = None,
                 kind: str | None = None):
        super().__init__()
        self.customer_id, self.contact_id = customer_id, contact_id
        self.kind_filter: str | None = kind
        self.last_deleted: int | None = None

    @property
    def store(self):
        return self.app.store

    @property
    def current_customer_id(self) -> int:
        return self.customer_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="timeline-head")
        yield TimelineList(self.app.store, self._count, self._page,
                           empty=tr("timeline.empty"), id="timeline-list")
        yield Static(id="timeline-status")
        yield KehuFooter()

    def on_mount(self) -> None:
        self.update_head()
        self.list.focus()

    @property
    def list(self) -> TimelineList:
        return self.query_one(TimelineList)

    def _kinds(self):
        return [self.kind_filter] if self.kind_filter else None

    def _count(self) -> int:
        return timeline.count_entries(self.store, self.customer_id, kinds=self._kinds(),
                                      contact_id=self.contact_id)

    def _page(self, offset: int, limit: int) -> list:
        return timeline.entries(self.store, self.customer_id, kinds=self._kinds(),
                                contact_id=self.contact_id, offset=offset, limit=limit)

    def update_head(self) -> None:
        customer = self.store.get_customer(self.customer_id)
        parts = [tr("timeline.head", name=customer.name, count=self.list.row_count)]
        if self.contact_id is not None:
            try:
                parts.append(tr("timeline.about", name=chain.get_contact(
                    self.store, self.contact_id, include_deleted=True).name))
            except NotFound:
                pass
        if self.kind_filter:
            item = self.store.schema.list_item("interaction_kinds", self.kind_filter)
            parts.append(tr("timeline.only", kind=item.label() if item else self.kind_filter))
        total = getattr(customer, "purchase_total", None)
        if total is not None:
            parts.append(tr("timeline.purchases", total=money(total)))
        self.query_one("#timeline-head", Static).update(" · ".join(parts))

    def refresh_list(self, select_id: int | None = None) -> None:
        self.list.reload()
        if select_id is not None:
            for index in range(min(self.list.row_count, 500)):
                row = self.list.row(index)
                if row is not None and row.id == select_id:
                    self.list.cursor = index
                    break
        self.update_head()

    def status(self, text: str) -> None:
        self.query_one("#timeline-status", Static).update(text)

    # -- actions -------------------------------------------------------------
    def open_form(self, entry=None, kind: str | None = None) -> None:
        fields = entry_fields(self.store, self.customer_id, entry,
                              kind=kind or self.kind_filter, contact_id=self.contact_id)

        def save(values):
            if entry is None:
                kind_value = values.pop("kind")
                return timeline.add_entry(self.store, self.customer_id, kind_value, **values)
            return timeline.update_entry(self.store, entry.id, **values)

        title = tr("timeline.edit_title") if entry else tr("timeline.add_title")
        self.app.push_screen(FormModal(title, fields, save), self._after_save)

    def _after_save(self, entry) -> None:
        if entry is not None:
            self.refresh_list(select_id=entry.id)
            # what automation rules did on this save, after the word that it was saved
            self.status("  ".join([tr("timeline.saved"), *automations.take_notes(self.store)]))

    def action_add(self) -> None:
        self.open_form()

    def action_edit(self) -> None:
        entry = self.list.current
        if entry is not None:
            self.open_form(timeline.get_entry(self.store, entry.id))

    def on_paged_list_chosen(self, event: PagedList.Chosen) -> None:
        event.stop()
        self.action_edit()

    def action_delete(self) -> None:
        entry = self.list.current
        if entry is None:
            return
        timeline.delete_entry(self.store, entry.id)
        self.last_deleted = entry.id
        self.refresh_list()
        self.status(tr("timeline.deleted", summary=entry.summary or entry.kind))

    def action_undo_delete(self) -> None:
        if self.last_deleted is None:
            return
        restored = timeline.restore_entry(self.store, self.last_deleted)
        self.last_deleted = None
        self.refresh_list(select_id=restored.id)
        self.status(tr("timeline.restored"))

    def action_filter(self) -> None:
        options = [(tr("timeline.all_kinds"), ALL)] + [
            (f"{i.icon} {i.label()}", i.value) for i in timeline.kind_items(self.store)]

        def chosen(value) -> None:
            if value is None:
                return
            self.kind_filter = None if value == ALL else value
            self.list.reload(keep_cursor=False)
            self.update_head()

        self.app.push_screen(PickModal(tr("timeline.filter_title"), options,
                                       self.kind_filter or ALL), chosen)

    def action_follow_up_done(self) -> None:
        entry = self.list.current
        if entry is None:
            return
        try:
            timeline.mark_follow_up_done(self.store, entry.id, not entry.follow_up_done)
        except timeline.TimelineError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.refresh_list(select_id=entry.id)

    def action_chain(self) -> None:
        from .chain import ChainScreen

        self.app.push_screen(ChainScreen(self.customer_id))

    def action_close(self) -> None:
        self.dismiss()

