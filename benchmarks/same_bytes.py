"""Do two revisions export the same bytes? Builds one corpus with each and compares the trees.

    python benchmarks/same_bytes.py REV [--records 3000] [--seed 0] [--keep DIR]

REV's code comes from ``git archive`` (nothing is checked out or committed); the working tree
is the other side. Each side runs ``feeds build`` in its own directory on the same generated
seeds, then again after a tenth more records arrive (so the second build recycles and links
trees), and after each build the two exports are compared with ``diff -r``, manifest.json and
_headers included. Exits 1 on any difference. Refactors that promise the same bytes run it.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.corpus import generate  # noqa: E402

__all__ = ["main"]


def _unpack(revision: str, target: Path) -> None:
    """REV's files under ``target``, from git's archive of it."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", revision],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def _build(source: Path, workdir: Path, seeds: Path) -> None:
    """``feeds build`` with ``source``'s code on ``seeds``, writing ``workdir/output``."""
    env = {**os.environ, "PYTHONPATH": str(source), "FEEDS_CONFIG": ""}
    env.pop("FEEDS_API_TOKEN", None)
    workdir.mkdir(exist_ok=True)
    code = (f"import feeds, sys; assert feeds.__file__.startswith({str(source)!r}), feeds.__file__; "
            "from feeds.cli import main; sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "build", "--quiet", "--seeds", str(seeds),
                           "--store", str(workdir / "store.sqlite3"),
                           "--output", str(workdir / "output"),
                           "--base-url", "https://feeds.example/"],
                          cwd=workdir, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{source}: feeds build failed:\n{done.stdout}{done.stderr}")
    # The summaries; rejected records (the corpus has duplicate URLs on purpose) are left out.
    print(*(line for line in done.stdout.splitlines() if line.startswith(("ingest:", "build:"))),
          sep="\n", flush=True)


def _same(before: Path, after: Path) -> bool:
    command = ["diff", "-r", "--brief", f"{before}/output/", f"{after}/output/"]
    print("$", " ".join(command), flush=True)
    found = subprocess.run(command, capture_output=True, text=True)
    files = sum(len(names) for _, _, names in os.walk(after / "output" / "."))
    print(found.stdout[:4000] or f"identical: {files} files", flush=True)
    return found.returncode == 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("revision", help="the git revision to compare the working tree with")
    parser.add_argument("--records", type=int, default=3000, help="corpus size (default 3000)")
    parser.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    parser.add_argument("--keep", type=Path, help="work here and keep it, instead of a temp dir")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="same-bytes-") as temporary:
        work = args.keep or Path(temporary)
        work.mkdir(parents=True, exist_ok=True)
        _unpack(args.revision, work / "source")
        seeds = work / "seeds"
        generate(args.records, seeds, seed=args.seed)
        same = True
        for step in ("first build", "after more records"):
            if step != "first build":
                generate(max(1, args.records // 10), work / "more", seed=args.seed + 1)
                for path in (work / "more").iterdir():
                    path.rename(seeds / f"more-{path.name}")
            print(f"-- {step}: {len(list(seeds.iterdir()))} records", flush=True)
            _build(work / "source", work / "before", seeds)
            _build(ROOT, work / "after", seeds)
            same = _same(work / "before", work / "after") and same
    print("same bytes" if same else "DIFFERENT", flush=True)
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
