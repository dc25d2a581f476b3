"""Keymaps: which keys run which binding, by binding id.

Every remappable ``Binding`` in kehu has a dotted ``id`` (``customers.search``,
``table.cursor_down`` …). A keymap is a YAML file ``{binding id: keys}``:

* ``keys`` is a comma-separated string or a list: ``"ctrl+f,/"`` or
  ``[ctrl+f, /]``. ``none`` (or an empty list) unbinds the action.
* A key with a space in it is a *sequence* pressed one key after the other,
  like vim's ``g g`` or ``d d`` (Textual itself knows only single keys; the
  app resolves sequences, see ``KeySequences``).

Layers, each overriding single ids of the one before: ``keymaps/default.yaml``
(every id), the chosen keymap (``--keymap NAME`` or config; ``vim``,
``emacs``, or ``NAME.yaml`` in the user config folder), then the user's
``config_dir()/keymap.yaml``. A broken or unknown file is skipped with a
message naming it — kehu never fails to start because of a keymap.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml
from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode
from textual.keys import Keys, _character_to_key, key_to_character

from kehu.models import i18n
from kehu.models.config import config_dir
from kehu.models.i18n import tr

KEYMAP_DIR = Path(__file__).resolve().parent.parent / "keymaps"
if not KEYMAP_DIR.is_dir():  # installed: kehu.keymaps is a package beside kehu.tui
    import kehu.keymaps

    KEYMAP_DIR = Path(kehu.keymaps.__file__).parent

DEFAULT = "default"
MODIFIERS = {"ctrl", "alt", "shift", "super", "meta", "hyper"}
UNBOUND = "kehu_unbound"  # a key no terminal sends: how an action loses its single keys
_NAMED_KEYS = ({k.value.rpartition("+")[2] for k in Keys} | {"space", "tab", "enter", "escape"}
               | {_character_to_key(chr(c)) for c in range(33, 127)})


@dataclass
class Keymap:
    """A resolved keymap: single keys for Textual, sequences for the app."""
    name: str = DEFAULT
    keys: dict[str, list[str]] = field(default_factory=dict)  # id -> keys as written
    confirm: set[str] = field(default_factory=set)  # ids a sequence runs only after a yes
    problems: list[str] = field(default_factory=list)

    def textual_keymap(self) -> dict[str, str]:
        """``{id: "k1,k2"}`` for ``App.set_keymap`` (sequences left out)."""
        out = {}
        for binding_id, keys in self.keys.items():
            single = [normalise_key(k) for k in keys if " " not in k]
            out[binding_id] = ",".join(single) or UNBOUND
        return out

    def sequences(self) -> dict[tuple[str, ...], list[str]]:
        """``{("g", "g"): ["table.first_row", "list.first"]}`` — keys pressed in turn.

        One sequence may serve several ids (one per kind of widget); the app
        runs the one the focused widget or its screen has.
        """
        out: dict[tuple[str, ...], list[str]] = {}
        for binding_id, keys in self.keys.items():
            for key in keys:
                if " " in key:
                    seq = tuple(normalise_key(k) for k in key.split())
                    out.setdefault(seq, []).append(binding_id)
        return out


def normalise_key(key: str) -> str:
    """``?`` → ``question_mark``, ``ctrl+F`` stays; Textual's long names."""
    key = key.strip()
    return _character_to_key(key) if len(key) == 1 else key


def key_problem(key: str) -> str | None:
    """Why ``key`` is not a key a terminal can send, or None if it is."""
    for part in key.split():
        *mods, base = normalise_key(part).split("+")
        if any(m not in MODIFIERS for m in mods):
            return tr("keymap.bad_modifier", key=part, mods=", ".join(sorted(MODIFIERS)))
        if not (len(base) == 1 or base in _NAMED_KEYS or key_to_character(base)):
            return tr("keymap.bad_key", key=part)
    return None


def available_keymaps() -> list[str]:
    names = {p.stem for p in KEYMAP_DIR.glob("*.yaml")}
    user = config_dir() / "keymaps"
    names |= {p.stem for p in user.glob("*.yaml")} if user.is_dir() else set()
    return sorted(names)


def _keymap_path(name: str) -> Path | None:
    for folder in (config_dir() / "keymaps", KEYMAP_DIR):
        path = folder / f"{name}.yaml"
        if path.is_file():
            return path
    return None


CONFIRM = "confirm"  # the one entry that is not an id: [ids to confirm]


