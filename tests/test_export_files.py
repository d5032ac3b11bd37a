"""Creating a build tree's files through their folders' descriptors (feeds.export.files)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from feeds.export.files import TreeFiles


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_export_files_creates_folders_and_files_with_their_bytes(tmp_path: Path) -> None:
    files = TreeFiles(tmp_path)
    files.write("feeds/topics/ai.atom", b"<feed/>", replace=False)
    files.write("index.html", b"", replace=False)
    files.write("feeds/topics/ai.atom.gz", b"\x1f\x8b" * 40_000, replace=False)
    files.close()
    assert (tmp_path / "feeds/topics/ai.atom").read_bytes() == b"<feed/>"
    assert (tmp_path / "index.html").read_bytes() == b""
    assert (tmp_path / "feeds/topics/ai.atom.gz").read_bytes() == b"\x1f\x8b" * 40_000
    assert files.created == [str(tmp_path / name) for name in
                             ("feeds/topics/ai.atom", "index.html", "feeds/topics/ai.atom.gz")]


def test_export_files_replace_makes_a_new_inode_leaving_a_hard_link_as_it_was(tmp_path: Path) -> None:
    current, recycled = tmp_path / "current", tmp_path / "recycled"
    (current / "feeds").mkdir(parents=True)
    (current / "feeds/all.atom").write_bytes(b"old")
    (recycled / "feeds").mkdir(parents=True)
    os.link(current / "feeds/all.atom", recycled / "feeds/all.atom")
    files = TreeFiles(recycled)
    files.write("feeds/all.atom", b"new", replace=True)
    files.close()
    assert (recycled / "feeds/all.atom").read_bytes() == b"new"
    assert (current / "feeds/all.atom").read_bytes() == b"old"  # not written through the link


def test_export_files_keeps_a_few_folders_open_and_closes_them(tmp_path: Path) -> None:
    before = _open_descriptors()
    files = TreeFiles(tmp_path)
    names = [f"feeds/topics/t{n}/archive/{page}.atom" for n in range(100) for page in (1, 2)]
    for name in names:
        files.write(name, name.encode(), replace=False)
    assert _open_descriptors() - before <= 16
    files.write(names[0], b"again", replace=True)  # a folder closed earlier is opened again
    files.close()
    assert _open_descriptors() == before
    assert (tmp_path / names[0]).read_bytes() == b"again"
    assert all((tmp_path / name).read_bytes() == name.encode() for name in names[1:])


def test_export_files_link_shares_the_inode_and_replaces_a_file_there(tmp_path: Path) -> None:
    current, tree = tmp_path / "current", tmp_path / "tree"
    (current / "feeds/all/archive").mkdir(parents=True)
    source = current / "feeds/all/archive/1.atom"
    source.write_bytes(b"archived")
    (tree / "feeds/all/archive").mkdir(parents=True)
    (tree / "feeds/all/archive/1.atom").write_bytes(b"recycled, other bytes")
    files = TreeFiles(tree)
    files.link("feeds/all/archive/1.atom", str(source))  # over the recycled tree's file
    files.link("feeds/topics/ai.atom", str(source))  # in a folder it makes
    files.close()
    for name in ("feeds/all/archive/1.atom", "feeds/topics/ai.atom"):
        assert (tree / name).stat().st_ino == source.stat().st_ino
    assert source.read_bytes() == b"archived"
    assert files.created == []  # links name files already durable: nothing to sync


def test_export_files_link_to_a_missing_file_raises_and_remove_undoes_a_link(tmp_path: Path) -> None:
    (tmp_path / "current").mkdir()
    (tmp_path / "current/index.html").write_bytes(b"<html>")
    files = TreeFiles(tmp_path / "tree")
    files.link("index.html", str(tmp_path / "current/index.html"))
    with pytest.raises(FileNotFoundError):
        files.link("feeds/all.atom", str(tmp_path / "current/feeds/all.atom"))
    files.remove("index.html")
    files.remove("index.html")  # already gone: nothing to do
    files.close()
    assert not (tmp_path / "tree/index.html").exists()
    assert (tmp_path / "current/index.html").read_bytes() == b"<html>"
