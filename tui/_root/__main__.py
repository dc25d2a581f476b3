"""``python -m kehu``: the same as the ``kehu`` command."""
import sys

from kehu.tui.cli import main

sys.exit(main())
