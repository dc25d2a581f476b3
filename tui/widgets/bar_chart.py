"""A horizontal bar chart drawn in terminal cells, for the reports screen.

Each bar sits on the same line as its name (so a bar can never drift away from
its label), names are measured in cells (Chinese names line up) and cut with
"…", each bar ends with its value, and the scale below counts in whole numbers
or short money (``1.2亿`` / ``350万``, ``12M`` / ``350K``). Several series
(overdue follow-ups and verifications) are drawn as one bar each per name, in
their own colours, named in a legend line.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.strip import Strip
from textual.widget import Widget

from kehu.models.reports import compact_value

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"
COLOURS = ("primary", "accent", "secondary", "warning")
FALLBACK = ("magenta", "cyan", "green", "yellow")


def fit(text: str, cells: int) -> str:
    """``text`` cut to ``cells`` terminal cells, "…" marking a cut."""
    if cell_len(text) <= cells:
        return text
    out, used = "", 0
    for ch in text:
        w = cell_len(ch)
        if used + w > cells - 1:
            break
        out, used = out + ch, used + w
    return out + "…"


def pad(text: str, cells: int, right: bool = False) -> str:
    gap = " " * max(0, cells - cell_len(text))
    return gap + text if right else text + gap


def nice_step(top: float, ticks: int) -> float:
    """A round step (1, 2, 2.5, 5 × 10^n) giving about ``ticks`` steps up to ``top``."""
    if top <= 0:
        return 1.0
    raw = top / max(1, ticks)
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power


def bar(length: float) -> str:
    """``length`` cells of bar, the last one in eighths."""
    whole = int(length)
    part = int(round((length - whole) * 8))
    if part == 8:
        whole, part = whole + 1, 0
    return FULL * whole + (EIGHTHS[part] if part else "")


class BarChart(Widget):
    """Horizontal bars: ``set_data(labels, series, names, kind)``."""

    DEFAULT_CSS = """
    BarChart { height: 1fr; min-width: 24; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None):
        super().__init__(id=id)
        self.labels: list[str] = []
        self.series: list[list[Decimal]] = []
        self.names: list[str] = []
        self.kind = "count"
        self.more_text = "+{n}"

    def set_data(self, labels: Sequence[str], series: Sequence[Sequence], names: Sequence[str],
                 kind: str = "count", more_text: str = "+{n}") -> None:
        self.labels = [str(label) for label in labels]
        self.series = [[Decimal(str(v or 0)) for v in values] for values in series]
        self.names = list(names)
        self.kind = kind
        self.more_text = more_text
        self._cache_key = None
        self.refresh()

    def _colour(self, index: int) -> Style:
        variables = getattr(self.app, "theme_variables", {}) or {}
        colour = variables.get(COLOURS[index % len(COLOURS)]) or FALLBACK[index % len(FALLBACK)]
        try:
            return Style(color=colour)
        except Exception:  # noqa: BLE001 - a theme colour Rich cannot read: a plain one
            return Style(color=FALLBACK[index % len(FALLBACK)])

    def lines(self, width: int, height: int) -> list[Text]:
        """The chart as ``height`` lines of ``width`` cells (what ``render`` shows)."""
        out: list[Text] = []
        if not self.labels or width < 12 or height < 3:
            return out
        k = max(1, len(self.series))
        # legend / title line
        legend = Text()
        for i, name in enumerate(self.names):
            if k > 1:
                legend.append(FULL + " ", self._colour(i))
            legend.append(name + ("  " if i + 1 < len(self.names) else ""))
        legend.truncate(width, overflow="ellipsis")
        out.append(legend)
        rows_free = height - 3      # legend, axis line, tick labels
        values = [v for series in self.series for v in series]
        top = max([float(v) for v in values] + [0.0])
        value_cells = max([cell_len(compact_value(self.kind, v)) for v in values] + [1])
        label_cells = min(max(cell_len(label) for label in self.labels), max(4, width // 3))
        bar_cells = max(4, width - label_cells - 1 - 1 - 1 - value_cells)
        step = nice_step(top, max(4, min(6, bar_cells // 8)))
        if self.kind != "money" and step < 1:      # counts step in whole numbers
            step = 1.0
        scale_top = step * max(1, -(-top // step)) if top > 0 else step
        groups = len(self.labels)
        gap = 1 if groups * k + groups - 1 <= rows_free else 0
        thick = max(1, min(3 if k == 1 else 1, (rows_free - gap * (groups - 1)) // (groups * k)))
        shown = groups
        if groups * k + gap * (groups - 1) > rows_free:
            shown = max(0, (rows_free - 1) // k)          # one line left for "+n more"
        blank = Text(" " * label_cells + " │")
        for g in range(shown):
            for s in range(k):
                value = self.series[s][g] if s < len(self.series) else Decimal(0)
                length = float(value) / scale_top * bar_cells if scale_top else 0
                drawn = bar(max(0.0, length))
                for t in range(thick):
                    middle = t == thick // 2
                    name = pad(fit(self.labels[g], label_cells), label_cells) \
                        if s == 0 and middle else " " * label_cells
                    line = Text(name + " │")
                    line.append(drawn, self._colour(s))
                    if middle:
                        line.append(" " + compact_value(self.kind, value))
                    out.append(line)
            if gap and g + 1 < shown:
                out.append(blank.copy())
        if shown < groups:
            out.append(Text(" " * label_cells + " │ " + self.more_text.format(n=groups - shown),
                            style="dim"))
        # the axis and its ticks
        axis = [" "] * (label_cells + 1) + ["└"] + ["─"] * bar_cells
        ticks = [" "] * width
        tick, last_end = 0.0, -1
        while tick <= scale_top + step / 2:
            col = label_cells + 1 + (int(round(tick / scale_top * bar_cells)) if scale_top else 0)
            col = min(col, label_cells + 1 + bar_cells)
            if col < len(axis):
                axis[col] = "┼" if tick else "└"
            text = compact_value(self.kind, Decimal(str(round(tick, 6))))
            start = max(0, min(col - len(text) // 2, width - cell_len(text)))
            if start > last_end and start + cell_len(text) <= width:
                pos = start
                for ch in text:
                    ticks[pos] = ch
                    if cell_len(ch) == 2:
                        ticks[pos + 1] = ""
                    pos += cell_len(ch)
                last_end = pos
            tick += step
        out.append(Text("".join(axis)[:width], style="dim"))
        out.append(Text("".join(ticks).rstrip(), style="dim"))
        return out[:height]

    def render_line(self, y: int) -> Strip:
        width, height = self.content_region.width, self.content_region.height
        key = (width, height, id(self.labels), id(self.series), self.app.theme)
        if getattr(self, "_cache_key", None) != key:
            self._cache_key = key
            self._cache = self.lines(width, height)
        base = self.rich_style
        if not 0 <= y < len(self._cache):
            return Strip.blank(width, base)
        strip = Strip(list(self._cache[y].render(self.app.console))).apply_style(base)
        return strip.crop_extend(0, width, base)
