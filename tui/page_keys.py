"""``q`` leaves a screen, as in every pager-like tool (issue 17).

On every screen pushed over the workbench, ``q`` does what Escape does there
(close, cancel, back — with the same questions: unsaved changes are asked
about). Where ``q`` is a character (a search box, a form's fields) the field
takes it first, so it is typed. A screen with its own ``q`` keeps it (the
reports' quarter report; Esc leaves there).

On the workbench itself ``q`` does nothing but say that Ctrl+Q quits: a stray
``q`` never ends the session (and never asks a question the user did not mean).
"""
from __future__ import annotations

from textual.actions import SkipAction

from kehu.models.i18n import tr


def q_is_taken(app) -> bool:
    """The focused widget types ``q``, or the screen has a ``q`` of its own."""
    focused = app.focused
    if focused is not None and focused.check_consume_key("q", "q"):
        return True
    return any(node is not app and "q" in bindings.key_to_bindings
               for node, bindings in app.screen._modal_binding_chain)


async def leave_screen(app) -> None:
    """``q``: Escape on a pushed screen; a hint on the workbench at the bottom.
    Bound with priority (a dialog's bindings hide the app's ordinary ones), so
    where ``q`` is taken it steps aside (``SkipAction``) and the key goes on."""
    if q_is_taken(app):
        raise SkipAction()
    if len(app.screen_stack) <= 2:   # the default screen, then the workbench
        app.notify(tr("page.q_on_workbench"))
        return
    if not await app._check_bindings("escape", priority=True):
        await app._check_bindings("escape")
