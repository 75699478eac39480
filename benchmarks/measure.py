"""Running a measured child process, and what the machine and kefu were while it ran.

Peak RSS is the child's ``ru_maxrss`` as returned by ``os.wait4`` (the number
``/usr/bin/time -v`` reports, but per child). Timings only mean something on a quiet
machine: before each measurement the driver waits (``--quiet-wait``) for other processes to
go idle, and each measurement records how many cores other processes kept busy meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

#: Other processes keeping more than this many cores busy on average spoil a measurement.
BUSY_CORES = 0.25

#: Longest wait, per measurement, for other processes to leave the CPU (``--quiet-wait``).
QUIET_WAIT = {"s": 0.0}

#: Children run kefu with its defaults: no memory cap from the caller's environment.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "KEFU_MEMORY_LIMIT"}


def busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (Linux), else None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return None
    ticks = [int(f) for f in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    # guest time is already counted in user and nice
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float | None = None, sample: float = 2.0) -> None:
    """Wait up to ``limit`` seconds until other processes use < BUSY_CORES cores."""
    deadline = time.perf_counter() + (QUIET_WAIT["s"] if limit is None else limit)
    while time.perf_counter() < deadline:
        before = busy_cpu_s()
        if before is None:
            return
        time.sleep(sample)
        after = busy_cpu_s()
        if after is None or (after - before) / sample < BUSY_CORES:
            return


def run_child(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``: wall time, peak RSS (bytes), exit code, stdout, stderr tail, and how many
    cores other processes kept busy meanwhile (``other_cores``; contention spoils timings).
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        busy_before = busy_cpu_s()
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=CHILD_ENV)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        busy_after = busy_cpu_s()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    peak = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    child_cpu = usage.ru_utime + usage.ru_stime
    other = None
    if busy_before is not None and busy_after is not None and wall > 0:
        other = max(busy_after - busy_before - child_cpu, 0.0) / wall
    return {
        "wall_s": wall,
        "peak_rss": peak,
        "cpu_s": child_cpu,
        "other_cores": other,
        "returncode": proc.returncode,
        "stdout": stdout,
        "stderr_tail": stderr[-2000:],
    }


def src_fingerprint() -> dict[str, str]:
    """A hash per kefu source file, to notice files that change during a run."""
    return {
        str(path.relative_to(ROOT)): hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        for path in sorted((ROOT / "src").rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def kefu_commit() -> str:
    """The measured kefu: the git commit, marked when src/ has uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "?"
    if not head:
        return "?"
    return head + (" + uncommitted changes in src/" if dirty else "")


def _version(module: str) -> str:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return "?"


def machine() -> dict[str, Any]:
    """CPU, cores, RAM, OS and the versions of everything measured."""
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        ram = None
    return {
        "kefu_commit": kefu_commit(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_bytes": ram,
        "os": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "python": platform.python_version(),
        **{name: _version(name) for name in ("duckdb", "pandas", "polars", "pyarrow", "kefu")},
    }
