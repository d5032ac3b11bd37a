"""feeds.compress: gzip and brotli codings, made once, kept only when they save bytes."""

from __future__ import annotations

import gzip

import brotli
import pytest

from feeds.compress import CODINGS, MIN_SIZE, encode, encode_each

FEED = b"<feed>" + b"<entry><title>A title repeated</title></entry>" * 100 + b"</feed>"


def test_compress_round_trips_in_each_coding() -> None:
    assert gzip.decompress(encode(FEED, "gzip", brotli_quality=5) or b"") == FEED
    assert brotli.decompress(encode(FEED, "br", brotli_quality=5) or b"") == FEED


def test_compress_gzip_is_the_same_bytes_every_time() -> None:
    # No timestamp in the header: an unchanged document's .gz is unchanged, build after build.
    first = encode(FEED, "gzip", brotli_quality=5)
    assert first is not None and first[4:8] == b"\0\0\0\0"
    assert encode(FEED, "gzip", brotli_quality=5) == first


def test_compress_brotli_quality_is_applied() -> None:
    fast = encode(FEED * 20, "br", brotli_quality=0)
    small = encode(FEED * 20, "br", brotli_quality=11)
    assert fast is not None and small is not None and len(small) < len(fast)


def test_compress_skips_small_and_incompressible_bodies() -> None:
    assert encode(b"x" * (MIN_SIZE - 1), "gzip", brotli_quality=5) is None
    noise = bytes(range(256)) * 2 + bytes((i * 7919) % 251 for i in range(4000))
    random_like = gzip.compress(noise, mtime=0)  # already compressed: no smaller twice
    assert encode(random_like, "gzip", brotli_quality=5) is None


def test_compress_refuses_an_unknown_coding() -> None:
    with pytest.raises(ValueError, match="unknown content coding 'zstd'"):
        encode(FEED, "zstd", brotli_quality=5)


def test_compress_each_keeps_order_and_only_useful_codings() -> None:
    out = encode_each([("a.atom", FEED), ("tiny", b"<x/>")], brotli_quality=5)
    assert [name for name, _ in out] == ["a.atom", "tiny"]
    assert tuple(out[0][1]) == CODINGS and out[1][1] == {}
