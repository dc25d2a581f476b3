"""The decision chain (决策链) of one customer as a tree, edited by keys.

The tree's root is the customer; under it each contact sits below the person
they report to. ``a`` adds a contact under the selected node, ``e`` edits,
``m`` picks a contact up and ``m`` again on the new manager puts it down (on
the customer: top level); a move that would make a loop is refused with the
reason. ``k`` marks a key person, ``d`` deletes (``u`` brings it back),
``v`` records that the contact was verified, Enter opens the contact's
timeline entries and ``t`` the whole timeline.

Colours come from the theme through component classes (supporter → $success,
neutral → $warning, opponent → $error, key person → $accent).
"""
from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Static, Tree
from textual.widgets.tree import TreeNode

from kehu.models import chain, timeline
from kehu.models.i18n import tr
from kehu.models.store import NotFound
from kehu.models.validate import MASK, format_phone

from .entry_forms import FormModal, contact_fields
from kehu.tui.widgets.footer import KehuFooter

STANCE_CLASS = {"supporter": "chain--supporter", "neutral": "chain--neutral",
                "opponent": "chain--opponent"}


class ChainTree(Tree):
    """A Tree of contacts whose every key binding has an id (remappable)."""

    inherit_bindings = False
    BINDINGS = [
        Binding("up", "cursor_up", show=False, id="chain.cursor_up"),
        Binding("down", "cursor_down", show=False, id="chain.cursor_down"),
        Binding("shift+left", "cursor_parent", show=False, id="chain.cursor_parent"),
        Binding("shift+right", "cursor_parent_next_sibling", show=False,
                id="chain.cursor_parent_next_sibling"),
        Binding("shift+up", "cursor_previous_sibling", show=False,
                id="chain.cursor_previous_sibling"),
        Binding("shift+down", "cursor_next_sibling", show=False, id="chain.cursor_next_sibling"),
        Binding("pageup", "page_up", show=False, id="chain.page_up"),
        Binding("pagedown", "page_down", show=False, id="chain.page_down"),
        Binding("home", "cursor_first", show=False, id="chain.first"),
        Binding("end", "cursor_last", show=False, id="chain.last"),
        Binding("enter", "select_cursor", tr("chain.open"), id="chain.open"),
        Binding("space", "toggle_node", show=False, id="chain.toggle"),
        Binding("shift+space", "toggle_expand_all", show=False, id="chain.toggle_all"),
    ]
    COMPONENT_CLASSES = Tree.COMPONENT_CLASSES | {
        "chain--supporter", "chain--neutral", "chain--opponent", "chain--key",
        "chain--muted", "chain--moving", "chain--customer"}
    DEFAULT_CSS = """
    ChainTree > .chain--supporter { color: $success; }
    ChainTree > .chain--neutral { color: $warning; }
    ChainTree > .chain--opponent { color: $error; text-style: bold; }
    ChainTree > .chain--key { color: $accent; text-style: bold; }
    ChainTree > .chain--muted { color: $text-muted; }
    ChainTree > .chain--moving { background: $warning 40%; }
    ChainTree > .chain--customer { text-style: bold; }
    """

    def __init__(self, store, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.store = store
        self.moving_id: int | None = None
        self.auto_expand = False

    def action_cursor_first(self) -> None:
        self.cursor_line = 0

    def action_cursor_last(self) -> None:
        self.cursor_line = self.last_line

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(name, partial=True)

    def render_label(self, node: TreeNode, base_style: Style, style: Style) -> Text:
        contact = node.data
        if contact is None:  # the customer
            text = Text(str(node.label), style=self._style("chain--customer"))
            text.stylize(style)
            return text
        schema = self.store.schema
        text = Text()
        if contact.key_person:
            text.append("⚑ ", self._style("chain--key"))
        text.append(contact.name, self._style("chain--key") if contact.key_person else Style())
        if contact.title:
            text.append(f"  {contact.title}", self._style("chain--muted"))
        role = schema.list_item("decision_roles", contact.role) if contact.role else None
        if role:
            text.append(f"  {role.icon} {role.label()}".rstrip())
        stance = schema.list_item("stances", contact.stance) if contact.stance else None
        if stance:
            text.append(f"  {stance.icon}{stance.label()}", self._style(STANCE_CLASS.get(
                stance.value, "chain--muted")))
        text.stylize(style)
        if contact.id == self.moving_id:
            text.stylize(self._style("chain--moving"))
        return text


class ChainScreen(Screen):
    BINDINGS = [
        Binding("a", "add_child", tr("chain.add_child"), id="chain.add_child"),
        Binding("e", "edit", tr("chain.edit"), id="chain.edit"),
        Binding("m", "move", tr("chain.move"), id="chain.move"),
        Binding("k", "key_person", tr("chain.key_person"), id="chain.key_person"),
        Binding("d,delete", "delete", tr("chain.delete"), id="chain.delete"),
        Binding("u", "undo_delete", tr("chain.undo_delete"), id="chain.undo_delete",
                show=False),
        Binding("v", "verify", tr("chain.verify"), id="chain.verify"),
        Binding("t", "timeline", tr("chain.timeline"), id="chain.timeline"),
        Binding("escape", "close", tr("chain.close"), id="chain.close"),
    ]
    DEFAULT_CSS = """
    ChainScreen #chain-head { height: auto; padding: 0 1; }
    ChainScreen #chain-warnings { height: auto; padding: 0 1; color: $warning; }
    ChainScreen ChainTree { width: 3fr; }
    ChainScreen #chain-side { width: 2fr; border-left: solid $primary; padding: 0 1; }
    ChainScreen #chain-status { height: auto; padding: 0 1; color: $text-muted; }
    """

    def __init__(self, customer_id: int):
        super().__init__()
        self.customer_id = customer_id
        self.last_deleted: int | None = None

    @property
    def store(self):
        return self.app.store

    @property
    def current_customer_id(self) -> int:
        return self.customer_id

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="chain-head")
        yield Static(id="chain-warnings")
        with Horizontal():
            yield ChainTree(self.app.store, "", id="chain-tree")
            with Vertical(id="chain-side"):
                yield Static(id="chain-contact")
        yield Static(id="chain-status")
        yield KehuFooter()

    def on_mount(self) -> None:
        self.rebuild()
        self.query_one(ChainTree).focus()

    # -- drawing ---------------------------------------------------------
    @property
    def tree(self) -> ChainTree:
        return self.query_one(ChainTree)

    def rebuild(self, select_id: int | None = None) -> None:
        """Draw the tree again from the database and put the cursor on ``select_id``."""
        customer = self.store.get_customer(self.customer_id)
        tree = self.tree
        if select_id is None and tree.cursor_node is not None and tree.cursor_node.data:
            select_id = tree.cursor_node.data.id
        tree.clear()
        tree.root.set_label(customer.name)
        tree.root.data = None
        nodes: dict[int, TreeNode] = {}

        def add(parent: TreeNode, item: chain.ContactNode) -> None:
            node = parent.add(item.contact.name, data=item.contact, expand=True,
                              allow_expand=bool(item.children))
            nodes[item.id] = node
            for child in item.children:
                add(node, child)

        forest = chain.contact_tree(self.store, self.customer_id)
        for root in forest:
            add(tree.root, root)
        tree.root.expand()
        self.node_by_id = nodes
        self.query_one("#chain-head", Static).update(
            tr("chain.head", name=customer.name, count=len(nodes)))
        warnings = chain.chain_warnings(self.store, self.customer_id, self.app_policy())
        self.query_one("#chain-warnings", Static).update(
            "\n".join(f"⚠ {w.message}" for w in warnings))
        target = nodes.get(select_id) if select_id is not None else None
        self.call_after_refresh(self._move_cursor, target)

    def _move_cursor(self, node: TreeNode | None) -> None:
        tree = self.tree
        tree.move_cursor(node or tree.root, animate=False)
        self.show_contact()

    def app_policy(self):
        from .due import app_policy

        return app_policy(self.app)

    def selected(self):
        node = self.tree.cursor_node
        return node.data if node is not None else None

    def status(self, text: str) -> None:
        self.query_one("#chain-status", Static).update(text)

    def show_contact(self) -> None:
        panel = self.query_one("#chain-contact", Static)
        contact = self.selected()
        if contact is None:
            panel.update(tr("chain.side_customer"))
            return
        lines = [f"[b]{contact.name}[/b]"]
        for key in ("title", "department"):
            if getattr(contact, key):
                lines.append(f"{tr('chain.field.' + key)}: {getattr(contact, key)}")
        if contact.phone:
            phone = contact.phone if MASK in contact.phone else format_phone(contact.phone)
            lines.append(f"{tr('chain.field.phone')}: {phone}")
        if contact.email:
            lines.append(f"{tr('chain.field.email')}: {contact.email}")
        verified = contact.verified_at.strftime("%Y-%m-%d") if contact.verified_at else "—"
        lines.append(tr("chain.verified_on", date=verified))
        recent = timeline.entries(self.store, self.customer_id, contact_id=contact.id, limit=5)
        lines.append("")
        lines.append(tr("chain.recent", count=timeline.count_entries(
            self.store, self.customer_id, contact_id=contact.id)))
        for entry in recent:
            item = self.store.schema.list_item("interaction_kinds", entry.kind)
            icon = item.icon if item else ""
            lines.append(f"{icon} {entry.occurred_at:%Y-%m-%d} {entry.summary or ''}")
        panel.update("\n".join(lines))

    def on_tree_node_highlighted(self, event: Tree.NodeHighlighted) -> None:
        self.show_contact()

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if self.tree.moving_id is not None:
            self.action_move()
            return
        contact = event.node.data
        from .timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.customer_id,
                                            contact_id=contact.id if contact else None))

    # -- actions -------------------------------------------------------------
    def action_add_child(self) -> None:
        parent = self.selected()
        title = tr("chain.add_under", name=parent.name) if parent else tr("chain.add_top")

        def save(values):
            return chain.add_contact(self.store, self.customer_id,
                                     parent.id if parent else None, **values)

        self.app.push_screen(FormModal(title, contact_fields(self.store), save),
                             self._after_save)

    def action_edit(self) -> None:
        contact = self.selected()
        if contact is None:
            self.notify(tr("chain.pick_contact"), severity="warning")
            return

        def save(values):
            return chain.update_contact(self.store, contact.id, **values)

        self.app.push_screen(FormModal(tr("chain.edit_title", name=contact.name),
                                       contact_fields(self.store, contact), save),
                             self._after_save)

    def _after_save(self, contact) -> None:
        if contact is not None:
            self.rebuild(select_id=contact.id)
            self.status(tr("chain.saved", name=contact.name))

    def action_move(self) -> None:
        tree = self.tree
        contact = self.selected()
        if tree.moving_id is None:
            if contact is None:
                self.notify(tr("chain.pick_contact"), severity="warning")
                return
            tree.moving_id = contact.id
            tree.moving_name = contact.name
            tree.refresh()
            self.status(tr("chain.moving", name=contact.name))
            return
        moving, tree.moving_id = tree.moving_id, None
        try:
            moved = chain.move_contact(self.store, moving, contact.id if contact else None)
        except (chain.ChainError, NotFound) as exc:
            self.notify(str(exc), severity="error", timeout=8)
            self.status(str(exc))
            tree.refresh()
            return
        self.rebuild(select_id=moved.id)
        self.status(tr("chain.moved", name=moved.name,
                       target=contact.name if contact else tr("chain.top_level")))

    def action_key_person(self) -> None:
        contact = self.selected()
        if contact is None:
            self.notify(tr("chain.pick_contact"), severity="warning")
            return
        changed = chain.set_key_person(self.store, contact.id)
        self.rebuild(select_id=changed.id)
        self.status(tr("chain.key_on" if changed.key_person else "chain.key_off",
                       name=changed.name))

    def action_delete(self) -> None:
        contact = self.selected()
        if contact is None:
            self.notify(tr("chain.pick_contact"), severity="warning")
            return
        parent = contact.reports_to_id
        chain.delete_contact(self.store, contact.id)
        self.last_deleted = contact.id
        self.rebuild(select_id=parent)
        self.status(tr("chain.deleted", name=contact.name))

    def action_undo_delete(self) -> None:
        if self.last_deleted is None:
            return
        restored = chain.restore_contact(self.store, self.last_deleted)
        self.last_deleted = None
        self.rebuild(select_id=restored.id)
        self.status(tr("chain.restored", name=restored.name))

    def action_verify(self) -> None:
        contact = self.selected()
        if contact is None:
            self.notify(tr("chain.pick_contact"), severity="warning")
            return
        chain.mark_contact_verified(self.store, contact.id)
        self.rebuild(select_id=contact.id)
        self.status(tr("chain.verified", name=contact.name))

    def action_timeline(self) -> None:
        from .timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.customer_id))

    def action_close(self) -> None:
        if self.tree.moving_id is not None:
            self.tree.moving_id = None
            self.tree.refresh()
            self.status(tr("chain.move_cancelled"))
            return
        self.dismiss()
