"""Creating a build tree's files through their folders' descriptors (feeds.export.files)."""

from __future__ import annotations

import os
from pathlib import Path

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
