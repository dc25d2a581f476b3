"""Finding likely duplicate customers and merging them (undoably).

``find_duplicates(store)`` applies the rules of ``dedupe_rules.yaml`` (or the
user's copy in the config folder): customers are grouped by a normalised key
per rule — blocking — so a million customers are scanned in one pass, not
compared pairwise. Each pair gets a score and the reasons behind it.

``merge(store, survivor_id, other_id, values)`` keeps one record: the chosen
value per field, every contact and timeline entry of the other moved over,
the other soft-deleted. ``undo_merge`` puts both records back.
"""
from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, Callable

import yaml
import zhconv
from pypinyin import lazy_pinyin
from rapidfuzz import fuzz
from rapidfuzz.process import extract

from .errors import KehuError
from . import satisfaction, search
from .config import config_dir
from .i18n import label as pick_label
from .i18n import tr
from .io_tables import from_json, io_models, to_json
from .schema import FieldSpec
from .store import NotFound, Store, now
from .validate import MINUTES, split_tags

RULES_PATH = Path(__file__).with_name("dedupe_rules.yaml")
KINDS = ("phone", "exact", "similar_name")


class DedupeError(KehuError):
    """Bad rules, or a merge that cannot be done; ``str()`` is the message."""


# --- rules -------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    key: str
    labels: dict[str, str]
    kind: str
    fields: tuple[str, ...]
    score: int
    within: str | None = None
    threshold: int = 85

    def label(self) -> str:
        return pick_label(self.labels) or self.key


@dataclass
class Rules:
    rules: list[Rule]
    company_suffixes: list[str]
    max_block: int
    path: Path


def user_rules_path() -> Path:
    return config_dir() / "dedupe_rules.yaml"


def load_rules(store: Store, path: str | Path | None = None) -> Rules:
    """The rules in force: ``path``, else the user's file, else the default."""
    if path is None:
        path = user_rules_path() if user_rules_path().exists() else RULES_PATH
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DedupeError(tr("dedupe.bad_rules", path=path, error=exc)) from None
    rules = []
    for raw in data.get("rules") or []:
        key = raw.get("key", "?") if isinstance(raw, dict) else "?"
        if not isinstance(raw, dict) or raw.get("kind") not in KINDS:
            raise DedupeError(tr("dedupe.bad_kind", path=path, rule=key, kinds=", ".join(KINDS)))
        fields = tuple(raw.get("fields") or [raw.get("field")])
        for name in fields + ((raw["within"],) if raw.get("within") else ()):
            if name not in store.schema:
                raise DedupeError(tr("dedupe.unknown_field", path=path, rule=key, field=name))
        labels = raw.get("label") or key
        rules.append(Rule(key, labels if isinstance(labels, dict) else {"en": str(labels)},
                          raw["kind"], fields, int(raw.get("score", 50)), raw.get("within"),
                          int(raw.get("threshold", 85))))
    suffixes = sorted((_norm(s) for s in data.get("company_suffixes") or []), key=len, reverse=True)
    return Rules(rules, suffixes, int(data.get("max_block", 500)), path)


_PUNCT_RE = re.compile(r"[\W_]+", re.UNICODE)


@functools.lru_cache(maxsize=1)
def _traditional_chars() -> frozenset[str]:
    """The characters zhconv changes on their own (a text with none is left as it is)."""
    zhconv.zhconv.loaddict()
    return frozenset(k for k in zhconv.zhconv.zhcdicts["zh2Hans"] if len(k) == 1)


def simplified(text: str) -> str:
    """Traditional Chinese folded to Simplified (張三 → 张三, 陳國強 → 陈国强).

    zhconv (MediaWiki's conversion tables): 1M short Chinese names in 2.9 s, against
    9.4 s for opencc-python-reimplemented with the same result on every one of them;
    both are pure Python. A text without a Traditional character is not converted."""
    if text.isascii():
        return text
    traditional = _traditional_chars()
    if not any(c in traditional for c in text):
        return text
    return zhconv.convert(text, "zh-hans")


