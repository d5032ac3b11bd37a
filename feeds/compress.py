"""Content codings, computed once per document version: gzip and brotli."""

from __future__ import annotations

import gzip

import brotli

__all__ = ["CODINGS", "MIN_SIZE", "encode"]

# Preference order when a client accepts several equally.
CODINGS = ("br", "gzip")
# Below this, the headers cost more than compression saves.
MIN_SIZE = 512


def encode(body: bytes, coding: str, *, brotli_quality: int = 11) -> bytes | None:
    """``body`` in ``coding``, or None when it would not be smaller.

    ``brotli_quality`` below 11 trades a few percent of size for much faster compression
    (the export of a large corpus compresses tens of thousands of documents at once).
    """
    if len(body) < MIN_SIZE:
        return None
    if coding == "gzip":
        # mtime=0: the same bytes give the same .gz, build after build.
        encoded = gzip.compress(body, compresslevel=9, mtime=0)
    elif coding == "br":
        encoded = brotli.compress(body, quality=brotli_quality)
    else:
        raise ValueError(f"unknown content coding {coding!r}")
    return encoded if len(encoded) < len(body) else None
