"""Automation rules (自动化工作流程): *when* something happens to a customer *then*
do something, without anyone typing it.

A rule file (``automations.yaml``: the built-in examples next to this module,
then the user's file in the config folder, beside config.yaml)::

    rules:
      - name: thank-big-orders          # the rule's identity (what it did is remembered by it)
        when: purchase_logged           # customer_created, stage_changed, grade_changed,
                                        # {no_contact: {days: 90}}; or no `when`: `if` alone
        if: "purchase_total>=10000"     # optional, in the search-box language
        then:
          - follow_up: {in: 7d, note: "Thank them for the order"}
          - add_tag: VIP
          - set: {grade: A}
          - remove_tag: cold
          - agenda: {note: "Big order: call today"}

* **Event rules** (``purchase_logged``, ``customer_created``, ``stage_changed``,
  ``grade_changed``) run as the event happens: the model layer's write paths
  (``Store.create_customer``/``update_customer``/``add_interaction``,
  ``timeline.add_entry`` and ``bulk.apply``) call the small hooks at the end of
  this module. Imports do not fire events (100k rows must stay fast); a rule
  with ``if`` alone catches imported customers at the next ``run``. Stages
  rewritten by ``kehu segments recompute`` fire nothing either (same remedy).
* **Time rules** (``no_contact`` and rules with ``if`` alone) run with
  ``kehu automations run`` (cron). Each firing is remembered in the table
  ``automation_fired`` (rule, customer, occasion): a ``no_contact`` rule fires
  once per silence (the occasion is the day of the last contact), an ``if``-only
  rule once per customer, so running twice changes nothing more.
* A rule's own changes never trigger rules (no recursion, no loops).
* Every change goes through the normal audited write path, as the user who
  runs it, each audit entry noted ``rule:<name>``; what the user's role may not
  change (another owner's row, a field it may not edit) is skipped and said.
* A follow-up or agenda item a rule makes is a timeline entry (kind ``note``
  unless told) written by ``rule:<name>`` with a follow-up date; it is not a
  contact with the customer, so the last contact stays where it was.
"""
from __future__ import annotations

import datetime as dt
import difflib
import contextlib
import itertools
import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import peewee
import yaml

from .config import ConfigError, config_dir
from .errors import KehuError, log_bug
from .i18n import tr
from .store import now

DEFAULT_PATH = Path(__file__).with_name("automations.yaml")
EVENTS = ("purchase_logged", "customer_created", "stage_changed", "grade_changed")
NO_CONTACT = "no_contact"
ACTIONS = ("follow_up", "agenda", "set", "add_tag", "remove_tag")
RULE_KEYS = ("name", "enabled", "description", "when", "if", "then")
FOLLOW_UP_KEYS = ("in", "note", "kind")
AGENDA_KEYS = ("note", "kind")
#: The field each change event watches.
WATCHED = {"stage_changed": "stage", "grade_changed": "grade"}
TAG_FIELD = "tags"
RULE_USER = "rule:"          # the timeline's author (and audit note) of a rule's change
CHUNK = 500
BATCH = 200             # customers a run commits at once