def _norm(text: Any) -> str:
    """Full-width → half-width, Traditional → Simplified, case folded, spaces and
    punctuation gone."""
    return _PUNCT_RE.sub("", simplified(unicodedata.normalize("NFKC", str(text))).casefold())


@functools.lru_cache(maxsize=1)
def _places() -> frozenset[str]:
    data = yaml.safe_load(Path(__file__).with_name("places_cn.yaml").read_text(encoding="utf-8"))
    return frozenset(data.get("provinces", []) + data.get("cities", []))


_PARENS_RE = re.compile(r"[(（]([^()（）]{1,12})[)）]")
_PLACE_END = ("自治区", "省", "市", "区", "县")
_GENERIC_PLACE_RE = re.compile(r"[\u4e00-\u9fff]{2,3}(?:省|市)")


def _bare_place(text: str) -> str:
    for end in _PLACE_END:
        if text.endswith(end) and len(text) > len(end):
            return text[: -len(end)]
    return text


def _is_place(text: str) -> bool:
    return text in _places() or (_bare_place(text) != text and len(text) <= 9
                                 and all("\u4e00" <= c <= "\u9fff" for c in text))


def _leading_places(value: str) -> tuple[int, str | None]:
    """How many characters of places open ``value`` (广东省广州市…, 广州…) and the last one."""
    names, pos, last = _places(), 0, None
    while True:
        for size in (4, 3, 2):
            if value[pos:pos + size] in names:
                last, pos = value[pos:pos + size], pos + size
                for end in _PLACE_END:
                    if value.startswith(end, pos):
                        pos += len(end)
                        break
                break
        else:
            found = _GENERIC_PLACE_RE.match(value, pos)
            if not found:
                return pos, last
            last, pos = _bare_place(found[0]), found.end()


def _norm_company(text: Any, suffixes: list[str]) -> str:
    """A company name to compare: legal suffixes gone, and a place written before the
    name (广州市粤海物流) or in brackets (粤海物流（广州）) moved behind it, so both are
    粤海物流@广州 — the place still tells 北京大学 from 南京大学."""
    return _company_key(str(text), tuple(suffixes))


@functools.lru_cache(maxsize=1 << 16)   # a company name repeats over its people
def _company_key(text: str, suffixes: tuple[str, ...]) -> str:
    raw = simplified(unicodedata.normalize("NFKC", text))
    places: list[str] = []

    def bracket(match: re.Match) -> str:
        inner = _PUNCT_RE.sub("", match[1].casefold())
        if _is_place(inner):
            places.append(_bare_place(inner))
            return ""
        return match[0]

    if "(" in raw or "（" in raw:
        raw = _PARENS_RE.sub(bracket, raw)
    value = _PUNCT_RE.sub("", raw.casefold())
    changed = True
    while changed and value:
        changed = False
        for suffix in suffixes:
            if suffix and value.endswith(suffix) and len(value) > len(suffix):
                value, changed = value[: -len(suffix)], True
    end, place = _leading_places(value)
    if place and len(value) - end >= 2:
        value = value[end:]
        places.insert(0, place)
    return f"{value}@{places[-1]}" if places else value


def name_sound(name: str) -> str:
    """How a name sounds, for comparing: 张三, Zhang San and zhangsan → 'zhang san'."""
    text = unicodedata.normalize("NFKC", str(name)).casefold()
    if search.CJK_RE.search(text):
        parts = lazy_pinyin(text, errors=lambda chars: list(chars))
        return " ".join(p for p in (_PUNCT_RE.sub("", x) for x in parts) if p)
    return " ".join(w for w in _PUNCT_RE.split(text) if w)


def similarity(a: str, b: str) -> float:
    """0–100: pinyin words in any order, or joined together (zhangsan vs zhang san)."""
    return max(fuzz.token_sort_ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))


# --- finding pairs ------------------------------------------------------------

@dataclass
class Reason:
    rule: str
    label: str
    detail: str
    score: float


@dataclass
class Candidate:
    a: int  # the lower id
    b: int
    score: int
    reasons: list[Reason] = field(default_factory=list)

    @property
    def why(self) -> str:
        return "; ".join(f"{r.label} ({r.detail})" if r.detail else r.label for r in self.reasons)


