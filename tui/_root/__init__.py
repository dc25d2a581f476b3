"""kehu — a keyboard-driven customer database for the terminal.

The repository keeps ``models/`` and ``tui/`` at the top level; installed they
are ``kehu.models`` and ``kehu.tui``.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("kehu")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
