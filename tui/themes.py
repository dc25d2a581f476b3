"""Themes: YAML files that become Textual themes.

Built-in themes live in ``themes/*.yaml`` (kehu-dark, kehu-light,
kehu-contrast); a user adds or overrides one with a file in
``config_dir()/themes/``. A file holds Textual's theme fields (``name``,
``dark``, ``primary``, ``background`` …), an optional ``label: {zh:, en:}``
and ``variables`` — kehu's own colours, usable as ``$stance-supporter`` in
TCSS or through ``crm_color`` in code:

* ``stance-<value>``   for each stance in the schema's lists (supporter …)
* ``timeline-<value>`` for each interaction kind (call, visit, purchase …)
* ``grade-<value>``    for each customer grade, lower case (grade-a … grade-d)
* ``due``, ``overdue``, ``sensitive``, ``changed``, ``group-header``

A variable a theme leaves out comes from the built-in theme of the same
darkness, so a user theme may set only the colours it cares about. A broken
file gives one message and is skipped; kehu then uses the default theme.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml
from textual.color import Color, ColorParseError
from textual.theme import Theme

from kehu.models.config import config_dir
from kehu.models.errors import KehuError
from kehu.models.i18n import label, tr

THEME_DIR = Path(__file__).resolve().parent.parent / "themes"
if not THEME_DIR.is_dir():  # installed: kehu.themes is a package beside kehu.tui
    import kehu.themes

    THEME_DIR = Path(kehu.themes.__file__).parent

DEFAULT_THEME = "kehu-dark"
LIGHT_THEME = "kehu-light"
COLOUR_FIELDS = ("primary", "secondary", "warning", "error", "success", "accent",
                 "foreground", "background", "surface", "panel", "boost")
NUMBER_FIELDS = ("luminosity_spread", "text_alpha")


class ThemeError(KehuError, ValueError):
    pass


_labels: dict[str, object] = {}  # theme name -> {zh:, en:} for the palette


def _colour_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        Color.parse(value)
    except ColorParseError:
        return False
    return True


def read_theme_file(path: Path, base_variables: dict[str, str] | None = None) -> Theme:
    """The ``Theme`` in one YAML file; ``ThemeError`` says what is wrong with it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(tr("theme.unreadable", path=path, error=exc)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ThemeError(tr("theme.bad_yaml", where=where,
                            error=getattr(exc, "problem", exc))) from None
    if not isinstance(data, dict):
        raise ThemeError(tr("theme.not_mapping", path=path))
    name = data.get("name") or path.stem
    if not isinstance(name, str):
        raise ThemeError(tr("theme.bad_field", path=path, field="name", value=name))
    if "primary" not in data:
        raise ThemeError(tr("theme.missing", path=path, field="primary"))
    unknown = set(data) - {"name", "label", "dark", "variables", *COLOUR_FIELDS, *NUMBER_FIELDS}
    if unknown:
        raise ThemeError(tr("theme.unknown_fields", path=path, fields=", ".join(sorted(unknown))))
    for key in COLOUR_FIELDS:
        if key in data and not _colour_ok(data[key]):
            raise ThemeError(tr("theme.bad_colour", path=path, field=key, value=data[key]))
    for key in NUMBER_FIELDS:
        if key in data and not isinstance(data[key], (int, float)):
            raise ThemeError(tr("theme.bad_field", path=path, field=key, value=data[key]))
    variables = data.get("variables") or {}
    if not isinstance(variables, dict):
        raise ThemeError(tr("theme.bad_field", path=path, field="variables", value=variables))
    for key, value in variables.items():
        if not _colour_ok(value):
            raise ThemeError(tr("theme.bad_colour", path=path, field=f"variables.{key}",
                                value=value))
    dark = data.get("dark", True)
    if not isinstance(dark, bool):
        raise ThemeError(tr("theme.bad_field", path=path, field="dark", value=dark))
    fields = {k: data[k] for k in (*COLOUR_FIELDS, *NUMBER_FIELDS) if k in data}
    merged = {**(base_variables or {}), **{str(k): str(v) for k, v in variables.items()}}
    if "label" in data:
        _labels[name] = data["label"]
    return Theme(name=name, dark=dark, variables=merged, **fields)


@functools.cache
def _builtin() -> tuple[Theme, ...]:
    # ours: a broken built-in file is a bug the tests catch, so no fallback here
    return tuple(read_theme_file(path) for path in sorted(THEME_DIR.glob("*.yaml")))


def builtin_themes() -> dict[str, Theme]:
    return {theme.name: theme for theme in _builtin()}


def variable_defaults(dark: bool = True) -> dict[str, str]:
    """kehu's own theme variables, so CSS using them always parses."""
    themes = builtin_themes()
    return dict(themes[DEFAULT_THEME if dark else LIGHT_THEME].variables)


def user_themes() -> tuple[list[Theme], list[str]]:
    """Themes from ``config_dir()/themes/*.yaml`` and one message per bad file."""
    folder = config_dir() / "themes"
    if not folder.is_dir():
        return [], []
    found, problems = [], []
    bases = {True: variable_defaults(True), False: variable_defaults(False)}
    for path in sorted(folder.glob("*.yaml")):
        try:
            theme = read_theme_file(path)
        except ThemeError as exc:
            problems.append(tr("theme.skipped", problem=exc))
            continue
        theme.variables = {**bases[theme.dark], **theme.variables}
        found.append(theme)
    return found, problems


def register_themes(app) -> list[str]:
    """Register the built-in and the user's themes; return what went wrong."""
    for theme in builtin_themes().values():
        app.register_theme(theme)
    themes, problems = user_themes()
    for theme in themes:
        app.register_theme(theme)
    return problems


def theme_names(app) -> list[str]:
    """kehu's themes first, then Textual's own."""
    names = list(app.available_themes)
    return sorted(names, key=lambda n: (not n.startswith("kehu-"), n))


def theme_label(name: str) -> str:
    return label(_labels[name]) if name in _labels else name


def crm_color(app, kind: str, value: object, fallback: str = "foreground") -> str:
    """The theme's colour for e.g. ``("stance", "supporter")`` or ``("grade", "A")``.

    For Rich text drawn in code; unknown values get the ``fallback`` variable.
    """
    variables = app.theme_variables
    return variables.get(f"{kind}-{str(value).lower()}") or variables.get(fallback) or "default"
