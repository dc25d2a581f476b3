"""Column widths that follow the terminal (the customer table's layout).

The schema gives each table column the width it wants (``FieldSpec.display_width``;
a view may fix it). ``layout`` fits the columns into the cells there are:

* too narrow: text and choice columns give up cells down to their minimum (a
  name ``西安中科能源…``); if that is not enough, the columns wanted least
  (``table_layout.yaml``: dates before choices, phones and money last) move past
  the right edge, one → away — the first column, frozen, always stays;
* wide: what is left goes to the text columns (names and companies are not cut
  while cells stay empty), up to ``grow`` times their width.

A column whose width the user set in the column chooser keeps it.
"""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import yaml

#: types ranked for narrow terminals when table_layout.yaml does not name the field
TYPE_RANK = {"money": 0, "phone": 1, "text": 2, "choice": 3, "email": 4, "tags": 4,
             "integer": 5, "decimal": 5, "boolean": 6, "url": 6, "longtext": 7,
             "date": 8, "datetime": 8}
GROWS = ("text", "longtext", "email", "url", "tags")


@lru_cache(maxsize=1)
def settings() -> dict:
    with open(Path(__file__).with_name("table_layout.yaml"), encoding="utf-8") as fh:
        return yaml.safe_load(fh) or {}


def rank(column, index: int) -> tuple[int, int]:
    """Lower is kept longer: named in keep_first, then by type, then leftmost."""
    keep = settings().get("keep_first", [])
    if column.key in keep:
        return keep.index(column.key), index
    return len(keep) + TYPE_RANK.get(column.spec.type, 5), index


def narrowest(column) -> int:
    if column.fixed:
        return column.width
    least = settings().get("min_width", {}).get(column.spec.type)
    return min(column.width, least) if least else column.width


def wanted(column, seen: dict[str, int] | None) -> int:
    """The width a column asks for: the schema's, or for text and phones what the
    first page shows (a name of 18 cells, owners of 6), text up to ``grow`` times."""
    if column.fixed or not seen or column.key not in seen:
        return column.width
    if column.spec.type in GROWS:
        return max(min(seen[column.key], int(column.width * settings().get("grow", 2.5))), 4)
    if column.spec.type == "phone":
        return max(min(seen[column.key], column.width), 4)
    return column.width


def layout(columns: list, width: int, seen: dict[str, int] | None = None) -> list:
    """``columns`` (``customer_table.Column``, as the view wants them) laid out in
    ``width`` cells: the columns on screen first, in their order, with their widths;
    then those moved past the right edge, at the width they want. ``seen``: the
    widest cell (or title) of each column on the first page, when known."""
    if width <= 0 or not columns:
        return list(columns)
    shown = list(range(len(columns)))
    want = [wanted(c, seen) for c in columns]
    least = [min(narrowest(c), w) for c, w in zip(columns, want)]

    def needed(indexes) -> int:
        return sum(least[i] + 1 for i in indexes)

    by_rank = sorted(shown[1:], key=lambda i: rank(columns[i], i), reverse=True)
    while needed(shown) > width and by_rank:
        shown.remove(by_rank.pop(0))   # the one wanted least goes past the edge
    widths = {i: least[i] for i in shown}
    spare = width - needed(shown)
    # first back towards what each column wants: numbers and phones (a cut number
    # misleads), then the text columns a cell each in turn (a long name does not
    # take all a company needs), then choices (a label cut with … still reads) …
    def restore(indexes) -> None:
        nonlocal spare
        for i in sorted(indexes, key=lambda i: rank(columns[i], i)):
            step = min(spare, want[i] - widths[i])
            if step > 0:
                widths[i] += step
                spare -= step

    texts = [i for i in shown if columns[i].spec.type in GROWS]
    labels = [i for i in shown if columns[i].spec.type in ("choice", "boolean")]
    restore([i for i in shown if i not in texts and i not in labels])
    while spare > 0 and (short := [i for i in texts if widths[i] < want[i]]):
        for i in short[:spare]:
            widths[i] += 1
        spare -= len(short[:spare])
    restore(labels)
    if len(shown) < len(columns) and spare > 0:
        # columns are past the edge: the ones on screen fill it exactly (a sliver
        # of the next column is no use), the text columns first
        most = settings().get("grow", 2.5)
        while spare > 0 and (short := [i for i in texts
                                       if widths[i] < int(columns[i].width * most)]):
            for i in short[:spare]:
                widths[i] += 1
            spare -= len(short[:spare])
        widths[shown[-1]] += spare
        spare = 0
    # … then, the cells not known yet, the text columns share what is left
    growing = [i for i in shown if columns[i].spec.type in GROWS and not columns[i].fixed
               and not (seen and columns[i].key in seen)]
    most = settings().get("grow", 2.5)
    while spare > 0 and growing:
        room = {i: int(columns[i].width * most) - widths[i] for i in growing}
        growing = [i for i in growing if room[i] > 0]
        total = sum(columns[i].width for i in growing)
        if not total:
            break
        given = 0
        for i in growing:
            step = min(room[i], max(1, spare * columns[i].width // total), spare - given)
            widths[i] += step
            given += step
        spare -= given
        if not given:
            break
    away = [replace(c, width=want[i]) for i, c in enumerate(columns) if i not in widths]
    return [replace(columns[i], width=widths[i]) for i in shown] + away
