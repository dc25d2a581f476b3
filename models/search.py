"""Search text for each customer row, and the index that finds it fast.

``build_search_text`` turns the searchable fields of a record into one string
of space-separated *tokens*; a query word matches a row when some token of the
row starts with it (see ``tokens`` for what a token is). The same rule runs on
both databases, so the same query finds the same rows:

* SQLite: an FTS5 table ``customer_fts`` (external content = ``customer``,
  tokenizer unicode61, prefix indexes 1–4, no positions and no row sizes: nothing
  ranks by bm25) holding only the rows that are not
  soft-deleted, kept in sync by triggers (``Store.insert_rows`` puts
  its rows in with one statement per batch instead: a trigger per row costs
  ~10x more in a big transaction). A word becomes ``"word"*``.
* PostgreSQL: a pg_trgm GIN index on ``' ' || search_text || ' '``; a word
  becomes ``LIKE '% word%'`` (a token boundary is a space).

What goes into the search text, per field type:

* Latin text, email, tags, notes: lower-cased words (``john.doe@acme.com`` →
  ``john doe acme com``).
* Chinese text: every position of a run of hanzi starts a window of up to
  ``CJK_WINDOW`` characters (北京星辰科技 → 北京星辰 京星辰科 星辰科技 辰科技 科技 技),
  so any 1–4 character piece of the text is a token prefix; longer Chinese
  queries are cut into 4-character chunks that must all match.
* Short text fields (type text with an index: name, company, city, …) also get
  pinyin: the initials of the whole run (zs, bjxckjyxgs), the full pinyin of
  each window (zhangsan, xingchenkeji …) and the syllables (zhang san).
  Initials of inner windows are left out: ``zs`` would find every company with
  a 州盛 in it.
  A person's name starts with its surname, read with ``SURNAME_READINGS``
  (单 shan, 曾 zeng, 解 xie …) instead of the everyday reading.
* Phones (stored E.164): all digits, the national number and the last 4 digits.
* Sensitive fields (``sensitive: true``) come last, after ``PRIVATE_MARK``: a
  role that may not see one of them in clear matches words only before the mark
  or in the sensitive fields it does see (``models.results.hidden_search``).
"""
from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import lru_cache
from typing import Any, Iterator

#: Characters treated as Chinese (CJK ideographs, extension A, compatibility, B–F).
CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
CJK_RE = re.compile(f"[{CJK_CLASS}]")
#: A token: a run of hanzi, or a run of other letters/digits.
TOKEN_RE = re.compile(f"[{CJK_CLASS}]+|[^\\W_{CJK_CLASS}]+")
CJK_RUN_RE = re.compile(f"^[{CJK_CLASS}]+$")
#: ``TOKEN_RE`` on ASCII text.
ASCII_TOKEN_RE = re.compile("[A-Za-z0-9]+")
#: Longest Chinese window stored; also the chunk length longer queries are cut in.
CJK_WINDOW = 4
#: Bump when the search text changes shape: rows are rewritten on the next open.
#: 4: the words of sensitive fields come last, after PRIVATE_MARK.
SEARCH_VERSION = 4
#: Stands between the words of ordinary fields and those of sensitive fields
#: (``schema sensitive: true``), so a role that may not see them searches only
#: the part before it (``models.results``). Never a token: words are letters/digits.
PRIVATE_MARK = "|"

#: Surnames whose reading differs from the everyday one (applied to the first
#: characters of a person's name). Two-character surnames first.
SURNAME_READINGS = {
    "尉迟": ["yu", "chi"], "单于": ["chan", "yu"], "万俟": ["mo", "qi"],
    "长孙": ["zhang", "sun"], "澹台": ["tan", "tai"], "令狐": ["ling", "hu"],
    "单": ["shan"], "曾": ["zeng"], "解": ["xie"], "仇": ["qiu"], "区": ["ou"],
    "朴": ["piao"], "查": ["zha"], "盖": ["ge"], "缪": ["miao"], "覃": ["qin"],
    "尉": ["yu"], "翟": ["zhai"], "秘": ["bi"], "冼": ["xian"], "乐": ["yue"],
    "种": ["chong"], "燕": ["yan"], "纪": ["ji"], "任": ["ren"], "华": ["hua"],
    "沈": ["shen"], "召": ["shao"], "员": ["yun"], "句": ["gou"], "阚": ["kan"],
    "繁": ["po"], "葛": ["ge"], "厍": ["she"], "訾": ["zi"], "那": ["na"],
}