@dataclass
class ScanResult:
    candidates: list[Candidate]
    scanned: int
    skipped_blocks: list[tuple[str, str, int]] = field(default_factory=list)  # rule, key, size


def _dismissed(store: Store) -> set[tuple[int, int]]:
    return {tuple(p) for p in store.get_meta("dedupe_dismissed", [])}


def dismiss(store: Store, a: int, b: int) -> None:
    """Remember that two customers are not duplicates: the pair is not listed again."""
    pairs = _dismissed(store) | {(min(a, b), max(a, b))}
    store.set_meta("dedupe_dismissed", sorted(pairs))


def find_duplicates(store: Store, rules: Rules | None = None, *,
                    progress: Callable[[int, int], None] | None = None) -> ScanResult:
    """Likely duplicate pairs, best first. See the module docstring."""
    rules = rules or load_rules(store)
    C = store.Customer
    needed = ["name"] + [k for r in rules.rules for k in r.fields + ((r.within,) if r.within else ())]
    keys = list(dict.fromkeys(needed))
    columns = [C.id] + [getattr(C, k) for k in keys]
    blocks: dict[str, dict[Any, list[int]]] = {r.key: defaultdict(list) for r in rules.rules}
    names: dict[int, str] = {}
    scope = store.customers()   # the user's row scope, live rows (needs the view right)
    total = scope.count()
    scanned = 0
    for row in scope.select(*columns).tuples().iterator():
        cid, values = row[0], dict(zip(keys, row[1:]))
        scanned += 1
        names[cid] = values.get("name") or ""
        for rule in rules.rules:
            block = blocks[rule.key]
            if rule.kind == "phone":
                for phone in {values.get(k) for k in rule.fields} - {None, ""}:
                    block[re.sub(r"\D", "", str(phone))].append(cid)
            elif rule.kind == "exact":
                parts = []
                for k in rule.fields:
                    v = values.get(k)
                    parts.append(_norm_company(v, rules.company_suffixes) if k == "company" and v
                                 else (_norm(v) if v not in (None, "") else ""))
                if all(parts):
                    block[tuple(parts)].append(cid)
            else:
                group = values.get(rule.within)
                name = values.get(rule.fields[0])
                if group and name:
                    block[_norm_company(group, rules.company_suffixes)
                          if rule.within == "company" else _norm(group)].append(cid)
        if progress and scanned % 50_000 == 0:
            progress(scanned, total)
    found: dict[tuple[int, int], Candidate] = {}
    dismissed = _dismissed(store)
    skipped: list[tuple[str, str, int]] = []

    def add(a: int, b: int, rule: Rule, detail: str, score: float) -> None:
        pair = (min(a, b), max(a, b))
        if a == b or pair in dismissed:
            return
        cand = found.setdefault(pair, Candidate(pair[0], pair[1], 0))
        if all(r.rule != rule.key for r in cand.reasons):
            cand.reasons.append(Reason(rule.key, rule.label(), detail, score))

    for rule in rules.rules:
        for key, ids in blocks[rule.key].items():
            ids = list(dict.fromkeys(ids))
            if len(ids) < 2:
                continue
            if len(ids) > rules.max_block:
                skipped.append((rule.label(), _shown_key(store, rule, key), len(ids)))
                continue
            if rule.kind in ("phone", "exact"):
                detail = _shown_key(store, rule, key) if rule.kind == "phone" else ""
                for a, b in combinations(ids, 2):
                    add(a, b, rule, detail, rule.score)
            else:
                sounds = [name_sound(names[i]) for i in ids]
                joined = [x.replace(" ", "") for x in sounds]
                for i in range(len(ids) - 1):
                    best: dict[int, float] = {}  # = similarity(), at rapidfuzz's C speed
                    for choices, query, scorer in ((sounds, sounds[i], fuzz.token_sort_ratio),
                                                   (joined, joined[i], fuzz.ratio)):
                        for _, sim, j in extract(query, choices[i + 1:], scorer=scorer,
                                                 score_cutoff=rule.threshold, limit=None):
                            best[i + 1 + j] = max(best.get(i + 1 + j, 0), sim)
                    for j, sim in best.items():
                        add(ids[i], ids[j], rule, f"{sim:.0f}%", rule.score * sim / 100)
    for cand in found.values():
        miss = 1.0
        for reason in cand.reasons:
            miss *= 1 - reason.score / 100
        cand.score = min(99, round(100 * (1 - miss)))
        cand.reasons.sort(key=lambda r: -r.score)
    candidates = sorted(found.values(), key=lambda c: (-c.score, c.a, c.b))
    return ScanResult(candidates, scanned, skipped)


