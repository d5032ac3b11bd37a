"""One measured process: wall time and peak RSS of the whole process tree.

Every benchmark measurement (``feeds`` and Hugo alike) runs its command as a separate process,
as a user would, through ``run``.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    output: str


class Failed(RuntimeError):
    """The command exited non-zero, ran out of time, or went over its memory cap."""

    def __init__(self, command: Sequence[str], reason: str, output: str) -> None:
        super().__init__(f"{' '.join(command)}: {reason}:\n{output[-3000:]}")
        self.reason = reason  # one line, for a table cell


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (a build's process pool counts towards its memory)."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rpartition(")")[2].split()[1])
            parents.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(parents.get(current, []))
    return found


def rss_kb(pid: int) -> int:
    """Resident memory of one process now, 0 once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(match.group(1)) if match else 0


def run(command: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = 3600, max_rss_mb: float | None = None) -> Measured:
    """Run ``command``; wall time and peak RSS (the process, or its whole tree when larger).

    ``max_rss_mb`` stops a command whose tree grows past it (the machine is shared: a Hugo
    build of a million records must not push other people's work into swap).
    """
    # As a user's shell runs it: Python caches modules' bytecode. A shell that turns caching off
    # (PYTHONDONTWRITEBYTECODE, set in some CI and sandbox images) would have every run compile
    # feeds' own modules from source again, about 0.1 s that no installed feeds pays.
    inherited = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                   env={**inherited, **(env or {})}, cwd=cwd)
        peak_tree = 0
        stopped = ""
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            peak_tree = max(peak_tree, sum(rss_kb(p) for p in _tree(process.pid)))
            if not stopped and time.perf_counter() - start > timeout:
                stopped = f"stopped after {timeout:.0f} s"
            if not stopped and max_rss_mb is not None and peak_tree / 1024 > max_rss_mb:
                stopped = f"stopped at {peak_tree / 1024:.0f} MB, over the {max_rss_mb:.0f} MB cap"
            if stopped:
                process.kill()
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    if stopped or process.returncode != 0:
        why = stopped or f"exited {process.returncode} after {seconds:.1f} s"
        raise Failed(command, why, output)
    return Measured(seconds, max(peak_tree, usage.ru_maxrss) / 1024, output)