class AutomationError(ConfigError):
    """A rule file that cannot be used: ``str()`` names the file, line and rule
    (``path:line: rule 'name': message``, as config.yaml's errors)."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None,
                 rule: str | None = None):
        self.rule, self.raw, self.bare = rule, message, path is None
        text = tr("automations.in_rule", rule=rule, message=message) if rule else message
        super().__init__(text, path or Path("automations.yaml"), line, rule)

    def at(self, path: Path, rule: str | None = None) -> "AutomationError":
        """This error named in ``path`` (a value's error is raised before the file is known)."""
        return AutomationError(self.raw, path, self.line, self.rule or rule) if self.bare else self


# --- the rules --------------------------------------------------------------------

@dataclass(frozen=True)
class Action:
    kind: str                         # one of ACTIONS
    values: dict[str, Any] = field(default_factory=dict)   # set: {field key: clean value}
    tags: tuple[str, ...] = ()        # add_tag / remove_tag
    ahead: str | None = None          # follow_up: "7d", "2w", "+3", "today"
    note: str | None = None
    entry_kind: str = "note"          # the timeline entry a follow-up / agenda item is

    def describe(self, schema) -> str:
        if self.kind == "set":
            return ", ".join(tr("automations.desc_set", field=schema[k].label(), value=_show(v))
                             for k, v in self.values.items())
        if self.kind in ("add_tag", "remove_tag"):
            return tr(f"automations.desc_{self.kind}", tags=", ".join(self.tags))
        if self.kind == "follow_up":
            return tr("automations.desc_follow_up", ahead=self.ahead, note=self.note or "")
        return tr("automations.desc_agenda", note=self.note or "")


@dataclass(frozen=True)
class Rule:
    name: str
    events: tuple[str, ...]           # EVENTS; empty for a time rule
    days: int | None                  # no_contact: days of silence
    condition: str | None             # query text
    actions: tuple[Action, ...]
    enabled: bool = True
    description: str | None = None
    path: Path | None = None
    line: int | None = None

    @property
    def timed(self) -> bool:
        """Run by ``kehu automations run`` (no_contact, or a condition alone)."""
        return not self.events

    def when_text(self) -> str:
        if self.days is not None:
            return f"{NO_CONTACT} {self.days}d"
        return ", ".join(self.events) or tr("automations.when_condition")

    def as_dict(self, schema) -> dict[str, Any]:
        return {"name": self.name, "enabled": self.enabled, "when": list(self.events),
                "no_contact_days": self.days, "if": self.condition,
                "then": [{"action": a.kind, "text": a.describe(schema)} for a in self.actions],
                "description": self.description,
                "file": str(self.path) if self.path else None, "line": self.line}


def user_path() -> Path:
    return config_dir() / "automations.yaml"


def _show(value: Any) -> str:
    if value is None:
        return tr("automations.empty")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _compose(path: Path):
    """The YAML node tree of ``path`` (None: empty), or the one message with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AutomationError(tr("config.bad_yaml", error=exc.reason), path) from None
    except OSError as exc:
        raise AutomationError(str(exc.strerror or exc), path) from None
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        raise AutomationError(tr("config.bad_yaml", error=tr(
            "files.bad_character", code=f"{exc.character:#06x}")), path, line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise AutomationError(tr("config.bad_yaml", error=getattr(exc, "problem", None) or exc),
                              path, mark.line + 1 if mark else 1) from None


def _value(node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except yaml.YAMLError as exc:
        raise AutomationError(str(getattr(exc, "problem", exc)), None,
                              node.start_mark.line + 1) from None
    finally:
        loader.dispose()


def _line(node) -> int:
    return node.start_mark.line + 1


def _unknown(word: Any, known: Iterable[str], what: str) -> str:
    near = difflib.get_close_matches(str(word), list(known), n=1, cutoff=0.6)
    if near:
        return tr("automations.unknown_near", what=what, word=word, near=near[0])
    return tr("automations.unknown", what=what, word=word, known=", ".join(known))


@dataclass
class _Part:
    """One key of a rule as written: its value node and where it is."""
    key_node: Any
    node: Any
    path: Path


def _read_rules(path: Path) -> list[tuple[str, int, dict[str, _Part]]]:
    """(name, line, {key: part}) of every rule in one file, in order."""
    root = _compose(path)
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise AutomationError(tr("automations.not_mapping"), path, _line(root))
    rules_node = None
    for key_node, value_node in root.value:
        key = _value(key_node)
        if key != "rules":
            raise AutomationError(_unknown(key, ["rules"], tr("automations.what_section")),
                                  path, _line(key_node))
        rules_node = value_node
    if rules_node is None or (isinstance(rules_node, yaml.ScalarNode) and _value(rules_node) is None):
        return []
    if not isinstance(rules_node, yaml.SequenceNode):
        raise AutomationError(tr("automations.rules_not_list"), path, _line(rules_node))
    out = []
    seen: dict[str, int] = {}
    for item in rules_node.value:
        if not isinstance(item, yaml.MappingNode):
            raise AutomationError(tr("automations.rule_not_mapping"), path, _line(item))
        parts: dict[str, _Part] = {}
        for key_node, value_node in item.value:
            key = _value(key_node)
            if key in parts:
                raise AutomationError(tr("automations.duplicate_key", key=key,
                                         first=_line(parts[key].key_node)), path, _line(key_node))
            parts[str(key)] = _Part(key_node, value_node, path)
        name_part = parts.get("name")
        name = _value(name_part.node) if name_part else None
        if not isinstance(name, (str, int)) or isinstance(name, bool) or not str(name).strip():
            raise AutomationError(tr("automations.no_name"), path,
                                  _line(name_part.node) if name_part else _line(item))
        name = str(name).strip()
        if name in seen:
            raise AutomationError(tr("automations.duplicate_rule", first=seen[name]), path,
                                  _line(item), name)
        seen[name] = _line(item)
        out.append((name, _line(item), parts))
    return out


def load_rules(schema, paths: Iterable[Path] | None = None) -> list[Rule]:
    """Every rule of the built-in file then the user's (a user rule with a built-in
    rule's name replaces the keys it gives: ``enabled: true`` switches an example
    on). A file that cannot be used raises ``AutomationError`` (file, line, rule)."""
    if paths is None:
        paths = [DEFAULT_PATH, user_path()]
    merged: dict[str, tuple[int, Path, dict[str, _Part]]] = {}
    for path in paths:
        path = Path(path)
        if path != DEFAULT_PATH and not path.exists():
            continue
        try:
            found = _read_rules(path)
        except AutomationError as exc:
            raise exc.at(path) from None
        for name, line, parts in found:
            if name in merged:
                _, first_path, old = merged[name]
                merged[name] = (line, path if first_path != path else first_path, old | parts)
            else:
                merged[name] = (line, path, parts)
    out = []
    for name, (line, path, parts) in merged.items():
        try:
            try:
                out.append(_build(schema, name, line, path, parts))
            except AutomationError as exc:
                raise exc.at(path, name) from None
        except AutomationError:
            # a built-in example left off that this schema cannot run (a field it
            # lacks) is left out; switched on, it is told like any rule
            builtin = all(part.path == DEFAULT_PATH for part in parts.values())
            if not (builtin and "enabled" in parts and _value(parts["enabled"].node) is False):
                raise
    return out


def _build(schema, name: str, line: int, path: Path, parts: dict[str, _Part]) -> Rule:
    def fail(part: _Part | None, message: str, node=None) -> AutomationError:
        at = node if node is not None else (part.node if part else None)
        return AutomationError(message, part.path if part else path,
                               _line(at) if at is not None else line, name)

    for key, part in parts.items():
        if key not in RULE_KEYS:
            raise AutomationError(_unknown(key, RULE_KEYS, tr("automations.what_key")),
                                  part.path, _line(part.key_node), name)
    values = {key: _value(part.node) for key, part in parts.items()}
    enabled = values.get("enabled", True)
    if not isinstance(enabled, bool):
        raise fail(parts["enabled"], tr("automations.not_bool", key="enabled", value=_show(enabled)))
    description = values.get("description")
    if description is not None and not isinstance(description, str):
        raise fail(parts["description"], tr("automations.not_text", key="description"))
    events, days = _when(parts.get("when"), values.get("when"), fail)
    condition = values.get("if")
    if condition is not None:
        if not isinstance(condition, str) or not condition.strip():
            raise fail(parts["if"], tr("automations.not_text", key="if"))
        from .query import QueryError, parse

        try:
            parse(schema, condition)
        except QueryError as exc:
            raise fail(parts["if"], tr("automations.bad_if", error=str(exc))) from None
        condition = condition.strip()
    if not events and days is None and condition is None:
        raise AutomationError(tr("automations.no_when"), path, line, name)
    if "then" not in parts:
        raise AutomationError(tr("automations.no_then", actions=", ".join(ACTIONS)), path, line,
                              name)
    actions = _then(schema, parts["then"], fail)
    return Rule(name, events, days, condition, tuple(actions), enabled, description,
                path, line)


def _when(part: _Part | None, value: Any, fail) -> tuple[tuple[str, ...], int | None]:
    if part is None or value is None:
        return (), None
    if isinstance(value, str):
        value = [value]
    if isinstance(value, list):
        out = []
        for index, word in enumerate(value):
            node = part.node.value[index] if isinstance(part.node, yaml.SequenceNode) else part.node
            if word == NO_CONTACT:
                raise fail(part, tr("automations.no_contact_days"), node)
            if word not in EVENTS:
                raise fail(part, _unknown(word, (*EVENTS, NO_CONTACT),
                                          tr("automations.what_event")), node)
            out.append(word)
        return tuple(out), None
    if isinstance(value, dict) and len(value) == 1:
        key, inner = next(iter(value.items()))
        if key in EVENTS and inner is None:
            return (key,), None
        if key != NO_CONTACT:
            raise fail(part, _unknown(key, (*EVENTS, NO_CONTACT), tr("automations.what_event")))
        if isinstance(inner, dict):
            extra = [k for k in inner if k != "days"]
            if extra:
                raise fail(part, _unknown(extra[0], ["days"], tr("automations.what_key")))
            inner = inner.get("days")
        if isinstance(inner, bool) or not isinstance(inner, int) or not 1 <= inner <= 3650:
            raise fail(part, tr("automations.bad_days", value=_show(inner)))
        return (), inner
    raise fail(part, tr("automations.bad_when", events=", ".join(EVENTS)))


def _then(schema, part: _Part, fail) -> list[Action]:
    node = part.node
    items = node.value if isinstance(node, yaml.SequenceNode) else [node]
    if not items or (isinstance(node, yaml.ScalarNode)):
        raise fail(part, tr("automations.no_then", actions=", ".join(ACTIONS)))
    out = []
    for item in items:
        if not isinstance(item, yaml.MappingNode) or len(item.value) != 1:
            raise fail(part, tr("automations.action_one_key", actions=", ".join(ACTIONS)), item)
        key_node, value_node = item.value[0]
        kind, value = _value(key_node), _value(value_node)
        if kind not in ACTIONS:
            raise fail(part, _unknown(kind, ACTIONS, tr("automations.what_action")), key_node)
        out.append(_action(schema, kind, value, lambda msg: fail(part, msg, value_node)))
    return out


def _action(schema, kind: str, value: Any, fail) -> Action:
    from .agenda import day_ahead

    if kind in ("follow_up", "agenda"):
        keys = FOLLOW_UP_KEYS if kind == "follow_up" else AGENDA_KEYS
        if kind == "agenda" and isinstance(value, str):
            value = {"note": value}
        if not isinstance(value, dict):
            raise fail(tr("automations.action_mapping", action=kind, keys=", ".join(keys)))
        for key in value:
            if key not in keys:
                raise fail(_unknown(key, keys, tr("automations.what_key")))
        note = value.get("note")
        if note is not None and (not isinstance(note, str) or not note.strip()):
            raise fail(tr("automations.not_text", key="note"))
        if kind == "agenda" and note is None:
            raise fail(tr("automations.needs_note"))
        ahead = "today"
        if kind == "follow_up":
            raw = value.get("in")
            if raw is None:
                raise fail(tr("automations.needs_in"))
            ahead = f"+{raw}" if isinstance(raw, int) and not isinstance(raw, bool) else str(raw)
            if day_ahead(ahead) is None:
                raise fail(tr("automations.bad_in", value=_show(raw)))
        entry_kind = value.get("kind") or "note"
        items = schema.list_items("interaction_kinds")
        match = [i.value for i in items if entry_kind == i.value
                 or str(entry_kind).casefold() in {lbl.casefold() for lbl in i.labels.values()}]
        if not match:
            raise fail(_unknown(entry_kind, [i.value for i in items], tr("automations.what_kind")))
        return Action(kind, ahead=ahead, note=note.strip() if note else None,
                      entry_kind=match[0])
    if kind == "set":
        if not isinstance(value, dict) or not value:
            raise fail(tr("automations.set_mapping"))
        from .validate import FieldError, clean

        values = {}
        for name, raw in value.items():
            spec = schema.get(str(name)) or schema.resolve(str(name))
            if spec is None:
                raise fail(_unknown(name, schema.keys, tr("automations.what_field")))
            if spec.computed:
                raise fail(tr("automations.computed", field=spec.label()))
            try:
                values[spec.key] = clean(spec, raw)
            except FieldError as exc:
                raise fail(tr("automations.bad_value", field=spec.label(),
                              error=exc.message)) from None
        return Action(kind, values=values)
    # add_tag / remove_tag
    tags = value if isinstance(value, list) else [value]
    if not tags or any(not isinstance(t, (str, int)) or isinstance(t, bool) or not str(t).strip()
                       for t in tags):
        raise fail(tr("automations.bad_tag"))
    spec = schema.get(TAG_FIELD)
    if spec is None or spec.type != "tags":
        raise fail(tr("automations.no_tag_field", field=TAG_FIELD))
    return Action(kind, tags=tuple(str(t).strip() for t in tags))


def check(schema, paths: Iterable[Path] | None = None) -> list[Rule]:
    """``load_rules`` (the CLI's ``check``): the rules, or the one message."""
    return load_rules(schema, paths)


def rules(store) -> list[Rule]:
    """The rules in effect for this store, read again when a file changed."""
    paths = [DEFAULT_PATH, user_path()]
    stamp = tuple((str(p), p.stat().st_mtime_ns if p.exists() else None) for p in paths)
    cached = store.__dict__.get("_automation_rules")
    if cached is not None and cached[0] == stamp:
        if isinstance(cached[1], AutomationError):
            raise cached[1]
        return cached[1]
    try:
        found = load_rules(store.schema, paths)
    except AutomationError as exc:
        store.__dict__["_automation_rules"] = (stamp, exc)
        raise
    store.__dict__["_automation_rules"] = (stamp, found)
    return found


# --- what was done -------------------------------------------------------------------

def fired_model(store) -> type[peewee.Model]:
    """The table ``automation_fired``: which rule fired for which customer, on which
    occasion, when and run by whom (made by the migration; ``models.team`` gives it
    the row security of a customer's child table)."""
    cached = store.__dict__.get("_automation_fired")
    if cached is not None:
        return cached
    Fired = type("AutomationFired", (peewee.Model,), {
        "Meta": type("Meta", (), {"database": store.db, "table_name": "automation_fired",
                                  "indexes": ((("rule", "customer_id", "occasion"), True),)}),
        "rule": peewee.TextField(),
        "customer_id": peewee.BigIntegerField(index=True),
        "occasion": peewee.TextField(),
        "fired_at": peewee.DateTimeField(),
        "login": peewee.TextField(),
        "changes": peewee.TextField(null=True),
    })
    # public: a role reading through the masking views has kehu_masked first in its path
    if not store.db.table_exists("automation_fired",
                                 schema="public" if store.is_postgres else None):
        if store.is_postgres:
            from .team import may_migrate

            if not may_migrate(store.db):   # no DDL by a team member: the owner migrates
                raise AutomationError(tr("automations.no_table"))
        store.db.create_tables([Fired], safe=True)
    store.__dict__["_automation_fired"] = Fired
    return Fired


@dataclass
class Firing:
    """One rule fired for one customer: what it did and what it could not do."""
    rule: str
    customer_id: int
    name: str
    occasion: str
    done: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "customer_id": self.customer_id, "name": self.name,
                "occasion": self.occasion, "done": self.done, "unchanged": self.unchanged,
                "skipped": self.skipped}

    def sentence(self) -> str:
        parts = [tr("automations.fired", rule=self.rule, id=self.customer_id, name=self.name)]
        parts += self.done
        parts += [tr("automations.already", what=u) for u in self.unchanged]
        parts += [tr("automations.skipped", why=s) for s in self.skipped]
        return "  ".join([parts[0], "; ".join(parts[1:])])


