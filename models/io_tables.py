"""The journal of data operations that can be undone: imports and merges.

``ImportBatch`` records one import (file, mapping, counts); the customers it
created carry its id in ``customer.import_batch``, the customers it updated
have an ``ImportChange`` with their values before. ``MergeRecord`` keeps what
a merge changed so that it can be undone. The tables are created on first use.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import peewee

from .store import Store, now


def io_models(store: Store) -> dict[str, type[peewee.Model]]:
    """The journal models bound to ``store`` (tables created if missing)."""
    cached = store.__dict__.get("_io_models")
    if cached is not None:
        return cached
    db = store.db

    def meta(table: str):
        return type("Meta", (), {"database": db, "table_name": table})

    ImportBatch = type("ImportBatch", (peewee.Model,), {
        "Meta": meta("import_batch"),
        "created_at": peewee.DateTimeField(default=now),
        "user": peewee.TextField(null=True),
        "source": peewee.TextField(),
        "file_format": peewee.TextField(null=True),
        "encoding": peewee.TextField(null=True),
        "mapping": peewee.TextField(null=True),  # JSON {header: field key}
        "update_by": peewee.TextField(null=True),
        "created": peewee.IntegerField(default=0),
        "updated": peewee.IntegerField(default=0),
        "unchanged": peewee.IntegerField(default=0),
        "rejected": peewee.IntegerField(default=0),
        "report": peewee.TextField(null=True),
        "reverted_at": peewee.DateTimeField(null=True),
        "reverted_by": peewee.TextField(null=True),
    })
    ImportChange = type("ImportChange", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": db, "table_name": "import_change",
                                  "indexes": ((("batch", "customer_id"), True),)}),
        "batch": peewee.ForeignKeyField(ImportBatch, backref="changes", on_delete="CASCADE"),
        "customer_id": peewee.IntegerField(),
        "before": peewee.TextField(),  # JSON {field key: value before the import}
        "after_version": peewee.IntegerField(),
    })
    MergeRecord = type("MergeRecord", (peewee.Model,), {
        "Meta": meta("merge_record"),
        "created_at": peewee.DateTimeField(default=now),
        "user": peewee.TextField(null=True),
        "survivor_id": peewee.IntegerField(index=True),
        "merged_id": peewee.IntegerField(index=True),
        "survivor_before": peewee.TextField(),  # JSON of every schema field
        "after_version": peewee.IntegerField(),
        "contact_ids": peewee.TextField(),  # JSON list of moved contacts
        "interaction_ids": peewee.TextField(),  # JSON list of moved timeline entries
        "score": peewee.IntegerField(null=True),
        "reasons": peewee.TextField(null=True),
        "undone_at": peewee.DateTimeField(null=True),
        "undone_by": peewee.TextField(null=True),
    })
    models = {"ImportBatch": ImportBatch, "ImportChange": ImportChange, "MergeRecord": MergeRecord}
    missing = [m for m in models.values() if not db.table_exists(m._meta.table_name)]
    if missing:   # DDL only when needed: a team member who does not own the schema may not
        with db.atomic():
            db.create_tables(list(models.values()), safe=True)
    store.__dict__["_io_models"] = models
    return models


def to_json(values: dict[str, Any]) -> str:
    def plain(value):
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value

    return json.dumps({k: plain(v) for k, v in values.items()}, ensure_ascii=False)


def from_json(store: Store, text: str) -> dict[str, Any]:
    """Values written by ``to_json`` back in their stored form (via the schema)."""
    from .validate import clean

    out = {}
    for key, value in json.loads(text).items():
        spec = store.schema.get(key)
        if key == "extra":   # an import's kept columns (models.import_read): JSON text as it was
            out[key] = value
            continue
        if spec is None:
            continue
        if value is None:
            out[key] = None
            continue
        if spec.type == "datetime":
            out[key] = dt.datetime.fromisoformat(value)
            continue
        loose = replace(spec, required=False, pattern=None, min=None, max=None, max_length=None)
        out[key] = clean(loose, value)
    return out
