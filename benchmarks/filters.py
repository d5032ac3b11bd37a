"""What a filtered view of a feed costs to render, as a ratio to the unfiltered current document
timed in the same run (same store, same warm fragments), so a loaded machine moves both alike.

    .venv/bin/python -m benchmarks.filters --records 10000

The view most costly to answer is a ``q`` that matches nothing: it walks the feed's newest
``FILTER_SCAN`` entries. Every view is rendered once per version, then served from the cache.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks.corpus import generate
from feeds.config import Settings
from feeds.filters import FeedQuery
from feeds.ingest import ingest
from feeds.render.renderer import Renderer
from feeds.store import open_store

VIEWS = {
    "min_quality=70": FeedQuery(min_quality=70),
    "q=the (matches often)": FeedQuery(words=("the",)),
    "min_heat=50&q=ai+health": FeedQuery(min_heat=50, words=("ai", "health")),
    "q=zzzz (matches nothing)": FeedQuery(words=("zzzz",)),
}


def _median_ms(renderer: Renderer, query: FeedQuery | None, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        renderer.render("feeds/all.atom", query)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        generate(args.records, root / "seeds")
        settings = Settings(seeds_dir=root / "seeds", store_path=root / "store.sqlite3", watch=False)
        store = open_store(settings.store_path)
        try:
            ingest(store, settings.seeds_dir, settings.max_record_bytes)
            renderer = Renderer(store, settings)
            renderer.render("feeds/all.atom")  # the entries' fragments, as a running server has them
            base = _median_ms(renderer, None, args.rounds)
            print(f"{args.records} records; feeds/all.atom unfiltered: {base:.1f} ms")
            for name, query in VIEWS.items():
                cost = _median_ms(renderer, query, args.rounds)
                print(f"  ?{name:<28} {cost:7.1f} ms  {cost / base:6.1f} x unfiltered")
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
