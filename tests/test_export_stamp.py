"""The export's stamp: a build with nothing new is answered at once, and only then."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from feeds.config import Settings
from feeds.export import MANIFEST, builds_dir
from feeds.export.stamp import (
    NEWEST,
    STAMP,
    Basis,
    Since,
    Stamp,
    read_stamp,
    since,
    write_stamp,
)
from feeds.render import static
from tests.helpers import build


def _spoil_manifest_versions(tree: Path) -> None:
    """Make the tree's manifest claim other content keys: only a full comparison notices."""
    manifest = json.loads((tree / MANIFEST).read_text(encoding="utf-8"))
    for entry in manifest["files"].values():
        entry["version"] = "spoiled"
    (tree / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_a_build_with_nothing_new_is_answered_by_the_stamp_without_the_manifest(
        settings: Settings) -> None:
    first = build(settings)
    tree = settings.output_dir.resolve()
    assert read_stamp(builds_dir(settings.output_dir)) is not None
    _spoil_manifest_versions(tree)
    again = build(settings)
    assert settings.output_dir.resolve() == tree
    assert (again.written, again.unchanged, again.total) == (0, first.total, first.total)


def test_a_stamp_naming_another_tree_is_not_trusted(settings: Settings) -> None:
    """As a build killed between its switch and its stamp leaves it: keys are compared."""
    build(settings)
    root = builds_dir(settings.output_dir)
    stamp = read_stamp(root)
    assert stamp is not None
    write_stamp(root, dataclasses.replace(stamp, tree="build-older"))
    _spoil_manifest_versions(settings.output_dir.resolve())
    again = build(settings)
    assert again.total > 0 and (again.written, again.unchanged) == (0, again.total)
    assert read_stamp(root) == dataclasses.replace(stamp, tree=settings.output_dir.resolve().name)


def test_other_settings_of_the_documents_rebuild_them(settings: Settings) -> None:
    build(settings)
    renamed = dataclasses.replace(settings, site_title="Another Title")
    again = build(renamed)
    assert again.written > 0
    assert b"Another Title" in (settings.output_dir / "feeds.opml").read_bytes()


def test_a_packaged_asset_changed_by_a_new_release_is_exported_anew(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    """Assets ship with feeds, outside the store and the settings: the stamp still notices."""
    build(settings)
    release = static.asset("feed.css") + b"\n/* the next release */\n"
    packaged = static.asset
    monkeypatch.setattr(static, "asset", lambda name: release if name == "feed.css"
                        else packaged(name))
    again = build(settings)
    assert again.written > 0
    assert (settings.output_dir / "feed.css").read_bytes() == release


def test_a_store_made_anew_from_edited_seeds_is_exported_anew(settings: Settings) -> None:
    """Both stores have one change in their log: the store's id tells them apart."""
    build(settings)
    record, text = next((path, path.read_text(encoding="utf-8"))
                        for path in sorted(settings.seeds_dir.glob("*.txt"))
                        if "\npublished: true" in path.read_text(encoding="utf-8"))
    record.write_text(text.replace('\ntitle: "', '\ntitle: "Edited ', 1), encoding="utf-8")
    settings.store_path.unlink()
    again = build(settings)
    assert again.written > 0
    assert b"Edited " in (settings.output_dir / "feeds" / "all.atom").read_bytes()


def test_an_unreadable_stamp_is_none(tmp_path: Path) -> None:
    (tmp_path / STAMP).write_text('{"tree": "build-1"', encoding="utf-8")
    assert read_stamp(tmp_path) is None
    assert read_stamp(tmp_path / "absent") is None


_NEWEST = {"all": "0123456789abcdef:digest\n"}
_BUILT = Stamp("build-2", "token", 10, Basis("base", "store-a:7", "links"))


def test_a_stamp_of_the_current_tree_says_since_which_head_its_keys_hold(tmp_path: Path) -> None:
    write_stamp(tmp_path, _BUILT, _NEWEST)
    stamp = read_stamp(tmp_path)
    assert stamp == _BUILT
    assert since(tmp_path, stamp, "build-2", "base", "store-a:7") == Since(7, "links", _NEWEST)
    assert since(tmp_path, stamp, "build-2", "base", "store-a:12") == Since(7, "links", _NEWEST)


@pytest.mark.parametrize(("stamp", "tree", "base", "state"), [
    (None, "build-2", "base", "store-a:12"),  # no stamp
    (dataclasses.replace(_BUILT, basis=None), "build-2", "base", "store-a:12"),  # an older one
    (_BUILT, "build-3", "base", "store-a:12"),  # killed between its switch and its stamp
    (_BUILT, "build-2", "other settings", "store-a:12"),
    (_BUILT, "build-2", "base", "store-b:12"),  # another store
    (_BUILT, "build-2", "base", "store-a:6"),  # a store whose head went back: a restored backup
    (_BUILT, "build-2", "base", "garbled"),
])
def test_a_stamp_that_cannot_say_what_changed_says_nothing(
        tmp_path: Path, stamp: Stamp | None, tree: str, base: str, state: str) -> None:
    write_stamp(tmp_path, _BUILT, _NEWEST)
    assert since(tmp_path, stamp, tree, base, state) is None


def test_newest_lines_of_another_build_or_none_say_nothing(tmp_path: Path) -> None:
    """A build killed between writing the newest lines and the stamp, or a stamp without them."""
    write_stamp(tmp_path, _BUILT)
    assert since(tmp_path, _BUILT, "build-2", "base", "store-a:7") is None
    write_stamp(tmp_path, dataclasses.replace(_BUILT, tree="build-3"), _NEWEST)
    write_stamp(tmp_path, _BUILT)
    assert since(tmp_path, _BUILT, "build-2", "base", "store-a:7") is None
    (tmp_path / NEWEST).write_text('{"tree": "build-2"', encoding="utf-8")
    assert since(tmp_path, _BUILT, "build-2", "base", "store-a:7") is None


def test_a_stamp_without_a_basis_is_read_as_one(tmp_path: Path) -> None:
    (tmp_path / STAMP).write_text('{"tree": "build-1", "token": "t", "files": 3}', encoding="utf-8")
    assert read_stamp(tmp_path) == Stamp("build-1", "t", 3)
