"""The customer page's side (issue 17): the latest dealings and the decision chain
beside the fields, when the terminal is wide enough (``DetailScreen`` decides).

Both read through the same model functions as their own screens (F7 timeline,
F6 chain), so a contact's phone is masked exactly as the chain screen masks it
(``chain.contact_tree`` → ``chain.shown``). The side is read-only: Enter on the
fields' screen is still editing; F6/F7 open the full screens.
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kehu.models import chain, timeline
from kehu.models.i18n import tr
from kehu.models.validate import MASK, format_phone

#: Latest timeline entries shown beside the fields.
LATEST_ENTRIES = 6
#: Contacts shown (a big organisation's chain goes on in F6).
MOST_CONTACTS = 12
#: Terminal widths: the side from PAGE_WIDE columns, two columns of fields when
#: the form itself has TWO_COLUMNS cells.
PAGE_WIDE = 120
SIDE_WIDTH = 46
TWO_COLUMNS = 96


def layout_for(width: int) -> tuple[bool, bool]:
    """(side shown, two columns of fields) for a screen ``width`` cells wide."""
    wide = width >= PAGE_WIDE
    form = width - (SIDE_WIDTH if wide else 0)
    return wide, form >= TWO_COLUMNS


def entry_lines(store, customer_id: int, limit: int = LATEST_ENTRIES) -> list[Text]:
    """The customer's latest entries, newest first: 'icon 11-20 Call  summary ¥amount'."""
    lines = []
    for entry in timeline.entries(store, customer_id, limit=limit):
        item = store.schema.list_item("interaction_kinds", entry.kind)
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{item.icon if item else '·'} ")
        text.append(f"{entry.occurred_at:%Y-%m-%d}  ", Style(dim=True))
        text.append((item.label() if item else entry.kind) + "  ", Style(bold=True))
        contact = getattr(entry, "contact_name", None)
        if contact:
            text.append(f"@{contact} ")
        text.append((entry.summary or "").replace("\n", " "))
        if entry.amount is not None:
            text.append(f"  ¥{entry.amount:,.2f}")
        lines.append(text)
    return lines


def contact_lines(store, customer_id: int, limit: int = MOST_CONTACTS) -> list[Text]:
    """The decision chain as indented lines: '⚑ name  title  role  phone' (masked as F6)."""
    schema = store.schema
    lines = []
    for root in chain.contact_tree(store, customer_id):
        for node in root.walk():
            contact = node.contact
            text = Text("  " * node.depth, no_wrap=True, overflow="ellipsis")
            text.append("⚑ " if contact.key_person else "· ")
            text.append(contact.name or "", Style(bold=bool(contact.key_person)))
            if contact.title:
                text.append(f"  {contact.title}", Style(dim=True))
            role = schema.list_item("decision_roles", contact.role) if contact.role else None
            if role:
                text.append(f"  {role.icon} {role.label()}".rstrip())
            phone = getattr(contact, "phone", None)
            if phone:   # as the chain screen shows it; a masked one stays masked
                text.append(f"  {phone if MASK in phone else format_phone(phone)}",
                            Style(dim=True))
            lines.append(text)
    if len(lines) > limit:
        more = Text(tr("page.more_contacts", count=len(lines) - limit), style=Style(dim=True))
        lines = [*lines[:limit], more]
    return lines


class PageSide(VerticalScroll, can_focus=False):
    """Latest dealings, then the decision chain, of one customer."""

    DEFAULT_CSS = """
    PageSide { width: 46; height: 1fr; padding: 0 1; border-left: vkey $panel-lighten-2; }
    PageSide > .page-head { text-style: bold; color: $accent; background: $boost; padding: 0 1; }
    PageSide > .page-lines { height: auto; margin-bottom: 1; text-wrap: nowrap;
                             text-overflow: ellipsis; }
    PageSide > .page-empty { color: $text-muted; text-style: italic; }
    """

    def __init__(self, store, customer_id: int, *, id: str | None = None):
        super().__init__(id=id)
        self.store, self.customer_id = store, customer_id

    def compose(self) -> ComposeResult:
        yield Static(tr("page.latest", key="F7"), classes="page-head", id="page-latest-head")
        yield Static(id="page-latest", classes="page-lines")
        yield Static(tr("page.chain", key="F6"), classes="page-head", id="page-chain-head")
        yield Static(id="page-chain", classes="page-lines")

    def on_mount(self) -> None:
        self.reload()

    def reload(self) -> None:
        """Read both again (after the timeline or the chain changed)."""
        for selector, lines, empty in (
                ("#page-latest", entry_lines(self.store, self.customer_id), "page.no_entries"),
                ("#page-chain", contact_lines(self.store, self.customer_id), "page.no_contacts")):
            static = self.query_one(selector, Static)
            static.set_class(not lines, "page-empty")
            text = Text("\n").join(lines) if lines else Text(tr(empty))
            text.no_wrap, text.overflow = True, "ellipsis"   # one line each, cut with …
            static.update(text)

    def text(self) -> str:
        """What the side shows, as plain text (tests, copying)."""
        return "\n".join(str(s.render()) for s in self.query(Static))
