"""Where a build's time goes: py-spy profiles of a cold build, a no-op build, one-record edits
and the Hugo-equivalent build.

``python benchmarks/profile.py --records 10000`` (``make profile``) builds the benchmark corpus
under py-spy (``--subprocesses``: the ingest's and the renderer's worker processes count too)
and writes the top functions of each profile into ``docs/PROFILE.md``, between its profile
markers; the reading of those profiles around the markers is written by hand.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.process import run  # noqa: E402
from benchmarks.run import config, corpus, edit_one, feeds, fresh  # noqa: E402

DOC = ROOT / "docs" / "PROFILE.md"
BEGIN, END = "<!-- profile:begin -->", "<!-- profile:end -->"


_WORKER_START = "BaseProcess._bootstrap (multiprocessing/process.py)"


@dataclass(frozen=True)
class Profile:
    """Samples of one command. py-spy samples the threads that are not idle: running, or
    runnable and waiting for a CPU, so on a loaded machine the shares mean more than the seconds."""

    name: str
    wall_s: float
    rate: int
    samples: int
    main_samples: int  # in the command's own process; the rest in its worker processes
    self_samples: Counter[str]  # by the function running at the sample
    total_samples: Counter[str]  # by every function on the stack, once per sample


def frame_name(frame: str) -> str:
    """``"render (feeds/render/rss.py:40)"`` → ``"render (feeds/render/rss.py)"``: one per function."""
    head, _, place = frame.rpartition(" (")
    return f"{head} ({place.rsplit(':', 1)[0]})" if head else frame


def parse_raw(name: str, text: str, wall_s: float, rate: int) -> Profile:
    """Read py-spy's ``--format raw`` output: one ``frame;frame;… count`` line per stack."""
    self_samples: Counter[str] = Counter()
    total_samples: Counter[str] = Counter()
    samples = main = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        processes = [f for f in frames if f.startswith("process ")]
        functions = [frame_name(f) for f in frames if not f.startswith("process ")]
        if len(processes) > 1:
            # A forked worker's stack starts with its parent's frames at the fork: they did not
            # run in the worker, so its own work starts below the multiprocessing bootstrap.
            starts = [i for i, f in enumerate(functions) if f.startswith(_WORKER_START)]
            functions = functions[starts[-1] + 1:] if starts else functions
        samples += count
        if len(processes) == 1:
            main += count
        if functions:
            self_samples[functions[-1]] += count
            for function in set(functions):
                total_samples[function] += count
    return Profile(name, wall_s, rate, samples, main, self_samples, total_samples)


def record(name: str, command: list[str], out: Path, rate: int) -> Profile:
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is None:
        raise RuntimeError("py-spy not found: run `make profile` (pip install -e '.[bench]')")
    start = time.perf_counter()
    run([spy, "record", "--subprocesses", "--format", "raw", "--rate", str(rate),
         "--output", str(out), "--", *command])
    return parse_raw(name, out.read_text(encoding="utf-8"), time.perf_counter() - start, rate)


def section(profile: Profile, top: int) -> str:
    """The profile's top functions by their own time, and feeds' own functions by inclusive time."""
    seconds = profile.samples / profile.rate
    lines = [f"### {profile.name}", "",
             f"Wall {profile.wall_s:.2f} s under py-spy; {seconds:.2f} s of samples of threads "
             f"not idle (running or waiting for a CPU), {profile.main_samples / profile.rate:.2f} s "
             "of them in the main process, the rest in its worker processes.", "",
             "| self | inclusive | function (file) |", "|---:|---:|---|"]

    def share(count: int) -> str:
        return f"{count / profile.rate:.2f} s {100 * count / max(profile.samples, 1):.0f}%"

    for function, count in profile.self_samples.most_common(top):
        lines.append(f"| {share(count)} | {share(profile.total_samples[function])} | `{function}` |")
    own = [(f, c) for f, c in profile.total_samples.most_common() if "(feeds/" in f
           and not f.startswith(("<module> ", "main ", "_run "))]
    lines += ["", "feeds' own functions by inclusive time:", "",
              "| inclusive | function (file) |", "|---:|---|"]
    lines += [f"| {share(count)} | `{function}` |" for function, count in own[:top]]
    return "\n".join(lines)


def write_doc(doc: Path, block: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else f"# Profile\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        raise RuntimeError(f"{doc}: expected the markers {BEGIN} and {END}")
    doc.write_text(text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):],
                   encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workdir", default=str(ROOT / "var" / "bench"))
    parser.add_argument("--rate", type=int, default=400, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=18, help="functions listed per profile")
    parser.add_argument("--no-write", action="store_true", help="print; leave docs/ alone")
    args = parser.parse_args(argv)
    root = Path(args.workdir).resolve()
    pristine = corpus(args.records, args.seed, root)
    work = fresh(root / f"profile-{args.records}")
    seeds = work / "seeds"
    shutil.copytree(pristine, seeds, ignore=shutil.ignore_patterns(".complete"))
    cfg = config(work / "feeds.yaml", seeds, work)
    build = feeds("build", "--config", str(cfg))
    profiles = [record(f"cold build, {args.records:,} records", build, work / "cold.txt", args.rate),
                record("no-op build", build, work / "noop.txt", args.rate)]
    edit_one(seeds)
    profiles.append(record("one-record edit, the first after the cold build", build,
                           work / "first-edit.txt", args.rate))
    edit_one(seeds)
    profiles.append(record("one-record edit, steady state (the tree from two builds back recycled)",
                           build, work / "edit.txt", args.rate))
    # The build compared with Hugo's at limit 50: RSS only, no archives, nothing compressed,
    # no HTML page per feed.
    same = fresh(root / f"profile-{args.records}-rss")
    rss_only = config(same / "feeds.yaml", pristine, same, formats=["rss"], archives=False,
                      precompress=False, feed_pages=False)
    profiles.append(record("Hugo-equivalent build (RSS only, no archives, no precompression, "
                           "no feed pages), "
                           "from nothing", feeds("build", "--config", str(rss_only)),
                           same / "rss-only.txt", args.rate))
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    block = "\n\n".join([
        BEGIN,
        f"Command: `python benchmarks/profile.py --records {args.records} --rate {args.rate}` "
        "(`make profile`), which runs `py-spy record --subprocesses --format raw -- "
        f"python -m feeds build --config …` for each build. {when}, load average "
        f"{os.getloadavg()[0]:.1f} at the end (2 cores, shared).",
        *(section(p, args.top) for p in profiles), END])
    print(block)
    if not args.no_write:
        write_doc(DOC, block)
        print(f"written to {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
