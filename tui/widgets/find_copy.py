"""Copying what is shown (``y``) and finding the search's words in what is shown (``n``/``N``).

* ``copy_shown(app, text, what)`` puts ``text`` on the clipboard with OSC 52
  (Textual's ``App.copy_to_clipboard``: it reaches the user's own clipboard over
  SSH) and says what was copied. The text is always what the screen shows — a
  masked value is copied masked, never the value behind it.
* ``match_spans(text, words)`` finds the typed words of a search in one shown
  cell: as letters (case and full-width folded), as digits whatever the spaces
  and dashes between them (``15535631682`` in ``155 3563 1682``), and as pinyin:
  the characters whose reading the word starts (``zs`` → 张三, ``xingchen`` → 星辰;
  initials count from the start of a run of hanzi, as the index stores them).
  So the highlighted characters are the ones that matched, also for pinyin.
"""
from __future__ import annotations

import re

from rich.segment import Segment
from rich.style import Style

from kehu.models import search
from kehu.models.i18n import tr

#: A copied text longer than this is named by its start in the notification.
SHOWN_CHARS = 40


def copy_shown(app, text: str, what: str) -> None:
    """Copy ``text`` (as shown) and say so: '"155 3563 1682" (Mobile) copied'."""
    app.copy_to_clipboard(text)
    short = text if len(text) <= SHOWN_CHARS else text[:SHOWN_CHARS - 1] + "…"
    if not text:
        app.notify(tr("page.copied_empty", what=what), severity="warning")
        return
    app.notify(tr("page.copied", text=short.replace("\t", " · "), what=what))


def search_words(query) -> list[str]:
    """The positive words of a parsed query (``models.query.Query``), folded as the
    index folds them; a phone written in groups counts as its digits."""
    words: list[str] = []
    for term in query.terms:
        if term.negated:
            continue
        words += search.query_terms(term.text)
    return [w for w in dict.fromkeys(words) if w]


def _digit_spans(text: str, word: str) -> list[tuple[int, int]]:
    positions = [i for i, ch in enumerate(text) if ch.isdigit()]
    digits = "".join(text[i] for i in positions)
    out = []
    start = digits.find(word)
    while start >= 0:
        out.append((positions[start], positions[start + len(word) - 1] + 1))
        start = digits.find(word, start + 1)
    return out


def _pinyin_spans(text: str, word: str) -> list[tuple[int, int]]:
    out = []
    for run in re.finditer(f"[{search.CJK_CLASS}]+", text):
        syllables = list(search.run_pinyin(run.group()))
        if len(syllables) != len(run.group()):
            continue
        initials = "".join(s[:1] for s in syllables)
        if len(word) > 1 and initials.startswith(word):
            out.append((run.start(), run.start() + len(word)))
            continue
        for i in range(len(syllables)):
            joined, j = "", i
            while j < len(syllables) and len(joined) < len(word):
                joined += syllables[j]
                j += 1
            if joined.startswith(word):
                out.append((run.start() + i, run.start() + j))
                break
    return out


def match_spans(text: str, words: list[str]) -> list[tuple[int, int]]:
    """(start, end) character spans of ``text`` that the ``words`` match, merged."""
    if not text or not words:
        return []
    folded = search.normalise(text)
    if len(folded) != len(text):   # folding changed the length: mark the whole cell
        return [(0, len(text))] if any(w in folded for w in words) else []
    spans: list[tuple[int, int]] = []
    for word in words:
        found = [(m.start(), m.end()) for m in re.finditer(re.escape(word), folded)]
        if not found and word.isdigit():
            found = _digit_spans(folded, word)
        if not found and word.isascii() and word.isalpha():
            found = _pinyin_spans(text, word)
        spans += found
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight_segments(text: str, spans: list[tuple[int, int]], base: Style,
                       marked: Style) -> list[Segment]:
    """``text`` as segments, the ``spans`` in ``marked`` over ``base``."""
    segments, at = [], 0
    for start, end in spans:
        if start > at:
            segments.append(Segment(text[at:start], base))
        segments.append(Segment(text[start:end], base + marked))
        at = end
    if at < len(text):
        segments.append(Segment(text[at:], base))
    return segments


# -- the workbench's keys (WorkbenchScreen binds them and calls these) ----------

#: n/N look this many rows ahead (or back) for the next cell showing a match.
FIND_ROWS = 2000


def find_words_for(store, text: str) -> list[str]:
    """The words to mark for the search box's ``text`` ([] when it does not parse)."""
    from kehu.models.query import QueryError, parse

    try:
        return search_words(parse(store.schema, text, user=store.user))
    except QueryError:
        return []


def copy_cell(table, app) -> None:
    """``y``: the cursor cell, as shown."""
    row = table.row_now(table.cursor_row)
    if row is None or not table.columns:
        app.notify(tr("page.nothing_to_copy"), severity="warning")
        return
    column = table.columns[min(table.cursor_column, len(table.columns) - 1)]
    copy_shown(app, table.cell_text(row, column), column.spec.label())


def copy_row(table, app) -> None:
    """``Y``: the cursor row's cells as shown, tab-separated (pastes into a sheet's cells)."""
    row = table.row_now(table.cursor_row)
    if row is None or not table.columns:
        app.notify(tr("page.nothing_to_copy"), severity="warning")
        return
    text = "\t".join(table.cell_text(row, c) for c in table.columns)
    copy_shown(app, text, tr("page.the_row", name=row.get("name") or row["id"]))


def find_next(table, app, step: int) -> bool:
    """``n`` (step 1) / ``N`` (-1): the cell cursor to the next cell, row by row, that
    shows a word of the search; False (and said) when there is none within reach."""
    words = table.find_words
    if not words:
        app.notify(tr("page.find_no_search"), severity="warning")
        return False
    columns = table.columns
    row_no, col = table.cursor_row, min(table.cursor_column, len(columns) - 1)
    last = table.display_rows - 1
    for _ in range(FIND_ROWS):
        col += step
        if not 0 <= col < len(columns):
            row_no += step
            if not 0 <= row_no <= last:
                break
            col = 0 if step > 0 else len(columns) - 1
        row = table.row_now(row_no)
        while row is not None and 0 <= col < len(columns):
            if match_spans(table.cell_text(row, columns[col]), words):
                table.cursor_column = col
                table.move_cursor(row_no)
                table.show_cursor_column()
                return True
            col += step
        col = len(columns) if step > 0 else -1
    app.notify(tr("page.find_none_below" if step > 0 else "page.find_none_above",
                  words=" ".join(words)), severity="warning")
    return False
