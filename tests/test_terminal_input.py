"""Esc followed by a key in one read (a fast typist, or SSH sending both in one
packet) is Esc, then the key — not an Alt chord that loses the Esc."""
from __future__ import annotations

import pytest

from kehu.tui.terminal_input import EscapeSplittingParser


def keys(data: str, split: bool = True) -> list[str]:
    EscapeSplittingParser.split_escape = split
    try:
        parser = EscapeSplittingParser()
        out = [getattr(e, "key", type(e).__name__) for e in parser.feed(data)]
        if parser._timeout_time is not None:   # what a lone ESC becomes once no more comes
            parser._timeout_time = 0.0
            out += [getattr(e, "key", type(e).__name__) for e in parser.tick()]
        return out
    finally:
        EscapeSplittingParser.split_escape = True


@pytest.mark.parametrize("data, expected", [
    ("\x1b/zs", ["escape", "slash", "z", "s"]),          # back to the table, then search
    ("ab\x1b:12", ["a", "b", "escape", "colon", "1", "2"]),
    ("\x1b", ["escape"]),
    ("\x1b[A", ["up"]),                                   # cursor and function keys untouched
    ("\x1bOP", ["f1"]),
    ("\x1bx", ["alt+x"]),                                 # Alt+letter stays Alt+letter
    ("\x1b[200~hi\x1b[201~", ["Paste"]),                  # a bracketed paste
])
def test_escape_before_a_key_stays_escape(data, expected):
    assert keys(data) == expected


def test_the_emacs_keymap_reads_esc_less_than_as_meta():
    assert keys("\x1b<", split=False) == ["less_than_sign"]   # M-< : first row
    assert keys("\x1b<") == ["escape", "less_than_sign"]


async def test_the_keymap_decides(sqlite_url):
    from kehu.models.store import Store
    from kehu.tui.app import KehuApp

    store = Store.open(sqlite_url)
    try:
        app = KehuApp(store, keymap="emacs")
        async with app.run_test() as pilot:
            await pilot.pause()
            assert EscapeSplittingParser.split_escape is False
            app.use_keymap("default")
            assert EscapeSplittingParser.split_escape is True
    finally:
        EscapeSplittingParser.split_escape = True
        store.close()
