"""Views: a named query + sort + columns (+ widths, grouping) over the customers.

The built-in views are the four rosters of seed 000 (``default_views.yaml``);
the user's own live in ``config_dir()/views.yaml`` in the same format, editable
by hand. A user view with a built-in's key replaces it (deleting it brings the
built-in back). A broken views.yaml never stops kehu: ``load_views`` returns
the built-ins plus the messages (file:line, what is wrong) for the UI to show.

    views = load_views(store.schema)        # ViewList: .views, .errors, .get(key)
    rs = views.get("ranking").result_set(store, "region:华东")
    save_view(View("east", {"zh": "华东", "en": "East"}, query="region:华东"), store.schema)
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import KehuError
from .config import config_dir
from .i18n import label as pick_label
from .i18n import tr
from .query import QueryError, parse, resolve_field
from .results import ResultSet, parse_sort, sort_column
from .schema import Schema, SchemaError, _Loader

DEFAULT_VIEWS_PATH = Path(__file__).with_name("default_views.yaml")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,40}$")
VIEW_ATTRS = ("key", "name", "help", "query", "sort", "columns", "widths", "group_by")


class ViewsError(KehuError):
    """views.yaml cannot be written (it is broken, or the view is invalid)."""


@dataclass
class View:
    key: str
    names: dict[str, str]
    query: str = ""
    sort: list[tuple[str, str]] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)   # empty: the schema's table columns
    widths: dict[str, int] = field(default_factory=dict)
    group_by: str | None = None
    help: dict[str, str] | None = None
    builtin: bool = False
    line: int | None = None

    def name(self, lang: str | None = None) -> str:
        return pick_label(self.names, lang) or self.key

    def column_keys(self, schema: Schema) -> list[str]:
        keys = [k for k in self.columns if k in schema] if self.columns else []
        return keys or [f.key for f in schema.table_fields]

    def width(self, schema: Schema, key: str) -> int:
        return self.widths.get(key) or schema[key].display_width

    def result_set(self, store, search: str = "") -> ResultSet:
        """The view's rows, narrowed by what is typed in the search box."""
        return ResultSet(store, search, sort=self.sort or None, base_filter=self.query or None)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "name": dict(self.names)}
        if self.help:
            data["help"] = dict(self.help)
        if self.query:
            data["query"] = self.query
        if self.sort:
            data["sort"] = [("-" if d == "desc" else "") + k for k, d in self.sort]
        if self.columns:
            data["columns"] = list(self.columns)
        if self.widths:
            data["widths"] = dict(self.widths)
        if self.group_by:
            data["group_by"] = self.group_by
        return data


@dataclass
class ViewList:
    views: list[View]
    errors: list[str]

    def get(self, key: str) -> View | None:
        return next((v for v in self.views if v.key == key), None)

    def find(self, name: str) -> View | None:
        """By key or by name in any language."""
        folded = name.casefold()
        return self.get(name) or next(
            (v for v in self.views if folded in {n.casefold() for n in v.names.values()}), None)

    def __iter__(self):
        return iter(self.views)

    def __len__(self) -> int:
        return len(self.views)


def user_views_path() -> Path:
    return config_dir() / "views.yaml"


def _read(path: Path) -> tuple[list, list[str]]:
    """The raw view mappings of a file, or the message saying why there are none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], []
    except (OSError, UnicodeDecodeError) as exc:
        return [], [tr("views.bad_yaml", path=path, line=1, problem=exc)]
    try:
        doc = yaml.load(text, Loader=_Loader)
    except SchemaError as exc:
        return [], [tr("views.bad_yaml", path=path, line=exc.line or 1, problem=exc.message)]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        return [], [tr("views.bad_yaml", path=path, line=mark.line + 1 if mark else 1,
                       problem=problem)]
    except yaml.YAMLError as exc:
        return [], [tr("views.bad_yaml", path=path, line=1, problem=exc)]
    if doc is None:
        return [], []
    if not isinstance(doc, dict) or not isinstance(doc.get("views", []), list):
        return [], [tr("views.not_mapping", path=path)]
    return list(doc.get("views") or []), []


def _labels(value: Any, key: str) -> dict[str, str]:
    if isinstance(value, dict) and value:
        return {str(k): str(v) for k, v in value.items()}
    if value:
        return {"zh": str(value), "en": str(value)}
    return {"zh": key, "en": key}


def _view(raw: Any, schema: Schema, builtin: bool) -> View:
    """One view from its mapping; ValueError with the problem if invalid."""
    if not isinstance(raw, dict):
        raise ValueError(tr("views.not_mapping", path="views"))
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise ValueError(tr("views.bad_key"))
    unknown = sorted(str(a) for a in raw if a not in VIEW_ATTRS)
    if unknown:
        raise ValueError(tr("views.unknown_attr", attr=", ".join(unknown),
                            known=", ".join(VIEW_ATTRS)))
    query = str(raw.get("query") or "")
    try:
        parse(schema, query)
        sort = parse_sort(schema, raw.get("sort"))
    except QueryError as exc:
        raise ValueError(tr("views.bad_query", message=exc)) from None
    columns = []
    for attr in ("columns", "sort"):
        if raw.get(attr) is not None and not isinstance(raw.get(attr), (list, str)):
            raise ValueError(tr("views.bad_list", attr=attr))
    for name in raw.get("columns") or []:
        spec = resolve_field(schema, str(name))
        if spec is None or spec.key not in schema:
            raise ValueError(tr("views.unknown_column", name=name))
        columns.append(spec.key)
    widths = {}
    raw_widths = raw.get("widths") or {}
    if not isinstance(raw_widths, dict):
        raise ValueError(tr("views.bad_list", attr="widths"))
    for name, width in raw_widths.items():
        spec = resolve_field(schema, str(name))
        if spec is None or spec.key not in schema:
            raise ValueError(tr("views.unknown_column", name=name))
        if isinstance(width, bool) or not isinstance(width, int) or not 1 <= width <= 200:
            raise ValueError(tr("views.bad_width", name=name))
        widths[spec.key] = width
    group_by = raw.get("group_by")
    if group_by:
        try:
            group_by = sort_column(schema, str(group_by))
        except QueryError:
            raise ValueError(tr("views.unknown_group", name=group_by)) from None
    return View(key=key, names=_labels(raw.get("name"), key), query=query, sort=sort,
                columns=columns, widths=widths, group_by=group_by or None,
                help=_labels(raw["help"], key) if raw.get("help") else None,
                builtin=builtin, line=getattr(raw, "line", None))


def _views_from(path: Path, schema: Schema, builtin: bool) -> tuple[list[View], list[str]]:
    raws, errors = _read(path)
    views: list[View] = []
    for raw in raws:
        try:
            views.append(_view(raw, schema, builtin))
        except ValueError as exc:
            key = raw.get("key", "?") if isinstance(raw, dict) else "?"
            errors.append(tr("views.bad_view", path=path, line=getattr(raw, "line", "?"),
                             key=key, problem=exc))
    return views, errors


def builtin_views(schema: Schema) -> list[View]:
    return _views_from(DEFAULT_VIEWS_PATH, schema, True)[0]


def load_views(schema: Schema, path: Path | None = None) -> ViewList:
    """Built-in views, then the user's (a user view replaces a built-in of the same key)."""
    views = builtin_views(schema)
    user, errors = _views_from(path or user_views_path(), schema, False)
    for view in user:
        existing = next((i for i, v in enumerate(views) if v.key == view.key), None)
        if existing is None:
            views.append(view)
        else:
            views[existing] = view
    return ViewList(views, errors)


