"""Content codings, computed once per document version: gzip and brotli."""

from __future__ import annotations

import gzip
from collections.abc import Sequence

import brotli

from feeds.pool import gil_free

__all__ = ["CODINGS", "MIN_SIZE", "encode", "encode_each"]

# Preference order when a client accepts several equally.
CODINGS = ("br", "gzip")
# Below this, the headers cost more than compression saves.
MIN_SIZE = 512


def encode(body: bytes, coding: str, *, brotli_quality: int) -> bytes | None:
    """``body`` in ``coding``, or None when it would not be smaller.

    ``brotli_quality`` 11 is about 10% smaller than 5 but some 50 times slower: too slow for
    a server compressing each new version of a live feed, or an export of 100,000 records.
    """
    if len(body) < MIN_SIZE:
        return None
    if coding == "gzip":
        # mtime=0: the same bytes give the same .gz, build after build. Level 6 is zlib's
        # default: within 0.2% of level 9's size on feeds, at two thirds of the time.
        encoded = gzip.compress(body, compresslevel=6, mtime=0)
    elif coding == "br":
        encoded = brotli.compress(body, quality=brotli_quality)
    else:
        raise ValueError(f"unknown content coding {coding!r}")
    return encoded if len(encoded) < len(body) else None


# zlib and brotli release the GIL while they compress: threads share the documents.
@gil_free
def encode_each(documents: Sequence[tuple[str, bytes]], *,
                brotli_quality: int) -> list[tuple[str, dict[str, bytes]]]:
    """(name, {coding: bytes}) for each (name, body): the codings that make it smaller, in order."""
    out = []
    for name, body in documents:
        encoded = {}
        for coding in CODINGS:
            smaller = encode(body, coding, brotli_quality=brotli_quality)
            if smaller is not None:
                encoded[coding] = smaller
        out.append((name, encoded))
    return out
