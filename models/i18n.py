"""Messages in the user's language (zh or en).

Every sentence kehu shows lives in a catalogue YAML file (``messages*.yaml``,
one per area, beside this module for the model layer; the UI registers its own) as
``key: {en: ..., zh: ...}``. ``tr(key, **values)`` picks the current language.
"""
from __future__ import annotations

import locale
import os
import re
from pathlib import Path

import yaml

LANGS = ("zh", "en")
_catalogue: dict[str, dict[str, str]] = {}
#: libyaml's loader when present: every catalogue is read at start-up (~8x faster).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_lang: str | None = None
#: ``{count|row|rows}``: the word for one or for any other number of ``count``
_PLURAL = re.compile(r"\{(\w+)\|([^|{}]*)\|([^|{}]*)\}")


def register_catalogue(path: str | Path) -> None:
    """Add the messages of one YAML catalogue (later files win on clashes)."""
    with open(path, encoding="utf-8") as fh:
        data = yaml.load(fh, Loader=_YAML_LOADER) or {}
    for key, texts in data.items():
        _catalogue[key] = dict(texts)


def normalise_lang(value: str | None) -> str | None:
    """'zh_CN.UTF-8', 'zh-TW', 'ZH' → 'zh'; 'en_US' → 'en'; anything else → None."""
    if not value:
        return None
    value = value.strip().lower().replace("-", "_")
    for lang in LANGS:
        if value == lang or value.startswith(lang + "_") or value.startswith(lang + "."):
            return lang
    return None


def detect_lang() -> str:
    """The language of the environment: KEHU_LANG, then the locale, else English."""
    for var in ("KEHU_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        lang = normalise_lang(os.environ.get(var))
        if lang:
            return lang
    try:
        lang = normalise_lang(locale.getlocale()[0])
    except ValueError:
        lang = None
    return lang or "en"


def set_lang(lang: str | None) -> str:
    global _lang
    _lang = normalise_lang(lang) or detect_lang()
    return _lang


def get_lang() -> str:
    return _lang or set_lang(None)


def tr(msg_id: str, lang: str | None = None, /, **values) -> str:
    """The message ``msg_id`` in ``lang`` (default: the current language).

    ``lang`` may also be given as a keyword; every other keyword fills a
    ``{placeholder}`` (so a message may use ``{key}``). ``{count|row|rows}``
    is "row" when ``count`` is 1 and "rows" otherwise (English plurals; Chinese
    needs none).

    A missing translation falls back to English, a missing key to the key
    itself, so a gap in the catalogue never crashes a screen.
    """
    lang = values.pop("lang", None) or lang
    texts = _catalogue.get(msg_id)
    if texts is None:
        return msg_id
    text = texts.get(lang or get_lang()) or texts.get("en") or msg_id
    if not values:
        return text
    if "|" in text:
        text = _PLURAL.sub(lambda m: (m.group(2) if values.get(m.group(1)) == 1 else m.group(3))
                           .replace("{", "{{").replace("}", "}}"), text)
    return text.format(**values)


def label(texts: dict[str, str] | str | None, lang: str | None = None) -> str:
    """Pick one language out of a ``{zh:, en:}`` mapping from a YAML file."""
    if texts is None:
        return ""
    if isinstance(texts, str):
        return texts
    lang = lang or get_lang()
    return texts.get(lang) or texts.get("en") or texts.get("zh") or next(iter(texts.values()), "")


def register_folder(folder: str | Path) -> None:
    """Register every ``messages*.yaml`` catalogue in ``folder`` (one per area)."""
    for path in sorted(Path(folder).glob("messages*.yaml")):
        register_catalogue(path)


register_folder(Path(__file__).parent)
