"""The customer page's "Other columns from import" block (issue 16): the columns of an
imported file that no field took (``customer.extra``, models/import_read.py), shown at
the end of the form, below the fields, read-only. Nothing when the customer has none
or the user's role may not read them."""
from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from kehu.models import import_read
from kehu.models.i18n import tr


def extra_text(items: list[tuple[str, str]]) -> Text:
    """The heading, then one ``column: text`` line per kept column."""
    text = Text(tr("import_read.extra_title"), style="bold")
    for column, value in items:
        text.append("\n")
        text.append(f"{column}: ", style="bold")
        text.append(value)
    return text


def mount_extra(screen) -> None:
    """Add the block to a customer page's form (a new customer has none): one widget, the
    whole width of the form (two columns of fields on a wide terminal)."""
    record = getattr(screen, "record", None)
    if not record:
        return
    items = import_read.extra_for(screen.store, record["id"])
    if not items:
        return
    block = Static(extra_text(items), id="import-extra")
    block.styles.column_span = 2
    block.styles.margin = (1, 0, 0, 0)
    block.styles.padding = (0, 1)
    block.styles.border_top = ("solid", "gray")
    screen.form.mount(block)
