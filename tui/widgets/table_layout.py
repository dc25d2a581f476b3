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


def layout(columns: list, width: int) -> list:
    """``columns`` (``customer_table.Column``, as the view wants them) laid out in
    ``width`` cells: the columns on screen first, in their order, with their widths;
    then those moved past the right edge, at the width they want."""
    if width <= 0 or not columns:
        return list(columns)
    shown = list(range(len(columns)))
    least = [narrowest(c) for c in columns]

    def needed(indexes) -> int:
        return sum(least[i] + 1 for i in indexes)

    by_rank = sorted(shown[1:], key=lambda i: rank(columns[i], i), reverse=True)
    while needed(shown) > width and by_rank:
        shown.remove(by_rank.pop(0))   # the one wanted least goes past the edge
    widths = {i: least[i] for i in shown}
    spare = width - needed(shown)
    # first back towards what each column wants (most wanted first) …
    for i in sorted(shown, key=lambda i: rank(columns[i], i)):
        step = min(spare, columns[i].width - widths[i])
        if step > 0:
            widths[i] += step
            spare -= step
    # … then the text columns share what is left, in proportion to their width
    growing = [i for i in shown if columns[i].spec.type in GROWS and not columns[i].fixed]
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
    away = [c for i, c in enumerate(columns) if i not in widths]
    return [replace(columns[i], width=widths[i]) for i in shown] + away
