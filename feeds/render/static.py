"""Static assets shipped in ``feeds/static/``: the site's CSS and script, the feed stylesheet, the icon."""

from __future__ import annotations

import hashlib
import struct
from functools import cache
from importlib.resources import files
from pathlib import PurePosixPath

__all__ = ["MEDIA_TYPES", "asset", "asset_version", "media_type", "png_size"]

MEDIA_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    # Chromium applies an xml-stylesheet only from an XML media type; text/xsl is the one
    # browsers and static hosts (nginx, Apache mime.types) agree on.
    ".xsl": "text/xsl; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@cache
def asset(name: str) -> bytes:
    """The bytes of the packaged asset ``name`` (read once: package data does not change)."""
    return files("feeds").joinpath("static", name).read_bytes()


def asset_version(name: str) -> str:
    return "static:" + hashlib.sha256(asset(name)).hexdigest()[:16]


def media_type(name: str) -> str:
    return MEDIA_TYPES[PurePosixPath(name).suffix]


def png_size(name: str) -> tuple[int, int] | None:
    """(width, height) of the packaged asset ``name`` if it is a PNG, else None.

    Read from its IHDR chunk, which the PNG signature is followed by:
    https://www.w3.org/TR/png-3/#11IHDR.
    """
    try:
        body = asset(name)
    except (FileNotFoundError, IsADirectoryError):
        return None
    if body[:8] != b"\x89PNG\r\n\x1a\n" or body[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", body[16:24])
    return width, height
