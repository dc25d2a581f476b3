"""Textual's own widgets with binding ids, so keymaps can remap their keys.

Textual's ``Input``, ``DataTable``, ``Tree`` and ``OptionList`` declare their
bindings without ids, which a keymap cannot reach. These subclasses keep the
same names, keys and behaviour and give each action an id:
``input.home``, ``datatable.cursor_down``, ``tree.toggle_node``,
``list.cursor_down`` … Screens import them instead of Textual's::

    from kehu.tui.widgets.keyed import DataTable, Input, OptionList, Tree

CSS that says ``Input`` still matches them.
"""
from __future__ import annotations

from textual import widgets
from textual.binding import Binding

from kehu.models import i18n
from kehu.models.i18n import tr


def _slug(action: str) -> str:
    """``cursor_left(True)`` → ``cursor_left_select``; ``home`` → ``home``."""
    name, _, args = action.partition("(")
    return name + ("_select" if args.startswith("True") else "")


def keyed_bindings(widget: type, prefix: str) -> list[Binding]:
    """``widget``'s bindings, one per action, each with id ``prefix.action``.

    Every key of the original is kept, so nothing unnamed is left behind. The
    description is the catalogue's ``prefix.action`` message where there is
    one (translated), else Textual's English text.
    """
    by_action: dict[str, list[tuple[str, Binding]]] = {}
    for key, binding in widget._merged_bindings:
        by_action.setdefault(binding.action, []).append((key, binding))
    out = []
    for action, pairs in by_action.items():
        first = pairs[0][1]
        binding_id = f"{prefix}.{_slug(action)}"
        text = first.description
        for msg_id in (binding_id, f"keys.action.{_slug(action)}"):
            if msg_id in i18n._catalogue:  # noqa: SLF001
                text = tr(msg_id)
                break
        keys = ",".join(key for key, _ in pairs)
        out.append(Binding(keys, action, text, show=first.show, priority=first.priority,
                           tooltip=first.tooltip, system=first.system, id=binding_id))
    return out


def _register_catalogue() -> None:
    from pathlib import Path

    i18n.register_folder(Path(__file__).resolve().parent.parent)


_register_catalogue()


class Input(widgets.Input):
    BINDINGS = keyed_bindings(widgets.Input, "input")


class DataTable(widgets.DataTable):
    BINDINGS = keyed_bindings(widgets.DataTable, "datatable")


class Tree(widgets.Tree):
    BINDINGS = keyed_bindings(widgets.Tree, "tree")


class OptionList(widgets.OptionList):
    BINDINGS = keyed_bindings(widgets.OptionList, "list")

