"""Contacts and timeline entries from their own sheets (issue 16):
``kehu import contacts.csv --into contacts`` / ``--into timeline``, and the
wizard's ``t`` key.

A contact list has a column naming the customer each person belongs to (a
company column, the customer's name or its customer number); a timeline sheet
has the date, the customer, the kind (电话, 拜访, 采购 … or call, visit,
purchase), notes and an amount. Columns are mapped as customer columns are
(``importer.auto_mapping`` over ``target_schema``: labels and aliases in zh and
en), values are checked by the same rules as the contact form and the timeline
form (``chain.clean_contact``, ``timeline.clean_entry``) and saved through
``chain.add_contact`` / ``timeline.add_entry`` (the role's rights, the audit
trail, purchase totals), all in one transaction.

A row's customer is found by customer number, then name, then company
(Traditional/Simplified, full-width and spacing folded), looked up for the
whole file in a few IN queries; a row naming no customer, or one several
customers match, is rejected with its row number and the reason, in the
report of rejected rows as customer imports write it.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

from .dedupe import _norm
from .errors import KehuError
from .i18n import tr
from .importer import ImportFailed, ImportResult, Mapping, Problem, Source, _Report, default_report_path, shown
from .schema import FieldSpec, Schema
from .validate import FieldError, RecordInvalid

TARGETS = ("customers", "contacts", "timeline")
IN_BATCH = 500


def _spec(key: str, zh: str, en: str, aliases: tuple[str, ...] = (), required: bool = False,
          type: str = "text") -> FieldSpec:
    return FieldSpec(key=key, type=type, group="import", labels={"zh": zh, "en": en},
                     required=required, aliases=aliases)


_CUSTOMER = ("客户", "客户名称", "所属客户", "所属公司", "所属单位", "客户全称", "公司全称", "公司", "公司名称",
             "单位", "单位名称", "企业名称", "customer",
             "company", "organization", "account", "客户编号", "customer no.", "customer id")


def target_schema(into: str) -> Schema:
    """The columns a contacts or timeline sheet may have, as fields to map to."""
    if into == "contacts":
        fields = [
            _spec("customer", "所属客户", "Customer", _CUSTOMER, required=True),
            _spec("name", "联系人", "Contact name", ("姓名", "联系人姓名", "name", "contact",
                                                    "full name"), required=True),
            _spec("title", "职务", "Title", ("职位", "头衔", "job title")),
            _spec("department", "部门", "Department", ("科室",)),
            _spec("phone", "电话", "Phone", ("手机", "手机号", "手机号码", "联系电话", "固定电话",
                                             "mobile", "telephone")),
            _spec("email", "邮箱", "Email", ("电子邮件", "电子邮箱", "e-mail")),
            _spec("role", "决策角色", "Role", ("角色", "decision role")),
            _spec("stance", "态度", "Stance", ("立场",)),
            _spec("notes", "备注", "Notes", ("说明", "note")),
        ]
    elif into == "timeline":
        fields = [
            _spec("occurred_at", "日期", "Date", ("时间", "发生时间", "日期时间", "date", "when",
                                                "time")),
            _spec("customer", "客户", "Customer", _CUSTOMER[1:], required=True),
            _spec("kind", "类型", "Kind", ("记录类型", "事项", "type", "kind")),
            _spec("summary", "内容", "Notes", ("摘要", "备注", "记录", "notes", "summary",
                                             "subject")),
            _spec("details", "详情", "Details", ("详细", "description")),
            _spec("amount", "金额", "Amount", ("采购金额", "订单金额", "value")),
            _spec("outcome", "结果", "Outcome", ()),
            _spec("next_follow_up", "下次跟进", "Next follow-up", ("跟进日期", "follow up")),
        ]
    else:
        raise ImportFailed(tr("import_sheets.bad_target", value=into, choices=", ".join(TARGETS)))
    return Schema(fields=fields, groups=[])


class _Customers:
    """The customer a row names: by customer number, name, then company (folded)."""

    def __init__(self, store, texts: set[str]):
        self.store = store
        C = store.Customer
        schema = store.schema
        self.by: dict[str, dict[str, set[int]]] = {}
        self.names: dict[int, str] = {}
        values = sorted(texts)
        for key in [k for k in ("external_id", "name", "company") if k in schema]:
            found: dict[str, set[int]] = {}
            column = getattr(C, key)
            for start in range(0, len(values), IN_BATCH):
                part = values[start:start + IN_BATCH]
                for cid, value, name in (C.select(C.id, column, C.name)
                                         .where(C.deleted_at.is_null(), column.in_(part)).tuples()):
                    found.setdefault(_norm(value), set()).add(cid)
                    self.names[cid] = name
            self.by[key] = found

    def find(self, text: str) -> list[int]:
        folded = _norm(text)
        for key in ("external_id", "name", "company"):
            ids = self.by.get(key, {}).get(folded)
            if ids:
                return sorted(ids)
        return []


def run_import(store, source: Source, mapping: Mapping, into: str, *, dry_run: bool = False,
               report_path: str | Path | None = None,
               progress: Callable[[int, int], None] | None = None) -> ImportResult:
    """Add the rows of ``source`` as contacts or timeline entries of the customers they name."""
    from . import chain, timeline

    schema = target_schema(into)
    missing = [s for s in schema.fields if s.required and mapping.column_of(s.key) is None]
    if missing:
        raise ImportFailed(tr("import.required_unmapped", fields=", ".join(s.label() for s in missing)))
    store.guard.require("import")
    columns = mapping.mapped
    customer_col = mapping.column_of("customer")
    rows = list(source.rows())
    texts = {str(cells[customer_col]).strip() for _, cells in rows
             if customer_col < len(cells) and cells[customer_col] not in (None, "")}
    # the customers of the whole file, folded as they are compared (a few IN queries)
    customers = _Customers(store, texts | {t.strip() for t in texts})
    # the rejected rows as they are in the file, with the reason (a dry run: only when asked)
    report = _Report(Path(report_path) if report_path else None if dry_run
                     else default_report_path(source), source)
    result = ImportResult(None, dry_run)

    def reject(problems: list[Problem], cells: list[Any]) -> None:
        result.rejected += 1
        report.reject(problems, cells)

    def save() -> None:
        for done, (number, cells) in enumerate(rows, start=1):
            result.rows += 1
            data = {}
            for i, key in columns:
                cell = cells[i] if i < len(cells) else None
                if cell not in (None, "") and str(cell).strip():
                    data[key] = cell
            if not data:
                result.empty += 1
                continue
            text = str(data.pop("customer", "") or "").strip()
            header = mapping.headers[customer_col]
            ids = customers.find(text) if text else []
            if len(ids) != 1:
                reason = (tr("validate.required") if not text else
                          tr("import_sheets.no_customer", value=text) if not ids else
                          tr("import_sheets.many_customers", value=text, count=len(ids),
                             ids=", ".join(f"#{i}" for i in ids[:5])))
                reject([Problem(number, header, schema["customer"].label(), shown(text), reason)], cells)
                continue
            problems = _save_row(store, into, ids[0], data, dry_run, chain, timeline)
            if problems:
                reject([Problem(number, _header(mapping, key), schema[key].label() if key in schema else key,
                                shown(data.get(key, "")), message) for key, message in problems], cells)
                continue
            result.created += 1
            if progress and done % 200 == 0:
                progress(done, len(rows))

    if dry_run:
        save()
    else:
        with store.db.atomic():
            save()
    result.report = report.close()
    result.problems = report.first
    if progress:
        progress(len(rows), len(rows))
    return result


def _header(mapping: Mapping, key: str) -> str:
    column = mapping.column_of(key)
    return mapping.headers[column] if column is not None else ""


def _save_row(store, into: str, customer_id: int, data: dict[str, Any], dry_run: bool,
              chain, timeline) -> list[tuple[str, str]]:
    """Check (and unless ``dry_run`` save) one row; its problems as (field, message)."""
    try:
        if into == "contacts":
            data.setdefault("name", "")
            if dry_run:
                chain.clean_contact(store, data)
            else:
                with store.db.atomic():
                    chain.add_contact(store, customer_id, **data)
        else:
            kind = data.get("kind") or "note"
            rest = {k: v for k, v in data.items() if k != "kind"}
            if dry_run:
                timeline.clean_entry(store, customer_id, {"kind": kind, **rest})
            else:
                with store.db.atomic():
                    timeline.add_entry(store, customer_id, kind, **rest)
    except RecordInvalid as exc:
        return [(key, err.message) for key, err in exc.errors.items()]
    except FieldError as exc:
        return [(exc.key, exc.message)]
    except KehuError as exc:   # a refused right, a kind that does not exist
        return [("customer", str(exc))]
    return []


def auto_mapping(store, source: Source, into: str) -> Mapping:
    from .importer import auto_mapping as by_names

    return by_names(target_schema(into), replace(source, format=None))