def _shown_key(store: Store, rule: Rule, key: Any) -> str:
    """A block's key as the user may see it: a phone as +digits, masked (135****7213)
    when any of the rule's fields is one their role may not see in clear; a key
    of several values masked field by field."""
    specs = [store.schema.get(k) for k in
             ((rule.within,) if rule.kind == "similar_name" else rule.fields)]
    if rule.kind == "phone":
        spec = next((s for s in specs if s is not None and not store.guard.may_see(s)), None)
        return "+" + key if spec is None else str(store.mask(spec, "+" + key))
    parts = key if isinstance(key, tuple) else (key,)
    shown = [str(store.mask(spec, part)) if spec is not None else str(part)
             for spec, part in zip(specs + [None] * len(parts), parts)]
    return " / ".join(shown)


# --- merging -------------------------------------------------------------------

@dataclass
class FieldChoice:
    spec: FieldSpec
    survivor: Any
    other: Any
    value: Any  # what the merged record gets by default

    @property
    def differs(self) -> bool:
        return self.survivor != self.other


def _combine(spec: FieldSpec, mine: Any, theirs: Any) -> Any:
    if mine in (None, ""):
        return theirs
    if theirs in (None, "") or mine == theirs:
        return mine
    if spec.type == "tags":
        return ",".join(split_tags(f"{mine},{theirs}"))
    if spec.type == "longtext":
        return f"{mine}\n{theirs}"
    return mine


class MergePlan(list):
    """The ``FieldChoice`` list of a merge, with the versions of both customers it
    was read at (``versions``: survivor, other). Give those to ``merge`` so that a
    merge chosen on stale values is refused instead of overwriting newer work."""

    def __init__(self, choices, versions: tuple[int, int]):
        super().__init__(choices)
        self.versions = versions


class MergeConflict(DedupeError):
    """The pair changed (merged, deleted or edited) since the merge was planned."""


def _plan(store: Store, a, b) -> MergePlan:
    plan = []
    for spec in store.schema.fields:
        if spec.computed:
            continue
        mine, theirs = getattr(a, spec.key), getattr(b, spec.key)
        plan.append(FieldChoice(spec, mine, theirs, _combine(spec, mine, theirs)))
    return MergePlan(plan, (a.version, b.version))


def merge_plan(store: Store, survivor_id: int, other_id: int) -> MergePlan:
    """Per field: both values and the default pick (the survivor's unless empty; tags
    joined; long texts kept both). Computed fields are left out: they are recomputed."""
    if survivor_id == other_id:
        raise DedupeError(tr("dedupe.same_customer", id=survivor_id))
    rows = []
    for cid in (survivor_id, other_id):
        row = store.customers(include_deleted=True).where(store.Customer.id == cid).first()
        if row is None:
            raise NotFound(tr("store.customer_not_found", id=cid))
        if row.deleted_at is not None:   # e.g. merged into another one already: say so
            raise _gone(store, row)
        rows.append(row)
    return _plan(store, *rows)


def _lock_pair(store: Store, survivor_id: int, other_id: int):
    """Both customers, locked until the transaction ends, in id order (two merges of
    the same pair in opposite directions wait for each other instead of
    deadlocking): FOR UPDATE on PostgreSQL; on SQLite the merge's transaction
    began IMMEDIATE and holds the file's write lock. Deleted rows are read too,
    so that a customer merged away a moment ago is named as such."""
    rows = {}
    for cid in sorted((survivor_id, other_id)):
        query = store.customers(include_deleted=True).where(store.Customer.id == cid)
        row = (query.for_update() if store.is_postgres else query).first()
        if row is None:
            raise NotFound(tr("store.customer_not_found", id=cid))
        rows[cid] = row
    return rows[survivor_id], rows[other_id]


