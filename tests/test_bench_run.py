"""The benchmark driver at any corpus size: a sampled parse floor, and edits that leave the
generated corpus (which the build's seeds hard-link) as it was."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from benchmarks.corpus import generate
from benchmarks.run import edit_one, parse_floor


def test_the_parse_floor_parses_every_kth_file_when_the_corpus_is_over_its_sample(
        tmp_path: Path) -> None:
    generate(30, tmp_path, seed=5)
    sampled = parse_floor(tmp_path, sample=10)
    assert sampled["files"] == 10
    assert parse_floor(tmp_path, sample=100)["files"] == 30
    # Scaled to the whole corpus: a sample's figure is not the sample's own time.
    assert all(sampled[k] > 0 for k in ("pyyaml_c", "pyyaml_strict", "in_use"))


def test_an_edit_replaces_the_file_and_leaves_the_corpus_it_was_linked_from(tmp_path: Path) -> None:
    pristine, seeds = tmp_path / "corpus", tmp_path / "seeds"
    generate(12, pristine, seed=5)
    shutil.copytree(pristine, seeds, copy_function=os.link)
    before = {p.name: p.read_bytes() for p in pristine.iterdir()}
    edited = edit_one(seeds)
    assert b"title: Updated: " in edited.read_bytes() or b'title: "Updated: ' in edited.read_bytes()
    assert {p.name: p.read_bytes() for p in pristine.iterdir()} == before
    assert edited.stat().st_nlink == 1
