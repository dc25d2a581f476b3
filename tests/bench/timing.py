"""The timing helper the stand-alone benchmark scripts share (run them from any folder:
a script's own folder is on sys.path, so ``from timing import timed`` finds this)."""
from __future__ import annotations

import statistics
import time


def timed(fn, runs: int) -> tuple[float, float, object]:
    """Best and median seconds of ``runs`` calls of ``fn``, and its last result."""
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result