def normalise(text: str) -> str:
    """Full-width → half-width, compatibility forms folded, lower case."""
    return unicodedata.normalize("NFKC", str(text)).casefold()


def tokens(text: str) -> list[str]:
    """The raw tokens of a text: hanzi runs and runs of other letters/digits."""
    return TOKEN_RE.findall(normalise(text))


def is_cjk(token: str) -> bool:
    return bool(CJK_RUN_RE.match(token))


@lru_cache(maxsize=100_000)
def run_pinyin(run: str) -> tuple[str, ...]:
    """Syllables of a hanzi run, read in context (重庆 → chong qing).
    pypinyin loads its dictionaries (~1 s) on first use, not when kehu starts."""
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(run, style=Style.NORMAL, errors="ignore") or ())


def _syllables(run: str, surname: bool) -> list[str]:
    """Readings of a run. A person's name is read character by character (names
    are too many to cache whole; the surname table fixes the first reading)."""
    syllables = [] if surname else list(run_pinyin(run))
    if len(syllables) != len(run):  # a name, or a rare character pypinyin cannot read
        syllables = [(run_pinyin(c) or ("",))[0] for c in run]
    if surname:
        for length in (2, 1):
            reading = SURNAME_READINGS.get(run[:length])
            if reading and len(run) >= length:
                syllables[:length] = reading
                break
    return syllables


def cjk_words(run: str, *, pinyin: bool, surname: bool = False) -> list[str]:
    """Tokens for one run of hanzi: windows, and with ``pinyin`` their readings."""
    windows = [run[i:i + CJK_WINDOW] for i in range(len(run))]
    if not pinyin:
        return windows
    syllables = _syllables(run, surname)
    words = list(windows)
    initials = "".join(s[0] for s in syllables if s)
    if initials:
        words.append(initials)
    for i in range(len(run)):
        piece = "".join(syllables[i:i + CJK_WINDOW])
        if piece:
            words.append(piece)
    words += [s for s in syllables if s]
    return words


def pinyin_words(text: str) -> list[str]:
    """'张三' → ['zhangsan', 'zs', 'zhang', 'san'] (the whole text's readings)."""
    syllables = [s for run in TOKEN_RE.findall(normalise(text)) if is_cjk(run)
                 for s in _syllables(run, False) if s]
    if not syllables:
        return []
    return ["".join(syllables), "".join(s[0] for s in syllables), *syllables]


def phone_words(value: str) -> list[str]:
    value, _, ext = str(value).partition(";ext=")   # an extension (validate.EXT_SEP): its own word
    if ext:
        return [*phone_words(value), *([ext] if ext.isdigit() else [])]
    digits = re.sub(r"\D", "", value)
    if not digits:
        return []
    national = digits[2:] if digits.startswith("86") and len(digits) > 11 else digits
    return list(dict.fromkeys([digits, national, national[-4:]]))


#: A word that may be (part of) a phone number as people write one:
#: ``+86``, ``(010)``, ``155-3563-1682``, ``8888.6666`` — digits and separators.
PHONE_WORD_RE = re.compile(r"[+(]?[\d()\-./]*\d[\d()\-./]*")
#: Fewer digits than this (country code and trunk 0 taken off) are not joined.
PHONE_MIN_DIGITS = 6