@dataclass
class RunResult:
    today: dt.date
    dry_run: bool
    rules: int = 0
    firings: list[Firing] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)   # a rule that could not run at all

    @property
    def changes(self) -> int:
        return sum(len(f.done) for f in self.firings)

    @property
    def skipped(self) -> int:
        return sum(len(f.skipped) for f in self.firings)

    def as_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "dry_run": self.dry_run, "rules": self.rules,
                "changes": self.changes, "skipped": self.skipped, "problems": self.problems,
                "fired": [f.as_dict() for f in self.firings]}

    def summary(self) -> str:
        key = "automations.would_summary" if self.dry_run else "automations.summary"
        return tr(key, rules=self.rules, customers=len(self.firings), changes=self.changes,
                  skipped=self.skipped)


def _today() -> dt.date:
    """The day rules count from (tests replace it)."""
    return dt.date.today()


def _busy(store) -> bool:
    """A rule is acting (its changes fire no rule), or an undo is (``audit.revert``:
    putting a value back is no new event, and its entries must stay the undo's)."""
    return bool(store.__dict__.get("_automation_busy")) or store.audit._acting is not None


@contextmanager
def _acting(store, rule: Rule):
    """Inside: the store makes a rule's changes (no rule fires on them; every audit
    entry is noted ``rule:<name>``)."""
    was = store.__dict__.get("_automation_busy", False)
    store.__dict__["_automation_busy"] = True
    try:
        with store.audit.noting(RULE_USER + rule.name):
            yield
    finally:
        store.__dict__["_automation_busy"] = was


