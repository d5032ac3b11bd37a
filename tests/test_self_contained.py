"""A clone is all a contributor has: nothing in the project reaches outside the repository."""

from __future__ import annotations

import re
import subprocess

from tests.conftest import ROOT

# The shared folder beside the checkout, and the like: a fresh clone does not have it.
_OUTSIDE = re.compile(r"\.\./shared|\bparent\s*/\s*[\"']shared[\"']|ROOT\.parent\b")


def test_no_tracked_file_reads_outside_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    code = [p for p in tracked if p.endswith((".py", "Makefile", ".toml", ".cfg", ".sh"))
            or p.startswith((".ci/", "scripts/"))]
    offenders = [p for p in code if p != "tests/test_self_contained.py"
                 and _OUTSIDE.search((ROOT / p).read_text(encoding="utf-8", errors="replace"))]
    assert offenders == []


def test_the_atom_schema_is_in_the_repository() -> None:
    schema = ROOT / "tests" / "schemas" / "atom.rnc"
    assert "start = atomFeed | atomEntry" in schema.read_text(encoding="utf-8")
