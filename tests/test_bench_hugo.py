"""The Hugo reference of the benchmark: its site holds what feeds publishes, and the table
sets every build row beside Hugo's build from the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from benchmarks.corpus import generate
from benchmarks.hugo import content_file, site
from benchmarks.profile import parse_raw
from benchmarks.report import ROWS, cell
from tests.helpers import front_matter, leaked, secret_chunks

RECORD = """---
title: "Hospitals test AI triage"
excerpt: "Three pilots & one warning."
publishedDateTime: 2024-05-02T10:30:00Z
webUrl: "https://www.statnews.com/2024/05/02/ai-triage/"
published: {published}
provider:
  name: STAT
  domain: statnews.com
topics:
  - AI
  - Health Tech
secured: "c2VjcmV0;aXY="
---
"""


def hugo_front_matter(text: str) -> dict[str, Any]:
    assert text.startswith("---\n") and text.endswith("---\n")
    loaded = yaml.safe_load(text[4:-4])
    assert isinstance(loaded, dict)
    return loaded


def test_a_published_record_becomes_a_page_with_date_summary_and_both_taxonomies() -> None:
    text = content_file("0000001_00000000000000a1.txt", RECORD.format(published="true").encode(), set())
    assert text is not None
    page = hugo_front_matter(text)
    assert page["title"] == "Hospitals test AI triage"
    assert page["date"].isoformat() == "2024-05-02T10:30:00+00:00"
    assert page["summary"] == "Three pilots & one warning."
    assert page["topics"] == ["AI", "Health Tech"]
    assert page["providers"] == ["STAT"]
    # Hugo would read ``published`` as a publish date; ``secured`` never leaves the store.
    assert "published" not in page and "secured" not in page


def test_unpublished_and_rejected_records_have_no_page() -> None:
    assert content_file("0000001_00000000000000a1.txt", RECORD.format(published="false").encode(),
                        set()) is None
    assert content_file("0000002_00000000000000a2.txt", b"no front matter\n", set()) is None


def test_the_file_whose_name_sorts_first_wins_a_duplicate_url_as_in_feeds() -> None:
    seen: set[str] = set()
    record = RECORD.format(published="true").encode()
    assert content_file("0000001_00000000000000a1.txt", record, seen) is not None
    assert content_file("0000002_00000000000000a2.txt", record, seen) is None


def test_the_site_has_one_page_per_published_record_and_no_secret(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    generate(40, seeds, seed=3)
    made = site(seeds, tmp_path / "site")
    pages = sorted((made.root / "content").glob("*.md"))
    published = [p for p in sorted(seeds.glob("*.txt")) if front_matter(p)["published"] is True]
    assert made.pages == len(pages) == len(published)
    assert [p.stem for p in pages] == [p.stem for p in published]
    chunks = secret_chunks(seeds)
    assert not any(leaked(page.read_bytes(), chunks) for page in pages)
    # Converted once per corpus: a second call reads the count back instead of converting again.
    (made.root / "content" / pages[0].name).unlink()
    assert site(seeds, tmp_path / "site").pages == made.pages


def _result(**hugo: Any) -> dict[str, Any]:
    return {"hugo_s": 3.0, "build_cold_s": 10.0, "build_noop_s": 0.2,
            "hugo": {"limit_50": {"seconds": 2.0, "peak_rss_mb": 300.0, "failure": None, "runs": 3},
                     "limit_all": {"seconds": 4.0, "peak_rss_mb": 400.0, "failure": None, "runs": 3},
                     **hugo}}


def test_a_build_row_shows_its_ratio_to_hugo_and_judges_the_ratio() -> None:
    equivalent, cold, noop = ROWS[0], ROWS[1], ROWS[2]
    assert cell(equivalent, _result(), 1.0) == "3.00 s = 1.50x Hugo ❌"
    assert cell(cold, _result(), 2.0) == "10.00 s = 2.50x Hugo ❌"
    assert cell(cold, _result(), 3.0) == "10.00 s = 2.50x Hugo ✅"
    # The no-op target is in seconds; Hugo's full rebuild is shown beside it.
    assert cell(noop, _result(), 0.3) == "0.20 s = 0.05x Hugo ✅"


def test_a_hugo_failure_is_shown_in_place_of_the_ratio() -> None:
    failed = {"seconds": None, "peak_rss_mb": None, "failure": "stopped at 6001 MB", "runs": 1}
    assert cell(ROWS[1], _result(limit_all=failed), 2.0) == "10.00 s, Hugo failed: stopped at 6001 MB"


def test_a_profile_counts_a_function_once_per_sample_and_a_worker_only_for_its_own_frames() -> None:
    raw = ('process 1:"python -m feeds build";main (feeds/cli.py:3);walk (feeds/a.py:5);'
           "walk (feeds/a.py:7);dumps (json/__init__.py:231) 3\n"
           'process 1:"python -m feeds build";process 2:"python -m feeds build";'
           "main (feeds/cli.py:3);ingest (feeds/ingest.py:9);"
           "BaseProcess._bootstrap (multiprocessing/process.py:314);work (feeds/pool.py:9) 5\n")
    profile = parse_raw("cold", raw, wall_s=1.0, rate=100)
    assert (profile.samples, profile.main_samples) == (8, 3)
    assert profile.self_samples == {"dumps (json/__init__.py)": 3, "work (feeds/pool.py)": 5}
    assert profile.total_samples["walk (feeds/a.py)"] == 3
    # The worker's frames inherited from its parent at the fork are not the worker's work.
    assert profile.total_samples["ingest (feeds/ingest.py)"] == 0
    assert profile.total_samples["main (feeds/cli.py)"] == 3
