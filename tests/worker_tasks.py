"""A worker task for tests/test_import_workers.py: cleans the first chunk, then fails."""
from kehu.models import importer

_calls = []


def clean_then_fail(rows):
    _calls.append(1)
    if len(_calls) > 1:
        raise RuntimeError("broken on purpose")
    return importer._worker_clean(rows)
