"""A picker's list that filters as you type (issue 17: 40+ fields to arrow through).

``FilterList`` is an ``OptionList`` that keeps the focus: letters typed go into
its filter (shown on the line above it, ``FilterLine``), Backspace takes one
back, and the entries are re-ranked at once — the best match first:

1. a name that is the typed text, then one that starts with it (every name of
   an entry counts: zh and en labels, key, aliases);
2. a Chinese name whose pinyin initials (``dh`` → 电话) or full reading
   (``dianhua``) start with it; then a name that contains it, then pinyin anywhere;
3. close spellings (rapidfuzz), last.

Keys the screen binds (Space, ``[``, ``]``, ``-``, ``+`` in the column chooser)
stay bindings; every other printable character is filter text, so ``q`` is typed
here too (Esc leaves a picker).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from textual import events
from textual.widgets import Static
from textual.widgets.option_list import Option

from kehu.models import search
from kehu.models.i18n import tr
from kehu.tui.widgets.keyed import OptionList


@dataclass
class Entry:
    """One choice: its option id, what the list shows, the names it is found by."""
    id: str
    prompt: str
    names: list[str] = field(default_factory=list)


def _readings(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of the Chinese in ``name`` ('' when there is none)."""
    words = search.pinyin_words(name)
    return (words[1], words[0]) if words else ("", "")


def score(typed: str, names: list[str]) -> float | None:
    """How well ``typed`` matches an entry named ``names`` (higher is better; None: no match)."""
    typed = search.normalise(typed).strip()
    if not typed:
        return 0.0
    best = None
    for raw in names:
        name = search.normalise(raw)
        if not name:
            continue
        if name == typed:
            points = 100.0
        elif name.startswith(typed):
            points = 90.0
        else:
            initials, full = _readings(raw)
            if initials.startswith(typed) or full.startswith(typed):
                points = 85.0   # dh → 电话 before a name that merely contains 'dh'
            elif typed in name:
                points = 80.0
            elif typed in initials or typed in full:
                points = 60.0
            else:
                points = _fuzzy(typed, name)
        if points is not None and (best is None or points > best):
            best = points
    return best


def _fuzzy(typed: str, name: str) -> float | None:
    if len(typed) < 3:
        return None
    from rapidfuzz import fuzz

    ratio = fuzz.partial_ratio(typed, name)
    return ratio * 0.4 if ratio >= 80 else None


def rank(typed: str, entries: list[Entry]) -> list[Entry]:
    """The entries ``typed`` matches, best first (ties keep their order)."""
    scored = [(score(typed, e.names or [e.prompt]), i, e) for i, e in enumerate(entries)]
    return [e for s, i, e in sorted((t for t in scored if t[0] is not None),
                                    key=lambda t: (-t[0], t[1]))]


class FilterLine(Static):
    """The line above a ``FilterList``: what is typed, or how to filter."""

    DEFAULT_CSS = """
    FilterLine { color: $text-muted; height: 1; }
    FilterLine.-typed { color: $text; text-style: bold; }
    """

    def show(self, typed: str, shown: int, total: int) -> None:
        self.set_class(bool(typed), "-typed")
        self.update(tr("page.filter_typed", typed=typed, shown=shown, total=total) if typed
                    else tr("page.filter_hint"))


class FilterList(OptionList):
    """An option list over ``entries`` that filters as you type (see the module)."""

    def __init__(self, entries: list[Entry], *, line: FilterLine | None = None, **kwargs):
        super().__init__(**kwargs)
        self.entries = list(entries)
        self.typed = ""
        self.line = line

    def on_mount(self) -> None:
        self._fill()

    # -- the entries -------------------------------------------------------
    def set_entries(self, entries: list[Entry], highlight: str | None = None) -> None:
        """New entries (the filter stays); ``highlight`` the option with that id."""
        self.entries = list(entries)
        self._fill(highlight)

    def _fill(self, highlight: str | None = None) -> None:
        shown = rank(self.typed, self.entries)
        self.clear_options()
        self.add_options([Option(e.prompt, id=e.id) for e in shown])
        if shown:
            ids = [e.id for e in shown]
            self.highlighted = ids.index(highlight) if highlight in ids else 0
        if self.line is not None:
            self.line.show(self.typed, len(shown), len(self.entries))

    def highlight_id(self, option_id: str) -> None:
        try:
            self.highlighted = self.get_option_index(option_id)
        except Exception:  # noqa: BLE001 - filtered out: the first stays highlighted
            pass

    @property
    def highlighted_id(self) -> str | None:
        if self.highlighted is None or not self.option_count:
            return None
        return self.get_option_at_index(self.highlighted).id

    # -- typing ----------------------------------------------------------------
    def _bound(self, key: str) -> bool:
        """A binding of this list or of the screen above it takes ``key``."""
        for node in self.ancestors_with_self:   # (not the screen's binding chain: that
            if node is self.app:                # asks this method which keys are typed)
                return False
            if key in node._bindings.key_to_bindings:
                return True
        return False

    def check_consume_key(self, key: str, character: str | None) -> bool:
        if key == "backspace":
            return bool(self.typed)
        if key.startswith(("alt+", "ctrl+", "super+", "meta+", "hyper+")):
            return False   # Esc then a letter, sent fast, arrives as alt+letter: not text
        return bool(character) and character.isprintable() and not self._bound(key)

    async def on_key(self, event: events.Key) -> None:
        if event.key == "backspace" and self.typed:
            self.typed = self.typed[:-1]
        elif event.character and self.check_consume_key(event.key, event.character):
            self.typed += event.character
        else:
            return
        event.stop()
        event.prevent_default()
        self._fill()
