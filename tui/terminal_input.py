"""Esc typed just before another key, in one burst, stays an Esc.

A terminal sends Esc as the byte ESC, and Alt+key as ESC followed by the key. When
a fast typist (or SSH, which sends what it has in one packet) delivers "Esc /" in
one read, Textual's parser takes it for Alt+/ and, as it keeps Alt only for letters,
drops the Esc: "Esc back to the table, then /name" typed the name into the form.

``EscapeSplittingParser`` feeds ESC on its own and ends it at once when a character
follows that no escape sequence starts with and that is not a letter (Alt+letter
stays Alt+letter): ``[`` and ``O`` (cursor and function keys), ``]``, ``\\``, ``P``
(terminal replies) and ESC itself go through untouched. The emacs keymap reads
ESC < and ESC > as M-< and M->, so it keeps Textual's reading (``split_escape``).

Textual has no public hook for its input parser: this subclasses the one in
``textual._xterm_parser`` and is installed on the Linux driver by ``install()``.
"""
from __future__ import annotations

import re
from typing import Iterable

from textual import _xterm_parser
from textual.message import Message

#: ESC followed by a character that starts no escape sequence and is not a letter
_ESC_BEFORE_KEY = re.compile(r"\x1b(?=[^\x1b\[\]\\OPa-zA-Z])")


class EscapeSplittingParser(_xterm_parser.XTermParser):
    split_escape = True

    def feed(self, data: str) -> Iterable[Message]:
        if not data or not self.split_escape or "\x1b" not in data:
            yield from super().feed(data)
            return
        start = 0
        for match in _ESC_BEFORE_KEY.finditer(data):
            if match.start() > start:
                yield from super().feed(data[start:match.start()])
            yield from super().feed("\x1b")
            self._timeout_time = 0.0          # no more bytes of a sequence are coming:
            yield from self.tick()            # the ESC is the Escape key
            start = match.end()
        if start < len(data):
            yield from super().feed(data[start:])


def install(*, split_escape: bool = True) -> None:
    """Use the parser for the terminal's input (Linux and macOS driver)."""
    EscapeSplittingParser.split_escape = split_escape
    try:
        from textual.drivers import linux_driver
    except ImportError:   # Windows: its driver reads key events, not bytes
        return
    linux_driver.XTermParser = EscapeSplittingParser
