"""The state folder of daily incremental runs: what it holds and how a run lands in it.

::

    state/
      state.json            profile, its digest, days held, the runs in order
      runs/000001/          one run's files (Parquet):
        cells_rounds          per-day cells of the rounds that became final (kefu.metrics.cells)
        counts_rounds_wait_s  their waits, counted per distinct value (exact quantiles)
        cells_refusal_audit   per-day cells of the final prompts and clicks
        agent_consultations   per-day sums of the final handled consultations (E1)
        ratings               the run's ratings with their S3 dedupe and R3 flag (S4 judges
                              the window, so ratings stay rows: a few per hundred messages)
        shops                 the shops seen, per day
        carry_messages, carry_ratings, open_rounds, open_prompts, open_consultations,
        accounts, agents, shops_table   — read only from the latest run

A run writes its folder first and ``state.json`` last, through a rename: a run that fails
leaves the state as it was, and the files of a run not listed are never read.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from kefu.metrics.params import Params
from kefu.rules.profile import Profile

VERSION = 1
MANIFEST = "state.json"

#: Files every run adds; the figures read them from all runs.
ADDED = (
    "cells_rounds",
    "counts_rounds_wait_s",
    "cells_refusal_audit",
    "agent_consultations",
    "ratings",
    "shops",
)
#: Files that say where the streams stand after a run; only the latest run's are read.
CARRIED = (
    "carry_messages",
    "carry_ratings",
    "open_rounds",
    "open_prompts",
    "open_consultations",
    "accounts",
    "agents",
    "shops_table",
)


#: Written only under some profiles (S3's 24-hour periods).
OPTIONAL = ("carry_ratings",)
LOCK = ".lock"


def _fsync(path: Path) -> None:
    """Flush a file's or a folder's entries to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class StateError(ValueError):
    """A state folder that cannot take this run (another profile, changed accounts …)."""


def profile_digest(profile: Profile) -> str:
    """A digest of every value of ``profile`` a definition reads (its name aside)."""
    values = {k: str(v) for k, v in sorted(Params(profile, dt.date(2000, 1, 1)).values().items())}
    for key in ("window_start", "window_end", "history_start", "history_end"):
        values.pop(key)
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Manifest:
    """``state.json``: which profile the state follows and which days and runs it holds."""

    profile: str
    profile_digest: str
    first_day: str | None = None
    last_day: str | None = None
    accounts_digest: str | None = None
    runs: list[str] = field(default_factory=list)
    version: int = VERSION

    @property
    def last(self) -> dt.date | None:
        return dt.date.fromisoformat(self.last_day) if self.last_day else None

    @property
    def first(self) -> dt.date | None:
        return dt.date.fromisoformat(self.first_day) if self.first_day else None


class StateFolder:
    """A state folder on disk: its manifest, its runs' files, and how a new run lands."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def manifest(self) -> Manifest | None:
        """The manifest, or None for a folder no run has written yet."""
        path = self.root / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text("utf-8"))
            manifest = Manifest(**data)
        except (ValueError, TypeError) as exc:
            raise StateError(f"--state {self.root}: {MANIFEST} is not kefu's ({exc})") from None
        if manifest.version != VERSION:
            raise StateError(
                f"--state {self.root}: written by state format {manifest.version}, "
                f"this kefu reads {VERSION}; rebuild it from the data"
            )
        return manifest

    def check_root(self) -> None:
        """A folder kefu may use: missing, empty, or a state folder."""
        if self.root.exists() and not self.root.is_dir():
            raise StateError(f"--state {self.root}: a file, not a folder")
        if not self.root.is_dir() or (self.root / MANIFEST).exists():
            return
        # What a first run that failed may leave: its lock, its staging under runs/.
        leftovers = {LOCK, "runs", f".{MANIFEST}.tmp"}
        if any(p.name not in leftovers for p in self.root.iterdir()):
            raise StateError(f"--state {self.root}: not empty and holds no {MANIFEST}")

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the folder for one run: a second run at the same time is refused."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK).open("a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise StateError(f"--state {self.root}: another run is using it") from None
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def files(self, manifest: Manifest, name: str) -> list[str]:
        """``name``'s file in every run (``ADDED``), or in the latest run (``CARRIED``)."""
        runs = manifest.runs if name in ADDED else manifest.runs[-1:]
        paths = [self.root / "runs" / run / f"{name}.parquet" for run in runs]
        missing = [p for p in paths if not p.exists()]
        if missing and name not in OPTIONAL:
            raise StateError(f"--state {self.root}: {missing[0]} is missing; rebuild the state")
        return [str(p) for p in paths if p.exists()]

    def new_run(self, manifest: Manifest) -> tuple[str, Path]:
        """The name and a staging folder for the next run's files."""
        name = f"{len(manifest.runs) + 1:06d}"
        staging = self.root / "runs" / f".{name}.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        return name, staging

    def commit(self, manifest: Manifest, name: str, staging: Path) -> None:
        """Land a run: its folder, then the manifest naming it (each one rename)."""
        final = self.root / "runs" / name
        shutil.rmtree(final, ignore_errors=True)  # left by a run that failed before landing
        for path in staging.iterdir():  # on disk before the manifest can name them
            _fsync(path)
        _fsync(staging)
        os.replace(staging, final)
        _fsync(final.parent)
        manifest.runs.append(name)
        tmp = self.root / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(asdict(manifest), indent=1), "utf-8")
        _fsync(tmp)
        os.replace(tmp, self.root / MANIFEST)
        _fsync(self.root)
        # The carried files of earlier runs are never read again.
        for run in manifest.runs[:-1]:
            for carried in CARRIED:
                (self.root / "runs" / run / f"{carried}.parquet").unlink(missing_ok=True)
