"""Reading seeds and documents the way a test needs them."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

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


def documents(output: Path) -> dict[str, bytes]:
    """Every file of an export by relative path, the manifest aside."""
    return {
        str(p.relative_to(output)): p.read_bytes()
        for p in sorted(output.rglob("*"))
        if p.is_file() and p.name != "manifest.json"
    }
