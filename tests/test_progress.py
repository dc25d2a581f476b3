"""Sub-command progress bars (rich.progress): on a terminal only, with counts."""
import io
from types import SimpleNamespace

from kehu.tui.cmd.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_a_bar_on_a_terminal_shows_what_and_how_many():
    err = Terminal()
    bar = progress_bar(SimpleNamespace(err=err), "Importing")
    for done in (0, 1500, 3000):
        bar(done, 3000)
    bar.end()
    text = err.getvalue()
    assert "Importing" in text and "3000/3000" in text and "100%" in text


def test_nothing_when_piped():
    err = io.StringIO()
    bar = progress_bar(SimpleNamespace(err=err), "Importing")
    bar(10, 20)
    bar.end()
    assert err.getvalue() == ""
