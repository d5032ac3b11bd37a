"""A feed's current document as a subscriber narrows it: ``?limit=N``, ``?min_quality=N``,
``?min_heat=N`` and ``?q=words``, parsed once into a value that keys, renders and describes it.

Word matching, for ``q``: a word is a run of letters, digits and underscores (Python's ``\\w``,
Unicode-aware), compared case-folded (``Straße`` matches ``STRASSE``). An entry matches when its
title and excerpt together contain every word of ``q`` as a whole word: ``chip`` does not match
``chips``, and word order does not matter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

__all__ = ["MAX_QUERY_CHARS", "FeedQuery", "parse_feed_query", "parse_limit", "sql_condition",
           "words_of"]

# Each word of q is one more substring test per scanned entry: its length bounds a request's work.
MAX_QUERY_CHARS = 200
_WORD = re.compile(r"\w+")
_INTEGER = re.compile(r"-?[0-9]{1,9}")


def words_of(text: str) -> tuple[str, ...]:
    """The distinct case-folded words of ``text``, in order of first appearance."""
    return tuple(dict.fromkeys(_WORD.findall(text.casefold())))


def sql_condition(query: FeedQuery, mark: str, find: str) -> tuple[str, list[int | str]]:
    """``query``'s filters as one SQL condition on a ``filters`` row named ``r``, and its values.

    ``mark`` is the driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg) and ``find`` its
    function giving a substring's position (SQLite ``instr``, PostgreSQL ``strpos``). A whole
    word is one substring test: ``r.words`` holds " word word ".
    """
    conditions: list[str] = []
    values: list[int | str] = []
    if query.min_quality is not None:
        conditions.append(f"r.quality >= {mark}")
        values.append(query.min_quality)
    if query.min_heat is not None:
        conditions.append(f"r.heat >= {mark}")
        values.append(query.min_heat)
    for word in query.words:
        conditions.append(f"{find}(r.words, {mark}) > 0")
        values.append(f" {word} ")
    return " AND ".join(conditions) or "1 = 1", values


@dataclass(frozen=True)
class FeedQuery:
    """What a request selects from a feed's current document; filters apply before the limit."""

    limit: int | None = None
    min_quality: int | None = None
    min_heat: int | None = None
    words: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        return self.min_quality is not None or self.min_heat is not None or bool(self.words)

    def query_string(self) -> str:
        """The canonical query: the same selection always has the same URL, key and self link."""
        pairs: list[tuple[str, str]] = []
        if self.limit is not None:
            pairs.append(("limit", str(self.limit)))
        if self.min_quality is not None:
            pairs.append(("min_quality", str(self.min_quality)))
        if self.min_heat is not None:
            pairs.append(("min_heat", str(self.min_heat)))
        if self.words:
            pairs.append(("q", " ".join(self.words)))
        return urlencode(pairs)

    def describe(self) -> str:
        """For people, e.g. in a filtered feed's title: ``quality ≥ 70, with “ai chips”``."""
        parts = []
        if self.min_quality is not None:
            parts.append(f"quality ≥ {self.min_quality}")
        if self.min_heat is not None:
            parts.append(f"heat ≥ {self.min_heat}")
        if self.words:
            parts.append(f"with “{' '.join(self.words)}”")
        return ", ".join(parts)


def _one(name: str, values: Sequence[str]) -> str | None:
    if len(values) > 1:
        raise ValueError(f"{name}: give it once")
    # An empty value is what an HTML form sends for an empty field: the filter is not asked for.
    return (values[0].strip() or None) if values else None


def _integer(name: str, values: Sequence[str]) -> int | None:
    value = _one(name, values)
    if value is None:
        return None
    if not _INTEGER.fullmatch(value):
        raise ValueError(f"{name}: expected a whole number such as 70, got {value!r}")
    return int(value)


def parse_limit(values: Sequence[str], maximum: int) -> int | None:
    """The ``limit`` query parameter's values as one count from 1 to ``maximum``, or None if absent.

    Raises ValueError with a message for people when it is repeated, not a number or out of range.
    """
    if not values:
        return None
    if len(values) > 1:
        raise ValueError("limit: give it once, as ?limit=N")
    value = values[0]
    if not (value.isascii() and value.isdigit() and len(value) <= 9) or not 1 <= int(value) <= maximum:
        raise ValueError(f"limit: expected a whole number from 1 to {maximum}, got {value!r}")
    return int(value)


def parse_feed_query(params: Mapping[str, Sequence[str]], maximum_limit: int) -> FeedQuery | None:
    """The selection named by query parameters (name → values), or None when they name none.

    Raises ValueError, naming the parameter and what was expected, for a bad value.
    """
    limit = parse_limit(params.get("limit", ()), maximum_limit)
    text = _one("q", params.get("q", ())) or ""
    if len(text) > MAX_QUERY_CHARS:
        raise ValueError(f"q: expected at most {MAX_QUERY_CHARS} characters, got {len(text)}")
    words = words_of(text)
    if text and not words:
        raise ValueError(f"q: expected words (letters or digits), got {text!r}")
    query = FeedQuery(limit, _integer("min_quality", params.get("min_quality", ())),
                      _integer("min_heat", params.get("min_heat", ())), words)
    return query if query != FeedQuery() else None