def _plain(value: Any) -> Any:
    """``value`` as plain dicts and lists: the YAML loader's line-tracking
    mappings (schema._LineDict) are dict subclasses ``safe_dump`` refuses."""
    if isinstance(value, dict):
        return {_plain(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _write(path: Path, raws: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".yaml.tmp")
    text = yaml.safe_dump({"views": _plain(raws)}, allow_unicode=True, sort_keys=False,
                          width=100)
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _user_raws(path: Path) -> list[dict[str, Any]]:
    raws, errors = _read(path)
    if errors:  # never overwrite a file the user is fixing by hand
        raise ViewsError(errors[0])
    return [_plain(r) for r in raws]


def save_view(view: View, schema: Schema, path: Path | None = None) -> View:
    """Add or replace the user view ``view.key`` in views.yaml; returns it as loaded."""
    path = path or user_views_path()
    data = view.to_dict()
    try:
        saved = _view(data, schema, False)
    except ValueError as exc:
        raise ViewsError(str(exc)) from None
    raws = _user_raws(path)
    index = next((i for i, r in enumerate(raws) if isinstance(r, dict) and r.get("key") == view.key),
                 None)
    if index is None:
        raws.append(data)
    else:
        raws[index] = data
    _write(path, raws)
    return saved


def delete_view(key: str, path: Path | None = None) -> bool:
    """Remove a user view (a built-in it replaced comes back). False if none."""
    path = path or user_views_path()
    raws = _user_raws(path)
    kept = [r for r in raws if not (isinstance(r, dict) and r.get("key") == key)]
    if len(kept) == len(raws):
        return False
    _write(path, kept)
    return True


def new_view_key(name: str, existing: list[str]) -> str:
    """A key for a view saved as ``name`` ('华东 A 客户' → 'view_1' …, 'East A' → 'east_a')."""
    base = re.sub(r"[^a-z0-9]+", "_", name.casefold()).strip("_")
    if not base or not base[0].isalpha():
        base = "view" + ("_" + base if base else "")
    key, n = base[:40], 1
    while key in existing:
        n += 1
        key = f"{base[:36]}_{n}"
    return key


def _saved_view(key: str, schema: Schema, path: Path) -> tuple[ViewList, View]:
    """All views, and the saved one ``key`` (or named so); built-ins are refused."""
    views = load_views(schema, path)
    view = views.get(key) or views.find(key)
    if view is None:
        raise ViewsError(tr("views.not_found", name=key))
    if view.builtin:
        raise ViewsError(tr("views17.builtin_fixed", name=view.name()))
    return views, view


def rename_view(key: str, name: str, schema: Schema, path: Path | None = None) -> View:
    """Give the saved view ``key`` a new name (the same in zh and en; its key, query,
    columns … stay). Built-in rosters are refused — save one under another name
    first — and so is a name another view already has (in either language)."""
    name = name.strip()
    if not name:
        raise ViewsError(tr("views17.name_empty"))
    path = path or user_views_path()
    views, view = _saved_view(key, schema, path)
    other = views.find(name)
    if other is not None and other.key != view.key:
        raise ViewsError(tr("views17.name_taken", name=name))
    raws = _user_raws(path)
    raw = next(r for r in raws if isinstance(r, dict) and r.get("key") == view.key)
    raw["name"] = {"zh": name, "en": name}
    _write(path, raws)
    return load_views(schema, path).get(view.key)


def remove_view(key: str, schema: Schema, path: Path | None = None) -> View:
    """Delete the saved view ``key`` (or named so); the view it was is returned. A
    built-in roster cannot be deleted; a user's version of one goes and the
    built-in comes back (``delete_view``)."""
    path = path or user_views_path()
    _views, view = _saved_view(key, schema, path)
    delete_view(view.key, path)
    return view