def _matches(store, rule: Rule, customer_id: int) -> bool:
    from .results import ResultSet

    if rule.condition is None:
        return True
    C = store.Customer
    return ResultSet(store, rule.condition)._select(C.id).where(C.id == customer_id).exists()


def _fire(store, rule: Rule, customer_id: int, occasion: str, today: dt.date) -> Firing | None:
    """Do ``rule``'s actions for one customer, once per occasion (None: it had
    fired on this occasion already, or the customer is out of reach)."""
    Fired = fired_model(store)
    if Fired.select().where(Fired.rule == rule.name, Fired.customer_id == customer_id,
                            Fired.occasion == occasion).exists():
        return None
    try:
        row = store.get_customer(customer_id)
    except LookupError:
        return None
    firing = Firing(rule.name, customer_id, row.name, occasion)
    try:
        with store.db.atomic() as txn, _acting(store, rule):
            # remembered first: a run beside this one that fires it too fails here
            # (unique), and its changes go with it
            Fired.insert(rule=rule.name, customer_id=customer_id, occasion=occasion,
                         fired_at=now(), login=store.user).execute()
            for action in rule.actions:
                try:
                    with store.db.atomic():
                        row = _do(store, rule, action, row, today, firing)
                except KehuError as exc:
                    firing.skipped.append(f"{action.describe(store.schema)}: {exc}")
            if not firing.done and not firing.unchanged:
                txn.rollback()      # nothing could be done: a user who may will do it later
                return firing
            Fired.update(changes=json.dumps(firing.done + firing.skipped, ensure_ascii=False)
                         ).where(Fired.rule == rule.name, Fired.customer_id == customer_id,
                                 Fired.occasion == occasion).execute()
    except peewee.IntegrityError:
        return None
    return firing


