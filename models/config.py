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
    pass


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
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: {tr('config.bad_yaml', error=getattr(exc, 'problem', exc))}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: {tr('config.not_mapping')}")
    known = {f.name for f in fields(Config)} - {"extra"}
    cfg = Config(**{k: v for k, v in data.items() if k in known})
    cfg.extra = {k: v for k, v in data.items() if k not in known}
    if not isinstance(cfg.backup_keep, int) or cfg.backup_keep < 1:
        raise ConfigError(f"{path}: {tr('config.bad_value', key='backup_keep', value=cfg.backup_keep)}")
    return cfg
