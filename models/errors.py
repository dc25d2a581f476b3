"""The one base class for everything a user can cause, and the bug log.

Every error a user can cause — a bad value, a bad file, a refused right, a busy
database — is a ``KehuError`` and carries one sentence in the user's language
that names the field, line or row. The CLI and the TUI each catch ``KehuError``
in one place and show that sentence. Anything else that escapes is a bug:
``log_bug`` writes it with its traceback to a file in the user log folder
(platformdirs, or ``KEHU_LOG_DIR``) and returns that file, so the user is shown
one sentence naming it instead of a traceback.
"""
from __future__ import annotations

import os
import traceback
from datetime import datetime
from pathlib import Path

import platformdirs


class KehuError(Exception):
    """An error a user can cause and fix; ``str(exc)`` is the sentence to show."""


def log_dir() -> Path:
    return Path(os.environ.get("KEHU_LOG_DIR") or platformdirs.user_log_dir("kehu"))


def log_bug(exc: BaseException) -> Path | None:
    """Append ``exc`` with its traceback to ``kehu.log``; the file, or None if unwritable."""
    path = log_dir() / "kehu.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.now().isoformat(timespec='seconds')} ---\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        return None
    return path