def _do(store, rule: Rule, action: Action, row, today: dt.date, firing: Firing):
    """One action for the customer ``row``; returns the row as it is after it."""
    from .validate import split_tags

    what = action.describe(store.schema)
    if action.kind in ("follow_up", "agenda"):
        _add_reminder(store, rule, action, row, today)
        firing.done.append(what)
        return row
    current = store.raw_record(row)
    if action.kind == "set":
        from .audit import plain

        changes = {k: v for k, v in action.values.items() if plain(current.get(k)) != plain(v)}
    else:
        tags = split_tags(current.get(TAG_FIELD) or "")
        if action.kind == "add_tag":
            new = tags + [t for t in action.tags if t not in tags]
        else:
            new = [t for t in tags if t not in action.tags]
        changes = {TAG_FIELD: ",".join(new) or None} if new != tags else {}
    if not changes:
        firing.unchanged.append(what)
        return row
    row = store.update_customer(row.id, changes)
    firing.done.append(what)
    return row


def _add_reminder(store, rule: Rule, action: Action, customer, today: dt.date):
    """A follow-up (or today's agenda item) written by the rule: the timeline's add
    without moving the last contact (a reminder is no contact with the customer)."""
    from .agenda import day_ahead
    from .timeline import clean_entry

    store.guard.require("edit", customer)
    customer_id = customer.id
    due = day_ahead(action.ahead or "today", today) or today
    values = clean_entry(store, customer_id, {
        "kind": action.entry_kind, "summary": action.note or rule.name, "next_follow_up": due,
        "user": RULE_USER + rule.name, "occurred_at": None})
    stamp = now()
    row = store.Interaction.create(customer=customer_id, created_at=stamp, updated_at=stamp,
                                   **values)
    store.audit.child_created(row)
    return row


