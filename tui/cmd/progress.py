"""Progress bars of the sub-commands: rich.progress on a terminal's stderr, nothing when piped.

``bar = progress_bar(ctx, "Importing")`` returns ``show(done, total)`` with
``bar.end()`` to close it — the shape the model layer's ``progress=`` callbacks
take. rich gives the rate and the time left.
"""
from __future__ import annotations


def progress_bar(ctx, what: str):
    tty = hasattr(ctx.err, "isatty") and ctx.err.isatty()
    state: dict = {}

    def show(done: int, total: int | None = None) -> None:
        if not tty:
            return
        if "progress" not in state:
            # imported on the first bar: every sub-command's parser imports this module
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                                       TaskProgressColumn, TextColumn, TimeRemainingColumn)

            progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                TaskProgressColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                                console=Console(file=ctx.err), transient=False)
            progress.start()
            state["progress"] = progress
            state["task"] = progress.add_task(what, total=total)
        total = max(total or 0, done, 1) if total is not None else None
        state["progress"].update(state["task"], completed=done, total=total)

    def end() -> None:
        if "progress" in state:
            state.pop("progress").stop()

    show.end = end
    return show