def phone_query(typed: str) -> str | None:
    """The digits a phone written as shown is found by, or None when ``typed``
    (one or more words already known to be ``PHONE_WORD_RE`` words) is not
    written in groups. ``155 3563 1682``, ``155-3563-1682``, ``+86 155 3563 1682``
    → ``15535631682`` (the national number in the search text);
    ``(010) 8888-6666``, ``+86-10-8888-6666`` → ``1088886666``; ``+1 415 555 0100``
    → ``14155550100`` (all digits, as stored). A single group (``1380``) is left
    as typed (it is already one word) unless it starts with a trunk 0 (``01088886666``)."""
    text = normalise(typed).strip()
    groups = re.findall(r"\d+", text)
    if len(groups) < 2 and not re.fullmatch(r"0[1-9]\d+", text):   # 010…: the trunk 0 off
        return None
    digits = "".join(groups)
    plus = text.lstrip("(").startswith("+")
    abroad = plus and not digits.startswith("86")   # +1 …: every digit, as stored
    if plus and not abroad:
        digits = digits[2:]
    elif not plus and digits.startswith("0086"):
        digits = digits[4:]
    if digits.startswith("0") and not abroad:
        digits = digits[1:]   # the trunk 0 of a Chinese area code (010 → 10)
    return digits if len(digits) >= PHONE_MIN_DIGITS else None


def wants_pinyin(spec) -> bool:
    """Short, indexed text fields (name, company, city …) are searched by pinyin too."""
    return spec.type == "text" and spec.index


def build_search_text(schema, record: dict[str, Any]) -> str:
    """The row's tokens. A field repeating an earlier one adds nothing, and a
    Chinese window or reading already present is not repeated (Latin words
    keep their order, for quoted phrases)."""
    words: list[str] = []
    seen_values: set[str] = set()
    seen_cjk: set[str] = set()
    is_person = record.get("customer_type") in (None, "", "person")
    plan = _search_plan(schema)
    private_from = schema.__dict__["_search_private_from"]
    marked = False
    for i, (key, phone, pinyin, name) in enumerate(plan):
        value = record.get(key)
        if value is None or value == "":
            continue
        text = value if type(value) is str else str(value)
        if text in seen_values:
            continue
        seen_values.add(text)
        if i >= private_from and not marked:
            words.append(PRIVATE_MARK)
            marked = True
        if phone:
            words += phone_words(text)
            continue
        if text.isascii():  # Latin words only (emails, codes): what tokens() gives, uncached
            words += ASCII_TOKEN_RE.findall(text.lower())
            continue
        flat, cjk, pairs = _value_words(text, pinyin, name and is_person)
        if seen_cjk.isdisjoint(cjk):  # the usual case: nothing Chinese in common
            words += flat
            seen_cjk |= cjk
            continue
        _add_words(pairs, words, seen_cjk)
    return " ".join(words)


def _add_words(pairs, words: list[str], seen_cjk: set[str]) -> None:
    """Append the words of ``pairs`` (word, came from hanzi), a Chinese one only once."""
    for word, chinese in pairs:
        if not chinese:
            words.append(word)
        elif word not in seen_cjk:
            seen_cjk.add(word)
            words.append(word)


def _search_plan(schema) -> list[tuple[str, bool, bool, bool]]:
    """Per searchable field: key, is a phone, wants pinyin, is the name (kept on the schema)."""
    plan = schema.__dict__.get("_search_plan")
    if plan is None:   # ordinary fields first, then the sensitive ones (after PRIVATE_MARK)
        fields = sorted(schema.searchable_fields, key=lambda s: bool(s.sensitive))
        plan = [(s.key, s.type == "phone", wants_pinyin(s), s.key == "name") for s in fields]
        schema.__dict__["_search_private_from"] = sum(1 for s in fields if not s.sensitive)
        schema.__dict__["_search_plan"] = plan
    return plan


@lru_cache(maxsize=200_000)
def _value_words(text: str, pinyin: bool, surname: bool
                 ) -> tuple[tuple[str, ...], frozenset[str], tuple[tuple[str, bool], ...]]:
    """The words of one field value (cached: companies, cities and many names repeat
    across a big import): the words with repeated Chinese ones dropped, the set of
    Chinese ones, and every word marked whether it came from hanzi."""
    pairs: list[tuple[str, bool]] = []
    for i, token in enumerate(tokens(text)):
        if is_cjk(token):
            pairs += [(w, True) for w in cjk_words(token, pinyin=pinyin, surname=surname and i == 0)]
        else:
            pairs.append((token, False))
    flat: list[str] = []
    cjk: set[str] = set()
    _add_words(pairs, flat, cjk)
    return tuple(flat), frozenset(cjk), tuple(pairs)


