"""kehu's own data survives its own round trip: demo data passes kehu's validation,
and every customer exported to CSV or XLSX imports back with every value the same."""
import pytest

from kehu.models import demo
from kehu.models.exporter import export
from kehu.models.importer import auto_mapping, open_source, run_import
from kehu.models.store import Store
from kehu.models.validate import FieldError, clean


def stored_fields(schema):
    """The fields an import can bring back (computed ones come from the timeline)."""
    return [s for s in schema.fields if not s.computed]


def test_demo_data_passes_kehus_own_validation(sqlite_url):
    store = Store.open(sqlite_url, user="tester")
    gen = demo.DemoGenerator(store, seed=3)
    refused = []
    for index in range(3000):
        row, contacts, _ = gen.customer(index)
        for spec in stored_fields(store.schema):
            value = row.get(spec.key)
            if value is None:
                continue
            try:
                cleaned = clean(spec, value)
            except FieldError as exc:
                refused.append(str(exc))
                continue
            if cleaned != value:
                refused.append(f"{spec.key}: {value!r} is stored as {cleaned!r}")
        for contact in contacts:
            try:
                clean(store.schema["mobile"], contact["phone"])
            except FieldError as exc:
                refused.append(str(exc))
    store.close()
    assert refused == []


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_the_demo_survives_export_then_import(store, tmp_path, suffix):
    demo.generate(store, 2000, seed=11)
    C = store.Customer
    originals = {c.external_id: c for c in store.customers()}
    path = tmp_path / f"demo{suffix}"
    assert export(store, path).rows == 2000
    source = open_source(path)
    result = run_import(store, source, auto_mapping(store.schema, source),
                        report_path=tmp_path / "rejected.csv")
    assert (result.created, result.rejected, result.problems) == (2000, 0, [])
    copies = {c.external_id: c for c in store.customers().where(C.import_batch == result.batch_id)}
    assert copies.keys() == originals.keys()
    differences = [(key, spec.key, getattr(originals[key], spec.key), getattr(copy, spec.key))
                   for key, copy in copies.items() for spec in stored_fields(store.schema)
                   if getattr(copy, spec.key) != getattr(originals[key], spec.key)]
    assert differences == []
