"""Search text for each customer row (and, later, its index).

``build_search_text`` turns the searchable fields of a record into one string
of lower-case words: the text itself, phone digits (full, national, last 4),
and for Chinese text its pinyin in full, by syllable and by initials, so that
``zs``, ``zhangsan`` and ``zhang san`` all find 张三.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from pypinyin import Style, lazy_pinyin

CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
WORD_RE = re.compile(r"[\w@.+-]+", re.UNICODE)


@lru_cache(maxsize=65536)
def _char_pinyin(char: str) -> str:
    return lazy_pinyin(char, style=Style.NORMAL)[0]


def pinyin_words(text: str) -> list[str]:
    """'张三' → ['zhangsan', 'zs', 'zhang', 'san']."""
    syllables = [_char_pinyin(c) for c in text if CJK_RE.match(c)]
    if not syllables:
        return []
    return ["".join(syllables), "".join(s[0] for s in syllables), *syllables]


def build_search_text(schema, record: dict[str, Any]) -> str:
    words: list[str] = []
    for spec in schema.searchable_fields:
        value = record.get(spec.key)
        if value in (None, ""):
            continue
        text = str(value)
        if spec.type == "phone":
            digits = re.sub(r"\D", "", text)
            national = digits[2:] if digits.startswith("86") else digits
            words += [digits, national, national[-4:]]
            continue
        words.append(text.lower())
        if CJK_RE.search(text):
            words += pinyin_words(text)
    return " ".join(words)


def ensure_index(store) -> None:
    """Create the search index if it is missing (nothing yet beyond the column)."""