def _name(row) -> str:
    return str(getattr(row, "name", None) or "")


#: How long ago a merge or delete is "a moment ago" in what the loser of a race is told.
RECENT = dt.timedelta(minutes=10)


def _gone(store: Store, row) -> MergeConflict:
    """The sentence for a customer deleted since the merge was planned: merged into
    whom, by whom and when, if a merge did it."""
    MergeRecord = io_models(store)["MergeRecord"]
    record = (MergeRecord.select()
              .where(MergeRecord.merged_id == row.id, MergeRecord.undone_at.is_null())
              .order_by(MergeRecord.id.desc()).first())
    recent = row.deleted_at >= now() - RECENT
    if record is None:
        return MergeConflict(tr("merge_lock.deleted" if recent else "merge_lock.deleted_earlier",
                                name=_name(row), id=row.id, when=row.deleted_at.strftime(MINUTES)))
    into = store.Customer.get_or_none(store.Customer.id == record.survivor_id)
    when = record.created_at.strftime("%H:%M:%S" if recent else MINUTES)
    return MergeConflict(tr("merge_lock.merged_away" if recent else "merge_lock.merged_earlier",
                            name=_name(row), id=row.id, survivor=_name(into),
                            survivor_id=record.survivor_id, user=record.user or "?", when=when))


def merge(store: Store, survivor_id: int, other_id: int, values: dict[str, Any] | None = None,
          *, score: int | None = None, reasons: str | None = None,
          expected_versions: tuple[int, int] | None = None):
    """Merge ``other_id`` into ``survivor_id``; ``values`` overrides the default picks
    (field key → the value to keep). Returns the merge record (``id`` undoes it).

    One transaction with both rows locked (``_lock_pair``): both must still be live
    and, given ``expected_versions`` (``MergePlan.versions``), unchanged since the
    plan was read; otherwise ``MergeConflict`` says what happened (e.g. 李四 was
    merged into 张三 a moment ago by sam). Two merges of one pair in opposite
    directions: the first wins, the second is told so; no customer is lost."""
    if survivor_id == other_id:
        raise DedupeError(tr("dedupe.same_customer", id=survivor_id))
    C, Contact, Interaction = store.Customer, store.Contact, store.Interaction
    MergeRecord = io_models(store)["MergeRecord"]
    with store.db.atomic():
        survivor, other = _lock_pair(store, survivor_id, other_id)
        for row in (survivor, other):
            if row.deleted_at is not None:
                raise _gone(store, row)
        if expected_versions is not None:
            for row, version in zip((survivor, other), expected_versions):
                if row.version != version:
                    raise MergeConflict(tr("merge_lock.changed", name=_name(row), id=row.id))
        store.guard.require("edit", survivor)
        store.guard.require("delete", other)
        plan = _plan(store, survivor, other)
        chosen = {c.spec.key: c.value for c in plan}
        for key, value in (values or {}).items():
            if key not in chosen:
                raise DedupeError(tr("dedupe.unknown_field_merge", field=key))
            chosen[key] = value
        before = {c.spec.key: c.survivor for c in plan}
        contacts = [i for (i,) in Contact.select(Contact.id).where(Contact.customer == other_id).tuples()]
        entries = [i for (i,) in Interaction.select(Interaction.id)
                   .where(Interaction.customer == other_id).tuples()]
        if contacts:
            Contact.update(customer=survivor_id).where(Contact.id.in_(contacts)).execute()
        if entries:
            Interaction.update(customer=survivor_id).where(Interaction.id.in_(entries)).execute()
        stamp = now()
        merged = {k: getattr(survivor, k) for k in store.schema.keys} | chosen
        live = (C.deleted_at.is_null(),)
        done = C.update(**chosen, updated_at=stamp, version=survivor.version + 1,
                        search_text=search.build_search_text(store.schema, merged)
                        ).where(C.id == survivor_id, C.version == survivor.version, *live).execute()
        done += C.update(deleted_at=stamp, version=other.version + 1).where(
            C.id == other_id, C.version == other.version, *live).execute()
        if done != 2:   # cannot happen under the locks; never write over a change unseen
            raise MergeConflict(tr("merge_lock.changed", name=_name(survivor), id=survivor_id))
        store.audit.record("merge", "customer", survivor_id, before=before, after=chosen,
                           note=f"merged {other_id}")
        store.audit.record("merge", "customer", other_id, note=f"merged into {survivor_id}",
                           fields={"deleted_at": [None, str(stamp)]})
        store.refresh_purchase_totals(survivor_id)
        store.refresh_purchase_totals(other_id)
        satisfaction.refresh_latest(store, survivor_id)   # the latest score of both timelines
        record = MergeRecord.create(
            user=store.user, survivor_id=survivor_id, merged_id=other_id,
            survivor_before=to_json(before), after_version=survivor.version + 1,
            contact_ids=json.dumps(contacts), interaction_ids=json.dumps(entries),
            score=score, reasons=reasons)
    return record


