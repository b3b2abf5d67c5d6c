"""Python implementations of the query functions SQLite lacks.

The same functions are registered on every SQLite connection and called by the
in-memory matcher, so the embedded default and LiveQuery agree to the letter.
PostgreSQL does the same work in SQL (see :mod:`.compiler`); the shared case table
checks that both agree.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from typing import Any

import orjson

_FLAG_MAP = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}


@functools.lru_cache(maxsize=512)
def compiled_regex(pattern: str, flags: str) -> re.Pattern[str]:
    value = 0
    for ch in flags:
        value |= _FLAG_MAP.get(ch, 0)
    return re.compile(pattern, value)


def regex_match(text: Any, pattern: str, flags: str) -> bool:
    if not isinstance(text, str):
        return False
    return compiled_regex(pattern, flags or "").search(text) is not None


def sqlite_regex(text: Any, pattern: str, flags: str) -> int:
    return 1 if regex_match(text, pattern, flags) else 0


# --- full-text search ---------------------------------------------------------------

# PostgreSQL's english stop words (snowball list), so SQLite drops the same words.
ENGLISH_STOP_WORDS = frozenset(
    [
        "i",
        "me",
        "my",
        "myself",
        "we",
        "our",
        "ours",
        "ourselves",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "he",
        "him",
        "his",
        "himself",
        "she",
        "her",
        "hers",
        "herself",
        "it",
        "its",
        "itself",
        "they",
        "them",
        "their",
        "theirs",
        "themselves",
        "what",
        "which",
        "who",
        "whom",
        "this",
        "that",
        "these",
        "those",
        "am",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "have",
        "has",
        "had",
        "having",
        "do",
        "does",
        "did",
        "doing",
        "a",
        "an",
        "the",
        "and",
        "but",
        "if",
        "or",
        "because",
        "as",
        "until",
        "while",
        "of",
        "at",
        "by",
        "for",
        "with",
        "about",
        "against",
        "between",
        "into",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "to",
        "from",
        "up",
        "down",
        "in",
        "out",
        "on",
        "off",
        "over",
        "under",
        "again",
        "further",
        "then",
        "once",
        "here",
        "there",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "both",
        "each",
        "few",
        "more",
        "most",
        "other",
        "some",
        "such",
        "no",
        "nor",
        "not",
        "only",
        "own",
        "same",
        "so",
        "than",
        "too",
        "very",
        "s",
        "t",
        "can",
        "will",
        "just",
        "don",
        "should",
        "now",
    ]
)
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def _fold(text: str, *, diacritics: bool) -> str:
    if diacritics:
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=32)
def _stemmer(language: str) -> Any:
    if language == "simple":
        return None
    try:
        import snowballstemmer  # optional: the `text` extra
    except ImportError:
        return None
    try:
        return snowballstemmer.stemmer(language)
    except KeyError:
        return None


def text_tokens(text: str, language: str, *, diacritic_sensitive: bool = False) -> list[str]:
    """Lower-cased, stemmed words without stop words (what to_tsvector keeps)."""
    words = _WORD_RE.findall(_fold(text, diacritics=diacritic_sensitive))
    stemmer = _stemmer(language)
    stop = ENGLISH_STOP_WORDS if language == "english" else frozenset()
    out = []
    for word in words:
        lowered = word.lower()
        if lowered in stop:
            continue
        out.append(stemmer.stemWord(lowered) if stemmer else lowered)
    return out


def parse_search(term: str) -> tuple[list[str], list[str], list[str]]:
    """Split a search into (terms, quoted phrases, negated terms), MongoDB-style."""
    phrases = re.findall(r'"([^"]*)"', term)
    rest = re.sub(r'"[^"]*"', " ", term)
    words, negated = [], []
    for word in rest.split():
        if word.startswith("-") and len(word) > 1:
            negated.append(word[1:])
        else:
            words.append(word)
    return words, phrases, negated


def text_match(
    text: Any,
    term: str,
    language: str,
    case_sensitive: bool = False,
    diacritic_sensitive: bool = False,
) -> bool:
    """Every word (and phrase) of the search appears in the text; no negated word does.

    Case-sensitive search additionally needs each searched word verbatim, as a whole
    word (PostgreSQL: the same test with a regular expression).
    """
    if not isinstance(text, str):
        return False
    tokens = text_tokens(text, language, diacritic_sensitive=diacritic_sensitive)
    haystack = set(tokens)
    words, phrases, negated = parse_search(term)
    wanted = [
        t for w in words for t in text_tokens(w, language, diacritic_sensitive=diacritic_sensitive)
    ]
    if not wanted and not phrases:
        return False
    if any(t not in haystack for t in wanted):
        return False
    for phrase in phrases:
        seq = text_tokens(phrase, language, diacritic_sensitive=diacritic_sensitive)
        if seq and not _contains_sequence(tokens, seq):
            return False
    for word in negated:
        if any(
            t in haystack
            for t in text_tokens(word, language, diacritic_sensitive=diacritic_sensitive)
        ):
            return False
    if case_sensitive:
        for word in words + phrases:
            if not re.search(r"\b" + re.escape(word) + r"\b", text):
                return False
    return True


def _contains_sequence(tokens: list[str], seq: list[str]) -> bool:
    n = len(seq)
    return any(tokens[i : i + n] == seq for i in range(len(tokens) - n + 1))


def sqlite_text_match(
    text: Any, term: str, language: str, case_sensitive: int, diacritic: int
) -> int:
    return 1 if text_match(text, term, language, bool(case_sensitive), bool(diacritic)) else 0


def text_score(text: Any, term: str, language: str, diacritic_sensitive: bool = False) -> float:
    """MongoDB's ``textScore``, which the Parse SDKs were written against.

    Each searched word found in the text adds ``freq * (0.5 * count / tokens + 0.5)``:
    ``count`` its occurrences, ``freq`` = 1 + 1/2 + 1/4 ... (``count`` terms) and
    ``tokens`` the number of words the text keeps (stop words left out). A text that is
    only the searched word scores 1.
    """
    if not isinstance(text, str):
        return 0.0
    tokens = text_tokens(text, language, diacritic_sensitive=diacritic_sensitive)
    if not tokens:
        return 0.0
    words, phrases, _ = parse_search(term)
    wanted = {
        t
        for w in words + phrases
        for t in text_tokens(w, language, diacritic_sensitive=diacritic_sensitive)
    }
    counts: dict[str, int] = {}
    for token in tokens:
        counts[token] = counts.get(token, 0) + 1
    return sum(
        (2 - 2 ** (1 - count)) * (0.5 * count / len(tokens) + 0.5)
        for token, count in counts.items()
        if token in wanted
    )


def sqlite_text_score(text: Any, term: str, language: str, diacritic: int) -> float:
    return text_score(text, term, language, bool(diacritic))


# --- geo -------------------------------------------------------------------------------


def distance_radians(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance (haversine), in radians."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat = p2 - p1
    dlng = math.radians(lng2 - lng1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlng / 2) ** 2
    return 2 * math.asin(min(1.0, math.sqrt(a)))


def sqlite_distance(lat1: Any, lng1: Any, lat2: float, lng2: float) -> float | None:
    if not isinstance(lat1, (int, float)) or not isinstance(lng1, (int, float)):
        return None
    return distance_radians(float(lat1), float(lng1), lat2, lng2)


def point_in_polygon(lat: float, lng: float, vertices: list[tuple[float, float]]) -> bool:
    """Even-odd rule on (latitude, longitude) vertices; points on an edge count as inside."""
    inside = False
    n = len(vertices)
    for i in range(n):
        y1, x1 = vertices[i]
        y2, x2 = vertices[(i + 1) % n]
        if _on_segment(lat, lng, y1, x1, y2, x2):
            return True
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lng < x_cross:
                inside = not inside
    return inside


def _on_segment(py: float, px: float, y1: float, x1: float, y2: float, x2: float) -> bool:
    cross = (px - x1) * (y2 - y1) - (py - y1) * (x2 - x1)
    if abs(cross) > 1e-12:
        return False
    return (
        min(x1, x2) - 1e-12 <= px <= max(x1, x2) + 1e-12
        and min(y1, y2) - 1e-12 <= py <= max(y1, y2) + 1e-12
    )


def sqlite_point_in_polygon(lat: Any, lng: Any, vertices_json: str) -> int:
    if not isinstance(lat, (int, float)) or not isinstance(lng, (int, float)):
        return 0
    vertices = [tuple(v) for v in orjson.loads(vertices_json)]
    return 1 if point_in_polygon(float(lat), float(lng), vertices) else 0  # type: ignore[arg-type]


def sqlite_polygon_contains(coordinates_json: Any, lat: float, lng: float) -> int:
    if not isinstance(coordinates_json, str):
        return 0
    try:
        coords = orjson.loads(coordinates_json)
        vertices = [(float(p[0]), float(p[1])) for p in coords]
    except (orjson.JSONDecodeError, TypeError, ValueError, IndexError):
        return 0
    return 1 if point_in_polygon(lat, lng, vertices) else 0


def sqlite_json_equal(a: Any, b: Any) -> int:
    """Structural equality of two JSON texts (key order does not matter)."""
    if a is None or b is None:
        return 0
    try:
        return 1 if orjson.loads(a) == orjson.loads(b) else 0
    except (orjson.JSONDecodeError, TypeError):
        return 0


def register_sqlite_functions(dbapi_connection: Any) -> None:
    create = dbapi_connection.create_function
    create("bk_regex", 3, sqlite_regex, deterministic=True)
    create("bk_text_match", 5, sqlite_text_match, deterministic=True)
    create("bk_text_score", 4, sqlite_text_score, deterministic=True)
    create("bk_distance", 4, sqlite_distance, deterministic=True)
    create("bk_point_in_polygon", 3, sqlite_point_in_polygon, deterministic=True)
    create("bk_polygon_contains", 3, sqlite_polygon_contains, deterministic=True)
    create("bk_json_equal", 2, sqlite_json_equal, deterministic=True)
