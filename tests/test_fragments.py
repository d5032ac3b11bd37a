"""Entry fragments rendered in bulk, in a process pool, are the bytes rendered one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.corpus import generate
from feeds.config import Settings
from feeds.ingest import ingest
from feeds.pool import Workers
from feeds.render import fragments
from feeds.render.formats import FORMATS
from feeds.render.renderer import Renderer
from feeds.store import Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    generate(80, tmp_path / "seeds", seed=5)
    opened = open_store(tmp_path / "store.sqlite3")
    ingest(opened, tmp_path / "seeds", 1_000_000)
    return opened


def _all_fragments(store: Store) -> dict[tuple[str, str, str], bytes]:
    rows = store.db.execute("SELECT record_id, format, key, body FROM fragments")
    return {(record_id, fmt, key): bytes(body) for record_id, fmt, key, body in rows}


def test_fragments_rendered_in_a_pool_equal_serial_ones(store: Store,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(store_path=store.path)
    renderer = Renderer(store, settings)
    paths = list(renderer.document_paths())
    assert renderer.prepare(paths) > 0
    serial = _all_fragments(store)
    store.db.execute("DELETE FROM fragments")
    monkeypatch.setattr(fragments, "POOL_THRESHOLD", 0)
    pooled_renderer = Renderer(store, settings)
    with Workers(2) as workers:
        assert pooled_renderer.prepare(paths, workers) == len(serial)
    assert _all_fragments(store) == serial
    # And documents assembled from them are what lazy rendering (the server's path) gives.
    store.db.execute("DELETE FROM fragments")
    lazy = {path: Renderer(store, settings).render(path) for path in paths}
    for path in paths:
        document = pooled_renderer.render(path)
        assert document is not None and document == lazy[path], path


def test_prepare_renders_nothing_when_every_fragment_is_stored(store: Store) -> None:
    renderer = Renderer(store, Settings(store_path=store.path))
    paths = list(renderer.document_paths())
    renderer.prepare(paths)
    assert Renderer(store, Settings(store_path=store.path)).prepare(paths) == 0


def test_formats_and_archives_settings_select_documents(store: Store) -> None:
    settings = Settings(store_path=store.path, formats=("rss",), archives=False, items_per_feed=5)
    renderer = Renderer(store, settings)
    feeds = [p for p in renderer.document_paths() if p.startswith("feeds/")]
    assert feeds and all(p.endswith(".rss") and "/archive/" not in p for p in feeds)
    assert renderer.render("feeds/all.atom") is None
    assert renderer.render("feeds/all/archive/1.rss") is None
    document = renderer.render("feeds/all.rss")
    assert document is not None and b"prev-archive" not in document.body
    assert b"all.atom" not in renderer.render("all/index.html").body  # type: ignore[union-attr]


def test_entries_rendered_in_a_batch_equal_entries_rendered_alone(store: Store) -> None:
    records = store.records(sorted(store.published_ids()))
    assert len(records) > 10
    for fmt, module in FORMATS.items():
        alone = [module.entries([record], "tag:t:")[0] for record in records]
        assert module.entries(records, "tag:t:") == alone, fmt
        assert all(body.count(b"<item>" if fmt == "rss" else b"<entry>") == (fmt != "json")
                   for body in alone), fmt


def test_documents_after_prepare_render_no_entry_again(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(store_path=store.path)
    renderer = Renderer(store, settings)
    paths = [p for p in renderer.document_paths() if p.startswith("feeds/")]
    renderer.prepare(paths)
    expected = {path: Renderer(store, settings).render(path) for path in paths}

    def no_records(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("an entry rendered again: prepare left it out")

    # Documents read the fragments prepare stored; only a missing one reads its record.
    monkeypatch.setattr(store, "records", no_records)
    for path in paths:
        assert renderer.render(path) == expected[path], path


def test_fragments_build_each_records_content_once_for_all_formats(store: Store) -> None:
    from feeds.render.content import content_html

    rows = [(record_id, data, ("atom", "rss", "json"))
            for record_id, data in store.record_rows(sorted(store.record_digests()))]
    content_html.cache_clear()
    rendered = fragments.render_rows(rows, "tag:x,2024:")
    assert len(rendered) == 3 * len(rows) > 0
    assert content_html.cache_info().misses == len(rows)


def test_fragments_stored_chunk_by_chunk_are_kept_if_a_later_chunk_fails(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = sorted(store.record_digests())[:25]
    monkeypatch.setattr(fragments, "CHUNK", 10)
    real = fragments.render_rows
    calls: list[int] = []

    def failing_second_chunk(rows: list[fragments.Row], id_prefix: str) -> list[fragments.Fragment]:
        calls.append(len(rows))
        if len(calls) == 2:
            raise RuntimeError("killed")
        return real(rows, id_prefix)

    monkeypatch.setattr(fragments, "render_rows", failing_second_chunk)
    with pytest.raises(RuntimeError, match="killed"):
        fragments.fill(store, {i: ("atom",) for i in ids}, "tag:x,2024:", "k")
    # Each chunk's fragments committed on their own: what was rendered is not thrown away.
    assert len(store.fragments(ids, "atom", "k")) == 10
