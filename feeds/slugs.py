"""Readable, stable, collision-free URL slugs for topics and providers."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Container

__all__ = ["slugify", "unique_slug"]

_NON_WORD = re.compile(r"[^a-z0-9]+")


def slugify(name: str) -> str:
    """``AI in Healthcare`` → ``ai-in-healthcare``; ``cio.com`` → ``cio-com``; may be empty."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return _NON_WORD.sub("-", ascii_name.lower()).strip("-")[:80].strip("-")


def unique_slug(key: str, taken: Container[str]) -> str:
    """A slug for ``key`` not in ``taken``: plain when free, else suffixed by a hash of the key.

    The suffix depends only on the key, so the slug does not depend on what else exists.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()
    base = slugify(key)
    if base and base not in taken:
        return base
    for length in range(6, len(digest) + 1, 2):
        candidate = f"{base or 'x'}-{digest[:length]}"
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free slug for {key!r}")  # a full SHA-256 collision