# --- the query side ---------------------------------------------------------

def query_terms(text: str) -> list[str]:
    """A typed word → the token prefixes that must all match (long hanzi runs
    are cut into ``CJK_WINDOW`` chunks)."""
    out: list[str] = []
    for token in tokens(text):
        if is_cjk(token) and len(token) > CJK_WINDOW:
            out += [token[i:i + CJK_WINDOW] for i in range(0, len(token), CJK_WINDOW)]
        else:
            out.append(token)
    return out


def phrase_parts(text: str) -> list[list[str] | str]:
    """A quoted phrase → Latin/digit token sequences (matched as exact
    consecutive tokens) and hanzi prefixes (matched like bare words)."""
    parts: list[list[str] | str] = []
    run: list[str] = []
    for token in tokens(text):
        if is_cjk(token):
            if run:
                parts.append(run)
                run = []
            parts += query_terms(token)
        else:
            run.append(token)
    if run:
        parts.append(run)
    return parts


FTS_TABLE = "customer_fts"
PG_EXPR = "(' ' || COALESCE(\"customer\".\"search_text\", '') || ' ')"


def fts_prefix(term: str) -> str:
    return f'"{term}"*'


def fts_phrase(words: list[str]) -> str:
    return '"' + " ".join(words) + '"'


# --- the index ----------------------------------------------------------------

_SQLITE_TRIGGERS = {
    "customer_fts_ai": f"""
        CREATE TRIGGER IF NOT EXISTS customer_fts_ai AFTER INSERT ON customer
        WHEN new.deleted_at IS NULL BEGIN
          INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text);
        END""",
    "customer_fts_ad": f"""
        CREATE TRIGGER IF NOT EXISTS customer_fts_ad AFTER DELETE ON customer
        WHEN old.deleted_at IS NULL BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            VALUES ('delete', old.id, old.search_text);
        END""",
    "customer_fts_au": f"""
        CREATE TRIGGER IF NOT EXISTS customer_fts_au AFTER UPDATE OF search_text, deleted_at
        ON customer BEGIN
          INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text)
            SELECT 'delete', old.id, old.search_text WHERE old.deleted_at IS NULL;
          INSERT INTO {FTS_TABLE}(rowid, search_text)
            SELECT new.id, new.search_text WHERE new.deleted_at IS NULL;
        END""",
}


INSERT_TRIGGER = "customer_fts_ai"


def trigger_sql(name: str) -> str:
    return _SQLITE_TRIGGERS[name]


#: FTS5 settings for a big load, and the defaults they return to: a bigger
#: in-memory term buffer and fewer, larger merges (filling the index for a
#: million rows: 21 s → 14 s in a bare-SQLite test).
FTS_LOAD_SETTINGS = {"hashsize": (64 * 1024 * 1024, 1024 * 1024), "automerge": (16, 4),
                     "crisismerge": (64, 16)}


@contextlib.contextmanager
def fast_fill(store) -> Iterator[None]:
    """Inside the caller's transaction: the search index merges less while a big
    load fills it; the usual settings come back at the end (also on a rollback)."""
    if store.is_postgres:
        yield
        return

    def configure(index: int) -> None:
        for name, values in FTS_LOAD_SETTINGS.items():
            store.db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rank) VALUES (?, ?)",
                                 (name, values[index]))

    configure(0)
    try:
        yield
    finally:
        configure(1)


def index_rows_after(store, last_id: int) -> None:
    """Put the live rows with an id above ``last_id`` into the SQLite search index
    (rows just inserted with the insert trigger off: one statement for a batch)."""
    store.db.execute_sql(f"INSERT INTO {FTS_TABLE}(rowid, search_text) SELECT id, search_text "
                         "FROM customer WHERE id > ? AND deleted_at IS NULL", (last_id,))


def _sqlite_has_fts(db) -> bool:
    return bool(db.execute_sql(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (FTS_TABLE,)).fetchone())