# --- kehu automations run ------------------------------------------------------------------

def run(store, today: dt.date | None = None, *, dry_run: bool = False,
        only: str | None = None) -> RunResult:
    """Run the time rules (``no_contact`` and ``if`` alone) for every customer the
    user may see; ``dry_run`` does it all in a transaction that is rolled back."""
    today = today or _today()
    all_rules = rules(store)
    chosen = [r for r in all_rules if r.enabled and r.timed and (only is None or r.name == only)]
    if only is not None and not any(r.name == only for r in all_rules):
        raise AutomationError(_unknown(only, [r.name for r in all_rules],
                                       tr("automations.what_rule")))
    store.guard.require("view")
    fired_model(store)
    result = RunResult(today, dry_run, len(chosen))
    with (store.db.atomic() if dry_run else contextlib.nullcontext()) as txn:
        for rule in chosen:
            try:
                due = iter(_due(store, rule, today))
                # a transaction per batch of customers, not per customer (a commit
                # each is most of the time on SQLite); each firing is a savepoint
                while batch := list(itertools.islice(due, BATCH)):
                    with store.db.atomic():
                        for customer_id, occasion in batch:
                            firing = _fire(store, rule, customer_id, occasion, today)
                            if firing is not None:
                                result.firings.append(firing)
            except KehuError as exc:
                result.problems.append(tr("automations.rule_failed", rule=rule.name, error=exc))
        if dry_run:
            txn.rollback()
    return result


