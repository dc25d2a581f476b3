"""Where kehu keeps its files, and the user's config.yaml.

``KEHU_CONFIG_DIR`` and ``KEHU_DATA_DIR`` move the folders (tests use them);
otherwise they are platformdirs' ``user_config_dir("kehu")`` and
``user_data_dir("kehu")``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from .errors import KehuError
from .i18n import tr

APP = "kehu"


class ConfigError(KehuError):
    """config.yaml cannot be used; ``str()`` names the file and line."""

    def __init__(self, message: str, path: Path | None = None, line: int | None = None,
                 key: str | None = None):
        self.message, self.path, self.line, self.key = message, path, line, key
        where = str(path) if path else "config.yaml"
        if line:
            where += f":{line}"
        super().__init__(f"{where}: {message}")


#: Every key config.yaml may hold, and the kind of value it takes ("text", "count" — a
#: whole number of at least 1 —, "mapping"). ``null`` leaves a setting at its default.
KEYS: dict[str, str] = {
    "db": "text", "lang": "text", "keymap": "text", "theme": "text", "phone_region": "text",
    "user": "text", "backup_keep": "count",
    "verification": "mapping",   # {kind: days}, checked by models.verify
    "default_role": "text",      # checked against the roles by models.security
    "start": "text",             # the first screen: agenda or customers (tui/app.py)
}
START_SCREENS = ("customers", "agenda")


def config_dir() -> Path:
    return Path(os.environ.get("KEHU_CONFIG_DIR") or platformdirs.user_config_dir(APP))


def data_dir() -> Path:
    return Path(os.environ.get("KEHU_DATA_DIR") or platformdirs.user_data_dir(APP))


def default_db_path() -> Path:
    return data_dir() / "kehu.db"


def default_db_url() -> str:
    return "sqlite:///" + str(default_db_path())


def user_schema_path() -> Path:
    return config_dir() / "schema.yaml"


@dataclass
class Config:
    """Settings from config.yaml; each one may also come from a CLI flag."""
    db: str | None = None
    lang: str | None = None
    keymap: str = "default"
    theme: str = "kehu-dark"
    phone_region: str = "CN"
    user: str | None = None
    backup_keep: int = 10
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return config_dir() / "config.yaml"

    def save(self) -> None:
        """Write the settings back (the UI remembers a theme or language this way)."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        data.update(self.extra)
        data = {k: v for k, v in data.items() if v is not None}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        os.replace(tmp, self.path)


def load_config() -> Config:
    path = config_dir() / "config.yaml"
    if not path.exists():
        return Config()
    data, lines = _read(path)
    for key, value in data.items():
        _check(path, lines.get(key), key, value)
    data = {k: v for k, v in data.items() if v is not None}
    known = {f.name for f in fields(Config)} - {"extra"}
    cfg = Config(**{k: v for k, v in data.items() if k in known})
    cfg.extra = {k: v for k, v in data.items() if k not in known}
    if cfg.phone_region:
        cfg.phone_region = cfg.phone_region.upper()
    return cfg


def _read(path: Path) -> tuple[dict, dict[str, int]]:
    """The mapping in config.yaml and the line of each key; ``ConfigError`` with the line."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        text = path.read_text(encoding="utf-8")
        node = yaml.compose(text, Loader=loader)
        data = yaml.load(text, Loader=loader)
    except UnicodeDecodeError as exc:
        raise ConfigError(tr("config.bad_yaml", error=exc.reason), path) from None
    except OSError as exc:
        raise ConfigError(str(exc.strerror or exc), path) from None
    except yaml.reader.ReaderError as exc:   # a control character: no mark, a position
        line = text[:exc.position].count("\n") + 1
        raise ConfigError(tr("config.bad_yaml", error=tr("files.bad_character",
                                                          code=f"{exc.character:#06x}")),
                          path, line) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        raise ConfigError(tr("config.bad_yaml", error=getattr(exc, "problem", None) or exc), path,
                          mark.line + 1 if mark else 1) from None
    if data is None:
        return {}, {}
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise ConfigError(tr("config.not_mapping"), path, node.start_mark.line + 1 if node else 1)
    lines: dict = {}
    for key_node, _ in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        line = key_node.start_mark.line + 1
        if key in lines:
            raise ConfigError(tr("config.duplicate_key", key=key, first=lines[key]), path, line, key)
        if key is not None:
            lines[key] = line
    for key in data:
        if not isinstance(key, str):
            raise ConfigError(tr("config.unknown_key", key=key, known=", ".join(KEYS)), path,
                              _line_of(node, key), str(key))
    return data, lines


def _line_of(node, key) -> int | None:
    for key_node, _ in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(key):
            return key_node.start_mark.line + 1
    return node.start_mark.line + 1


def _check(path: Path, line: int | None, key: str, value: Any) -> None:
    kind = KEYS.get(key)
    if kind is None:
        import difflib

        near = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
        message = (tr("config.unknown_key_near", key=key, near=near[0]) if near
                   else tr("config.unknown_key", key=key, known=", ".join(KEYS)))
        raise ConfigError(message, path, line, key)
    if value is None:
        return
    if kind == "text" and (not isinstance(value, str) or not value.strip()):
        raise ConfigError(tr("config.not_text", key=key, value=_show(value)), path, line, key)
    if kind == "count" and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise ConfigError(tr("config.not_count", key=key, value=_show(value)), path, line, key)
    if kind == "mapping" and not isinstance(value, dict):
        raise ConfigError(tr("config.not_mapping_value", key=key, value=_show(value)), path, line,
                          key)
    if key == "lang":
        from .i18n import LANGS, normalise_lang

        if normalise_lang(value) is None:
            raise ConfigError(tr("config.bad_lang", value=value, known=", ".join(LANGS)),
                              path, line, key)
    if key == "start" and value not in START_SCREENS:
        raise ConfigError(tr("config_agenda.bad_start", value=_show(value),
                             known=", ".join(START_SCREENS)), path, line, key)
    if key == "phone_region":
        import phonenumbers

        if value.upper() not in phonenumbers.SUPPORTED_REGIONS:
            raise ConfigError(tr("config.bad_region", value=value), path, line, key)


def _show(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True).strip()
    text = text.removesuffix("...").strip()
    return text if len(text) <= 60 else text[:59] + "…"
