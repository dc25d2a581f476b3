"""English plurals in messages: {count|row|rows} picks the word for the number."""
from __future__ import annotations

from kehu.models.i18n import tr
from kehu.tui import cli  # noqa: F401  (registers the UI catalogues)


def test_one_and_many_in_english():
    assert tr("io.import_summary", "en", batch=1, rows=1, created=1, updated=0, unchanged=0,
              rejected=0, empty=0, repeated=0).startswith("Import #1: 1 row read")
    assert "1,200 rows read" in tr("io.import_summary", "en", batch=2, rows=1200, created=0,
                                   updated=0, unchanged=0, rejected=0, empty=0, repeated=0)
    assert tr("workbench.summary", "en", count=1) == "1 customer"
    assert tr("workbench.summary", "en", count=0) == "0 customers"
    assert tr("chain.head", "en", name="ACME", count=1) == "Decision chain of ACME — 1 contact"
    assert tr("agenda.birthday_in", "en", days=1) == "in 1 day"


def test_chinese_is_untouched():
    assert tr("workbench.summary", "zh", count=1) == "1 个客户"