def read_keymap_file(path: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The ``{id: [keys]}`` of one file and the problems found in it.

    The list under ``confirm:`` comes back as ``{"confirm": [ids]}``.

    A file that is not YAML or not a mapping gives ``({}, [problem])``: the
    whole file is ignored. A single bad entry is left out with a problem.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return {}, [tr("keymap.unreadable", path=path, error=exc)]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return {}, [tr("keymap.bad_yaml", where=where, error=getattr(exc, "problem", exc))]
    if data is None:
        return {}, []
    if not isinstance(data, dict):
        return {}, [tr("keymap.not_mapping", path=path)]
    entries: dict[str, list[str]] = {}
    problems = []
    for binding_id, value in data.items():
        if binding_id == CONFIRM:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                entries[CONFIRM] = value
            else:
                problems.append(tr("keymap.bad_value", path=path, id=CONFIRM))
            continue
        if value is None or (isinstance(value, str) and value.strip().lower() == "none"):
            entries[str(binding_id)] = []
            continue
        if isinstance(value, str):
            keys = [k.strip() for k in value.split(",") if k.strip()]
        elif isinstance(value, list) and all(isinstance(k, str) for k in value):
            keys = [k.strip() for k in value if k.strip()]
        else:
            problems.append(tr("keymap.bad_value", path=path, id=binding_id))
            continue
        bad = next((p for p in map(key_problem, keys) if p), None)
        if bad:
            problems.append(tr("keymap.bad_entry", path=path, id=binding_id, problem=bad))
            continue
        entries[str(binding_id)] = keys
    return entries, problems


def load_keymap(name: str | None = None, *, user_file: bool = True) -> Keymap:
    """default.yaml, then keymap ``name``, then the user's keymap.yaml."""
    name = name or DEFAULT
    keymap = Keymap(name=name)

    def add(entries: dict[str, list[str]]) -> None:
        keymap.confirm.update(entries.pop(CONFIRM, []))
        keymap.keys.update(entries)

    base, problems = read_keymap_file(KEYMAP_DIR / f"{DEFAULT}.yaml")
    add(base)
    keymap.problems += problems
    if name != DEFAULT:
        path = _keymap_path(name)
        if path is None:
            keymap.problems.append(tr("keymap.unknown_name", name=name,
                                      names=", ".join(available_keymaps())))
            keymap.name = DEFAULT
        else:
            entries, problems = read_keymap_file(path)
            if problems and not entries:
                keymap.name = DEFAULT
                problems = [p + " " + tr("keymap.using_default") for p in problems]
            add(entries)
            keymap.problems += problems
    user = config_dir() / "keymap.yaml"
    if user_file and user.is_file():
        entries, problems = read_keymap_file(user)
        add(entries)
        keymap.problems += problems
    return keymap


# -- the binding ids kehu declares ------------------------------------------

def _import_ui_modules() -> None:
    """Import every screen and widget module, so every binding class exists."""
    from kehu.tui import app, screens, widgets  # noqa: F401 — app declares app.* ids

    for package in (screens, widgets):
        for info in pkgutil.iter_modules(package.__path__):
            try:
                importlib.import_module(f"{package.__name__}.{info.name}")
            except Exception:  # a half-written screen must not break the keymap
                continue


def kehu_node_classes() -> list[type[DOMNode]]:
    """Every DOMNode subclass defined in kehu (app, screens, widgets)."""
    seen: list[type[DOMNode]] = []
    stack = [DOMNode]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                stack.append(sub)
                if sub.__module__.startswith("kehu."):
                    seen.append(sub)
    return seen


def declared_bindings() -> dict[str, Binding]:
    """``{binding id: Binding}`` over every kehu class, ``key`` holding all its keys."""
    _import_ui_modules()
    found: dict[str, Binding] = {}
    keys: dict[str, list[str]] = {}
    for cls in kehu_node_classes():
        for key, binding in cls._merged_bindings or BindingsMap():
            if binding.id:
                found.setdefault(binding.id, binding)
                if key not in keys.setdefault(binding.id, []):
                    keys[binding.id].append(key)
    return {i: replace(b, key=",".join(keys[i])) for i, b in found.items()}


def check_keymap(keymap: Keymap) -> list[str]:
    """Ids no kehu class declares, and keys given to two actions of one widget.

    The clash test is Textual's own (``apply_keymap`` on each class's
    bindings), so it finds exactly what would clash at run time.
    """
    problems = []
    unknown = sorted((set(keymap.keys) | keymap.confirm) - set(declared_bindings()))
    if unknown:
        problems.append(tr("keymap.unknown_ids", ids=", ".join(unknown)))
    textual_keymap = App._normalize_keymap(keymap.textual_keymap())
    reported: set[frozenset[str]] = set()
    for cls in kehu_node_classes():
        if cls._merged_bindings is None:
            continue
        clashed = cls._merged_bindings.copy().apply_keymap(textual_keymap).clashed_bindings
        ids = frozenset(b.id or b.action for b in clashed)
        if len(ids) > 1 and ids not in reported:
            reported.add(ids)
            problems.append(clash_message(clashed))
    return problems


def clash_ids(clashed) -> frozenset[str]:
    """The ids in a clash; one id alone is Textual re-reading a multi-key binding."""
    return frozenset(b.id or b.action for b in clashed)


def clash_message(clashed) -> str:
    keys = ", ".join(sorted({b.key for b in clashed}))
    return tr("keymap.clash", key=keys, ids=", ".join(sorted({b.id or b.action for b in clashed})))


# -- binding descriptions in the language chosen at run time -----------------

def _reverse_catalogue() -> dict[str, list[str]]:
    """Every message text (any language) → the message ids that have it."""
    reverse: dict[str, list[str]] = {}
    for msg_id, texts in i18n._catalogue.items():  # noqa: SLF001 — read-only use
        for text in set(texts.values()):
            reverse.setdefault(text, []).append(msg_id)
    return reverse


# (binding id, action, text shown) -> the message id that text came from; once
# a binding's message is known, switching languages back and forth never
# guesses again (two messages may share a text in one language only).
_message_of: dict[tuple[str | None, str, str], str] = {}


def _message_id(binding: Binding, reverse: dict[str, list[str]]) -> str | None:
    memo_key = (binding.id, binding.action, binding.description)
    if memo_key in _message_of:
        return _message_of[memo_key]
    candidates = reverse.get(binding.description, [])
    if binding.id and binding.id in i18n._catalogue and (  # noqa: SLF001
            not candidates or binding.id in candidates or binding.description == binding.id):
        return binding.id
    if not candidates:
        return None
    prefix = (binding.id or "").split(".", 1)[0] + "."
    return next((c for c in candidates if c.startswith(prefix)), candidates[0])


def _translated(binding: Binding, reverse: dict[str, list[str]]) -> Binding:
    msg_id = _message_id(binding, reverse)
    if msg_id is None:
        return binding
    _message_of[(binding.id, binding.action, binding.description)] = msg_id
    text = tr(msg_id)
    _message_of[(binding.id, binding.action, text)] = msg_id
    return binding if text == binding.description else replace(binding, description=text)


def _translate_map(bindings: BindingsMap, reverse: dict[str, str]) -> None:
    for key, key_bindings in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [_translated(b, reverse) for b in key_bindings]


def translate_bindings(app=None) -> None:
    """Put every kehu binding's description into the current language.

    Screens write ``Binding(..., tr("x"))`` in class bodies, which runs once,
    at import, in whatever language was current then. This re-reads each
    description from the catalogue — on every class (for nodes made later)
    and, given ``app``, on every live node — so the language chosen at run
    time (``--lang``, config, the palette) is the one the footer and help show.
    """
    reverse = _reverse_catalogue()
    for cls in kehu_node_classes():
        if cls.__dict__.get("_merged_bindings") is not None:
            _translate_map(cls._merged_bindings, reverse)
    if app is None:
        return
    _translate_map(app._bindings, reverse)
    screens = list(app.screen_stack) + [s for s in app._installed_screens.values()
                                        if isinstance(s, DOMNode)]
    for screen in screens:
        for node in [screen, *screen.walk_children(with_self=False)]:
            _translate_map(node._bindings, reverse)
    app.refresh_bindings()


# -- the live keymap, as help and the palette show it ------------------------

@dataclass
class LiveBinding:
    """One action reachable on a screen, with the keys that reach it now."""
    node: DOMNode
    binding: Binding
    keys: list[str]

    @property
    def group(self) -> str:
        return (self.binding.id or "app.").split(".", 1)[0]


def _display(app, key: str) -> str:
    if " " in key:
        return " ".join(_display(app, k) for k in key.split())
    return app.get_key_display(Binding(key, ""))


def live_bindings(app, screen) -> list[LiveBinding]:
    """Every described action of ``screen`` (its widgets too) and the app.

    Keys come from each node's bindings with the app's keymap applied, plus
    the key sequences — the same tables the key presses go through.
    """
    sequences: dict[str, list[str]] = {}
    for seq, binding_ids in getattr(app, "_sequences", {}).items():
        for binding_id in binding_ids:
            sequences.setdefault(binding_id, []).append(" ".join(seq))
    nodes = [screen, *screen.walk_children(with_self=False)]
    if not screen.is_modal:
        nodes.append(app)
    found: dict[str, LiveBinding] = {}
    for node in nodes:
        bindings = node._bindings.copy()
        if app._keymap:
            bindings.apply_keymap(app._keymap)
        for key, binding in bindings:
            if binding.system or (binding.id is None and not binding.show):
                continue  # Textual's own unnamed widget keys: not remappable, not ours
            if not binding.description:
                binding = replace(binding, description=action_text(binding))
            ident = binding.id or f"{type(node).__name__}.{binding.action}"
            entry = found.setdefault(ident, LiveBinding(node, binding, []))
            if key != UNBOUND and key not in entry.keys:
                entry.keys.append(key)
    for ident, entry in found.items():
        entry.keys += sequences.get(ident, [])
    return list(found.values())


def action_text(binding: Binding) -> str:
    """A description for a binding declared without one (``chain.cursor_up``)."""
    if binding.id and binding.id in i18n._catalogue:  # noqa: SLF001
        return tr(binding.id)
    name = binding.action.partition("(")[0]
    msg_id = f"keys.action.{name}"
    text = tr(msg_id)
    return name.replace("_", " ") if text == msg_id else text


def keys_display(app, binding_id: str) -> str:
    """The keys that reach ``binding_id`` now, as the footer writes them."""
    keymap: Keymap | None = getattr(app, "keymap", None)
    if keymap is not None and binding_id in keymap.keys:
        keys = keymap.keys[binding_id]
    else:
        binding = declared_bindings().get(binding_id)
        keys = binding.key.split(",") if binding else []
    return " / ".join(_display(app, normalise_key(k) if " " not in k else k) for k in keys)


def describe_keys(app, entry: LiveBinding) -> str:
    return " / ".join(_display(app, k) for k in entry.keys)


# -- writing keymaps/default.yaml from the code ---------------------------------

def default_keymap_text() -> str:
    """default.yaml as the code declares it: every id, its keys, its English text.

    ``python -m kehu.tui.keymap > keymaps/default.yaml`` after adding bindings
    (tests/test_keymap.py fails until every id is listed).
    """
    from textual.keys import REPLACED_KEYS

    i18n.set_lang("en")
    _import_ui_modules()
    translate_bindings()
    found = declared_bindings()

    def short(key: str) -> str:
        char = key_to_character(REPLACED_KEYS.get(key, key)) if "+" not in key else None
        return char if char and len(key) > 1 and char.isprintable() and char != " " else key

    groups: dict[str, list[str]] = {}
    for binding_id in sorted(found):
        groups.setdefault(binding_id.split(".")[0], []).append(binding_id)
    lines = [
        "# kehu default keymap: {binding id: keys}. Every action kehu has is listed here.",
        "# Keys: comma-separated alternatives (\"ctrl+f,/\"); a space means a sequence",
        "# pressed one key after another (\"g g\"); none = no key.",
        "# Other keymaps (vim.yaml, emacs.yaml) and <config dir>/keymap.yaml override single ids.",
        "# Help (F1 or ?) shows the keys in force on each screen.",
        "# Regenerate after adding bindings: python -m kehu.tui.keymap > keymaps/default.yaml",
    ]
    width = max(map(len, found)) + 2
    first = ["app", "help", "customers", "search", "table"]
    for group in sorted(groups, key=lambda g: (first.index(g) if g in first else len(first), g)):
        lines += ["", f"# -- {group} " + "-" * max(4, 60 - len(group))]
        for binding_id in groups[group]:
            binding = found[binding_id]
            keys = ",".join(short(k) for k in binding.key.split(","))
            line = f"{binding_id}:".ljust(width) + '"' + keys.replace("\\", "\\\\").replace('"', '\\"') + '"'
            text = binding.description or action_text(binding)
            lines.append(line.ljust(width + 24) + "  # " + text)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(default_keymap_text(), end="")