def _due(store, rule: Rule, today: dt.date) -> Iterable[tuple[int, str]]:
    """(customer id, occasion) of the customers the rule applies to now, not yet
    fired for that occasion, within the user's row scope."""
    from .agenda import _last_contact
    from .results import ResultSet

    C = store.Customer
    Fired = fired_model(store)
    base = _last_contact(store)
    query = ResultSet(store, rule.condition or "")._select(C.id, base.alias("base"))
    if rule.days is not None:
        cut = dt.datetime.combine(today - dt.timedelta(days=rule.days - 1), dt.time())
        query = query.where(base < cut)
    last = 0
    while True:
        rows = list(query.where(C.id > last).order_by(C.id).limit(CHUNK).tuples())
        if not rows:
            return
        last = rows[-1][0]
        wanted = {}
        for customer_id, when in rows:
            if rule.days is None:
                wanted[customer_id] = "match"
            else:
                if isinstance(when, str):
                    when = dt.datetime.fromisoformat(when)
                wanted[customer_id] = f"{NO_CONTACT}:{when.date().isoformat()}"
        done = {(r.customer_id, r.occasion) for r in Fired.select(Fired.customer_id, Fired.occasion)
                .where(Fired.rule == rule.name, Fired.customer_id.in_(list(wanted)))}
        for customer_id, occasion in wanted.items():
            if (customer_id, occasion) not in done:
                yield customer_id, occasion