def ensure_index(store) -> None:
    """Create the search index (and the sort indexes PostgreSQL needs) if missing;
    rewrite every row's search text when its recipe changed (``SEARCH_VERSION``)."""
    db = store.db
    stale = store.get_meta("search_version") != SEARCH_VERSION
    if store.is_postgres:
        _ensure_pg(store)
        if stale:
            refresh_search_text(store)
    else:
        created = not _sqlite_has_fts(db)
        if created:
            db.execute_sql(
                f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(search_text, content='customer', "
                "content_rowid='id', tokenize='unicode61 remove_diacritics 0', "
                # without the 4-character prefix index a 4-letter word takes ~100 ms at 1M
                # rows ("chen" 14 → 106 ms, "user" 28 → 194 ms), so it stays
                "prefix='1 2 3 4', detail='none', columnsize=0)")
        if stale:
            with bulk_loading(store):  # triggers off, one rebuild at the end
                refresh_search_text(store)
        else:
            for ddl in _SQLITE_TRIGGERS.values():
                db.execute_sql(ddl)
            if created or store.get_meta("search_rebuild_pending"):
                rebuild_index(store)
    if stale:
        store.set_meta("search_version", SEARCH_VERSION)


def _ensure_pg(store) -> None:
    db = store.db
    try:
        with db.atomic():
            db.execute_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 - no right to create extensions: search scans
        return
    db.execute_sql(f'CREATE INDEX IF NOT EXISTS customer_search_trgm ON "customer" '
                   f"USING gin ({PG_EXPR} gin_trgm_ops)")
    # SQLite sorts NULL first ascending; PostgreSQL indexes must match to serve ORDER BY.
    for spec in store.schema.fields:
        if spec.index:
            db.execute_sql(f'CREATE INDEX IF NOT EXISTS "customer_{spec.key}_sort" '
                           f'ON "customer" ("{spec.key}" NULLS FIRST, id)')
    for col in ("created_at", "updated_at"):
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "customer_{col}_sort" '
                       f'ON "customer" ("{col}" NULLS FIRST, id)')


def refresh_search_text(store, batch: int = 5000) -> int:
    """Recompute ``search_text`` of every customer (after the recipe changed)."""
    C = store.Customer
    keys = [f.key for f in store.schema.searchable_fields] + ["customer_type"]
    fields = [getattr(C, k) for k in dict.fromkeys(keys) if k in store.schema]
    sql = f'UPDATE "customer" SET "search_text" = {store.db.param} WHERE "id" = {store.db.param}'
    last, done = 0, 0
    while True:
        rows = list(C.select(C.id, *fields).where(C.id > last).order_by(C.id)
                    .limit(batch).dicts())
        if not rows:
            return done
        with store.db.atomic():
            store.db.cursor().executemany(
                sql, [(build_search_text(store.schema, r), r["id"]) for r in rows])
        last = rows[-1]["id"]
        done += len(rows)


def rebuild_index(store) -> None:
    """Re-fill the SQLite full-text index from the customer table (live rows only).
    Call it after loading rows with the triggers off (``bulk_loading``); inside
    ``bulk_loading`` it waits for the end of the block."""
    if getattr(store, "_search_bulk", False):
        return
    if store.is_postgres:
        store.db.execute_sql('ANALYZE "customer"')
        store.set_meta("search_rebuild_pending", False)
        return
    with store.db.atomic():
        store.db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        store.db.execute_sql(f"INSERT INTO {FTS_TABLE}(rowid, search_text) "
                             "SELECT id, search_text FROM customer WHERE deleted_at IS NULL")
    store.db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")
    store.db.execute_sql("ANALYZE")
    store.set_meta("search_rebuild_pending", False)


@contextlib.contextmanager
def bulk_loading(store) -> Iterator[None]:
    """Load many rows without per-row index upkeep: the SQLite triggers are off
    inside, and the index is rebuilt once at the end."""
    if not store.is_postgres:
        for name in _SQLITE_TRIGGERS:
            store.db.execute_sql(f"DROP TRIGGER IF EXISTS {name}")
    store._search_bulk = True
    store.set_meta("search_rebuild_pending", True)  # a crash inside → rebuilt on next open
    try:
        yield
    finally:
        store._search_bulk = False
        if not store.is_postgres:
            for ddl in _SQLITE_TRIGGERS.values():
                store.db.execute_sql(ddl)
        rebuild_index(store)