def list_merges(store: Store) -> list:
    MergeRecord = io_models(store)["MergeRecord"]
    return list(MergeRecord.select().order_by(MergeRecord.id.desc()))


def undo_merge(store: Store, record_id: int, *, force: bool = False):
    """Put both customers back as they were before merge ``record_id``: the survivor's
    values, the other's contacts and timeline entries, the other undeleted. Refused
    when the survivor was edited since, unless ``force``."""
    MergeRecord = io_models(store)["MergeRecord"]
    record = MergeRecord.get_or_none(MergeRecord.id == record_id)
    if record is None:
        raise DedupeError(tr("dedupe.no_merge", id=record_id))
    if record.undone_at is not None:
        raise DedupeError(tr("dedupe.already_undone", id=record_id,
                             when=record.undone_at.strftime(MINUTES)))
    C, Contact, Interaction = store.Customer, store.Contact, store.Interaction
    with store.db.atomic():
        query = C.select().where(C.id.in_([record.survivor_id, record.merged_id])).order_by(C.id)
        rows = {r.id: r for r in (query.for_update() if store.is_postgres else query)}
        survivor = rows.get(record.survivor_id)
        if survivor is None:
            raise NotFound(tr("store.customer_not_found", id=record.survivor_id))
        store.guard.require("edit", survivor)
        store.guard.require("delete", survivor)
        if survivor.version != record.after_version and not force:
            raise DedupeError(tr("dedupe.edited_since", id=record_id, survivor=record.survivor_id))
        contacts, entries = json.loads(record.contact_ids), json.loads(record.interaction_ids)
        if contacts:
            Contact.update(customer=record.merged_id).where(Contact.id.in_(contacts)).execute()
        if entries:
            Interaction.update(customer=record.merged_id).where(Interaction.id.in_(entries)).execute()
        before = from_json(store, record.survivor_before)
        merged = {k: getattr(survivor, k) for k in store.schema.keys} | before
        stamp = now()
        C.update(**before, updated_at=stamp, version=C.version + 1,
                 search_text=search.build_search_text(store.schema, merged)
                 ).where(C.id == record.survivor_id).execute()
        C.update(deleted_at=None, updated_at=stamp, version=C.version + 1).where(
            C.id == record.merged_id).execute()
        store.audit.record("revert", "customer", record.survivor_id, note=f"undo merge {record_id}",
                           before={k: getattr(survivor, k) for k in before}, after=before)
        store.audit.record("revert", "customer", record.merged_id, note=f"undo merge {record_id}",
                           fields={"deleted_at": [str(record.created_at), None]})
        store.refresh_purchase_totals(record.survivor_id)
        store.refresh_purchase_totals(record.merged_id)
        satisfaction.refresh_latest(store, record.survivor_id)
        satisfaction.refresh_latest(store, record.merged_id)
        MergeRecord.update(undone_at=stamp, undone_by=store.user).where(
            MergeRecord.id == record_id).execute()
    return record