def history(store, customer_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """What rules did, newest first."""
    Fired = fired_model(store)
    query = Fired.select().order_by(Fired.id.desc()).limit(limit)
    if customer_id is not None:
        store.get_customer(customer_id)
        query = query.where(Fired.customer_id == customer_id)
    elif store.guard.row_scope() is not None:   # only the customers the user may see
        query = query.where(Fired.customer_id.in_(store.customers().select(store.Customer.id)))
    return [{"rule": r.rule, "customer_id": r.customer_id, "occasion": r.occasion,
             "fired_at": r.fired_at, "login": r.login,
             "changes": json.loads(r.changes or "[]")} for r in query]


# --- events: the hooks the write paths call ------------------------------------------------

def _event_rules(store, events: Iterable[str]) -> list[Rule]:
    """Enabled rules on any of ``events``; none while a rule acts (no recursion). A
    broken rule file never stops a save: it is noted, and `kehu automations check`
    says what is wrong."""
    if _busy(store):
        return []
    try:
        found = rules(store)
    except AutomationError as exc:
        _note(store, str(exc))
        return []
    wanted = set(events)
    return [r for r in found if r.enabled and wanted & set(r.events)]


def _note(store, text: str) -> None:
    notes = store.__dict__.setdefault("automation_notes", [])
    notes.append(text)
    del notes[:-50]


def take_notes(store) -> list[str]:
    """What rules did (or could not do) on the events since the last call: for a
    screen to show after a save."""
    notes = store.__dict__.get("automation_notes") or []
    store.__dict__["automation_notes"] = []
    return notes


def _watched_keys(store, rules_: list[Rule]) -> list[str]:
    return sorted({WATCHED[e] for r in rules_ for e in r.events
                   if e in WATCHED and WATCHED[e] in store.schema})


def before(store, customer_id: int) -> dict[str, Any] | None:
    """The watched fields (grade, stage) of a customer before a change that may
    move them (a purchase re-scores the stage); None when no rule watches them."""
    watching = _event_rules(store, WATCHED)
    keys = _watched_keys(store, watching)
    if not keys:
        return None
    C = store.Customer
    row = C.select(*[getattr(C, k) for k in keys]).where(C.id == customer_id).dicts().first()
    return row or None


def after(store, customer_id: int, seen: dict[str, Any] | None, *,
          purchase: int | None = None) -> list[Firing]:
    """After a timeline entry: ``purchase_logged`` (``purchase``: the entry id) and
    the watched fields' changes since ``before``."""
    events: list[tuple[str, str]] = []
    if purchase is not None:
        events.append(("purchase_logged", f"purchase:{purchase}"))
    if seen:
        C = store.Customer
        now_row = C.select(*[getattr(C, k) for k in seen], C.version).where(
            C.id == customer_id).dicts().first() or {}
        events += _changes(seen, now_row, now_row.get("version"))
    return _dispatch(store, customer_id, events)


def _changes(old: dict[str, Any], new: dict[str, Any], version: Any) -> list[tuple[str, str]]:
    out = []
    for event, key in WATCHED.items():
        if key in old and key in new and old[key] != new[key]:
            out.append((event, f"{event}:{old[key]}>{new[key]}:v{version}"))
    return out


def changed(store, customer_id: int, old: dict[str, Any], new: dict[str, Any],
            version: Any = None) -> list[Firing]:
    """After ``update_customer``: ``stage_changed`` / ``grade_changed``."""
    if _busy(store):
        return []
    return _dispatch(store, customer_id, _changes(old, new, version))


def created(store, customer_id: int) -> list[Firing]:
    """After ``create_customer``."""
    return _dispatch(store, customer_id, [("customer_created", "created")])


def after_bulk(store, batch_id: int | None) -> list[Firing]:
    """After a bulk change: the events of every customer it changed (read from its
    journal: the values before, and a purchase it logged). What a rule then does is
    left out of the bulk change's undo, which still puts back its own fields."""
    if batch_id is None or _busy(store):
        return []
    watching = _event_rules(store, (*WATCHED, "purchase_logged"))
    if not watching:
        return []
    from .bulk import LOGGED
    from .io_tables import io_models

    Change = io_models(store)["ImportChange"]
    I, C = store.Interaction, store.Customer
    keys = [k for k in WATCHED.values() if k in store.schema]
    out: list[Firing] = []
    for change in Change.select().where(Change.batch == batch_id).order_by(Change.customer_id):
        old = json.loads(change.before or "{}")
        events = []
        entry = old.get(LOGGED)
        if entry is not None and I.select().where(I.id == entry, I.kind == "purchase").exists():
            events.append(("purchase_logged", f"purchase:{entry}"))
        moved = {k: old[k] for k in keys if k in old}
        if moved:
            row = C.select(*[getattr(C, k) for k in moved]).where(
                C.id == change.customer_id).dicts().first() or {}
            events += _changes(moved, row, change.after_version)
        fired = _dispatch(store, change.customer_id, events)
        if any(f.done for f in fired):   # the bulk change stays undoable: its undo puts
            version = C.select(C.version).where(C.id == change.customer_id).scalar()
            Change.update(after_version=version).where(Change.id == change.id).execute()
        out += fired                     # back its own fields, the rule's work stays
    return out


def _dispatch(store, customer_id: int, events: list[tuple[str, str]]) -> list[Firing]:
    if not events:
        return []
    fired: list[Firing] = []
    today = _today()
    for event, occasion in events:
        for rule in _event_rules(store, [event]):
            try:
                if not _matches(store, rule, customer_id):
                    continue
                firing = _fire(store, rule, customer_id, occasion, today)
            except KehuError as exc:
                _note(store, tr("automations.rule_failed", rule=rule.name, error=exc))
                continue
            except Exception as exc:  # noqa: BLE001 - a rule never breaks the save it follows
                log_bug(exc)
                _note(store, tr("automations.rule_failed", rule=rule.name, error=type(exc).__name__))
                continue
            if firing is not None:
                fired.append(firing)
                _note(store, firing.sentence())
    return fired
