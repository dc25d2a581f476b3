"""Worker tasks for tests/test_import_workers.py."""
from kehu.models import importer


def clean_then_fail(share):
    """Streams the first chunk of its share cleaned, then fails."""
    for i, results in enumerate(importer._worker_clean(share)):
        if i:
            raise RuntimeError("broken on purpose")
        yield results


def squares(share):
    """Worker k of n: the squares of k, k + n, k + 2n … below 10."""
    k, n = share
    yield from (i * i for i in range(k, 10, n))


def refuse(share):
    raise importer.ImportFailed("row 7 of the file cannot be read")
    yield  # a generator
