"""RFC 5005 archived feeds: walking back from any feed's current document finds every entry once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from benchmarks.corpus import generate
from feeds.app import create_app
from feeds.catalog import feed_document_path
from feeds.config import Settings
from feeds.ingest import ingest
from feeds.render.formats import FORMATS
from feeds.render.renderer import Renderer
from feeds.store import Store, open_store
from tests.archive_walk import expected_feeds, walk
from tests.helpers import NEW_RECORD


def _check_feed(settings: Settings, renderer: Renderer, feed: str, expected: list[str]) -> None:
    """Walk ``feed`` in every format; the chain must give ``expected`` (newest first) exactly."""
    for fmt in FORMATS:
        current = settings.url(feed_document_path(feed, fmt))

        def fetch(url: str, fmt: str = fmt) -> bytes:
            path = url.removeprefix(settings.base_url)
            document = renderer.render(path)
            assert document is not None, path
            return document.body

        chain = walk(fetch, current, fmt)
        ids = [i for _, page in chain for i in page.ids]
        assert ids == expected, f"{feed}.{fmt}: the archive chain differs from the published records"
        sizes = [len(page.ids) for _, page in chain]
        assert sizes[0] == min(settings.items_per_feed, len(expected))
        archives = sizes[1:]  # newest first
        assert all(size == settings.archive_page_size for size in archives[1:]), sizes
        assert all(0 < size <= settings.archive_page_size for size in archives), sizes
        assert len(chain) - 1 == len(list(_numbers(renderer, feed)))


def _numbers(renderer: Renderer, feed: str) -> Iterator[int]:
    for path in renderer.document_paths():
        if path.startswith(f"feeds/{feed}/archive/") and path.endswith(".atom"):
            yield int(path.rsplit("/", 1)[1].split(".")[0])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, Store]]:
    root = tmp_path_factory.mktemp("corpus")
    generate(3000, root / "seeds", seed=5005)
    settings = Settings(seeds_dir=root / "seeds", store_path=root / "store.sqlite3",
                        base_url="http://feeds.test/", items_per_feed=10, archive_page_size=10)
    store = open_store(settings.store_path)
    ingest(store, settings.seeds_dir, settings.max_record_bytes)
    yield settings, store
    store.close()


def test_archive_chain_of_every_sample_feed_holds_exactly_its_published_records(
    settings: Settings, store: Store
) -> None:
    small = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    ingest(store, small.seeds_dir, small.max_record_bytes)
    renderer = Renderer(store, small)
    expected = expected_feeds(store, small.seeds_dir, small.id_prefix)
    assert set(expected) <= set(renderer.feeds)
    assert len(expected["all"]) == 7
    for feed in renderer.feeds:
        _check_feed(small, renderer, feed, expected.get(feed, []))


def test_archive_chain_of_every_corpus_feed_holds_exactly_its_published_records(
    corpus: tuple[Settings, Store]
) -> None:
    settings, store = corpus
    renderer = Renderer(store, settings)
    expected = expected_feeds(store, settings.seeds_dir, settings.id_prefix)
    assert set(expected) == set(renderer.feeds)
    assert len(expected["all"]) > 2000  # a few unpublished records aside
    assert max(len(ids) for ids in expected.values()) // settings.archive_page_size > 100
    for feed in renderer.feeds:
        _check_feed(settings, renderer, feed, expected[feed])


def test_served_archive_chain_matches_the_renderer_with_immutable_full_pages(
    settings: Settings
) -> None:
    small = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    with TestClient(create_app(small)) as client:

        def fetch(url: str) -> bytes:
            response = client.get(url)
            assert response.status_code == 200, url
            immutable = "immutable" in response.headers["cache-control"]
            path = url.removeprefix(small.base_url)
            # All 7 sample records: current holds 2; archives 1 and 2 are full, 3 holds one.
            assert immutable == (path.endswith(("/archive/1.atom", "/archive/2.atom"))), path
            return response.content

        chain = walk(fetch, small.url("feeds/all.atom"), "atom")
        assert [len(page.ids) for _, page in chain] == [2, 1, 2, 2]


def test_full_archive_pages_never_change_when_newer_entries_arrive(
    settings: Settings, store: Store, seeds_dir: Path
) -> None:
    small = dataclasses.replace(settings, items_per_feed=2, archive_page_size=2)
    ingest(store, seeds_dir, small.max_record_bytes)
    before = Renderer(store, small)
    old = {n: before.render(f"feeds/all/archive/{n}.atom") for n in (1, 2, 3)}
    assert old[3] is not None and not old[3].immutable
    (seeds_dir / "100_0123456789abcdef.txt").write_text(NEW_RECORD, encoding="utf-8")
    report = ingest(store, seeds_dir, small.max_record_bytes)
    assert "all" in report.changed_feeds
    after = Renderer(store, small)
    for number in (1, 2):
        document = after.render(f"feeds/all/archive/{number}.atom")
        assert document is not None and old[number] is not None
        assert document.immutable and document.body == old[number].body
    grown = after.render("feeds/all/archive/3.atom")
    assert grown is not None and grown.immutable and grown.body != old[3].body
