"""Reading seeds and documents the way a test needs them."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from feeds.config import Settings
from feeds.export import ExportReport, export
from feeds.hosting import IMMUTABLE_MARKERS
from feeds.ingest import ingest
from feeds.store import open_store
from tests.conftest import ROOT, require

ATOM_SCHEMA = ROOT / "tests" / "schemas" / "atom.rnc"

SECURED = re.compile(r'^secured:\s*"([^"]*)"', re.MULTILINE)


def front_matter(path: Path) -> dict[str, object]:
    text = path.read_text(encoding="utf-8")
    loaded = yaml.safe_load(text.split("---\n")[1])
    assert isinstance(loaded, dict)
    return loaded


def secured_values(seeds: Path) -> list[str]:
    values = []
    for path in sorted(seeds.glob("*.txt")):
        values += SECURED.findall(path.read_text(encoding="utf-8"))
    return values


def secret_chunks(seeds: Path, length: int = 12) -> set[bytes]:
    """Every run of ``length`` characters of every secured value."""
    return {
        value[i:i + length].encode()
        for value in secured_values(seeds)
        for i in range(len(value) - length + 1)
    }


def leaked(body: bytes, chunks: set[bytes], length: int = 12) -> bool:
    return not chunks.isdisjoint(body[i:i + length] for i in range(len(body) - length + 1))


def documents(output: Path, markers: bool = False) -> dict[str, bytes]:
    """Every file of an export by relative path, the manifest aside; with ``markers``, the empty
    files that mark full archive pages immutable for nginx too (they are not documents)."""
    return {
        str(p.relative_to(output)): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
        and (markers or p.relative_to(output).parts[0] != IMMUTABLE_MARKERS)
    }


# A record newer than every sample, from a known provider, with no topics: it changes exactly
# two feeds (all and providers/statnews-com).
NEW_RECORD = """---
title: "A short note with no topics"
publishedDateTime: 2025-01-01T08:00:00Z
webUrl: "https://www.statnews.com/2025/01/01/short-note/"
published: true
provider:
  name: STAT
  domain: statnews.com
---
"""


def jing_errors(atoms: list[Path]) -> str:
    """What jing finds wrong in Atom documents against RFC 4287's RELAX NG schema ("" if nothing)."""
    jing = shutil.which("jing")
    require("jing", jing is not None, "Atom documents are NOT validated against RFC 4287's schema")
    assert atoms
    result = subprocess.run([str(jing), "-c", str(ATOM_SCHEMA), *map(str, atoms)],
                            capture_output=True, text=True, check=False)
    return "" if result.returncode == 0 else result.stdout + result.stderr


def build(settings: Settings) -> ExportReport:
    """Ingest the seeds and export, as ``feeds build`` does, in this process."""
    store = open_store(settings.store_path)
    try:
        ingest(store, settings.seeds_dir, settings.max_record_bytes)
        return export(store, settings)
    finally:
        store.close()
