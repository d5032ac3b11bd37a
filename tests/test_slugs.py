from __future__ import annotations

from feeds.slugs import slugify, unique_slug


def test_slugify_is_readable() -> None:
    assert slugify("AI in Healthcare") == "ai-in-healthcare"
    assert slugify("cio.com") == "cio-com"
    assert slugify("Café & Crème") == "cafe-creme"
    assert slugify("!!!") == ""


def test_unique_slug_keeps_plain_slug_when_free() -> None:
    assert unique_slug("ai ml", set()) == "ai-ml"


def test_unique_slug_suffixes_colliding_names_deterministically() -> None:
    first = unique_slug("ai & ml", {"ai-ml"})
    assert first.startswith("ai-ml-") and first != "ai-ml"
    assert unique_slug("ai & ml", {"ai-ml"}) == first
    assert unique_slug("ai + ml", {"ai-ml"}) != first


def test_unique_slug_gives_symbol_only_names_a_slug() -> None:
    assert unique_slug("!!!", set()).startswith("x-")
