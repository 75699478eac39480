"""The benchmark's data: one day-partitioned dataset per size, generated once and cached.

``kefu.demo.scale.write_dataset`` writes it (messages, ratings and refusals partitioned by
local day, rows in time order within a day, 1 % invalid message rows and 0.1 % exact
duplicates, own accounts, bots and system messages). kefu, pandas, Polars and the DuckDB
floors all read the same files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "benchmarks" / "data"


@dataclass(frozen=True)
class Dataset:
    """A generated dataset and how each contender is pointed at it."""

    root: Path  # the dataset as written
    kefu_input: Path  # the folder given to ``kefu assess`` (the root, or a view of it)
    counts: dict[str, int]  # what the generator says it wrote (invalid, duplicates, …)
    view_note: str = ""  # why kefu reads a view, if it does

    @property
    def message_glob(self) -> str:
        """The messages files as a DuckDB ``read_parquet`` pattern (the floors)."""
        return str(self.root / "messages" / "*" / "*.parquet")

    def size_mib(self) -> float:
        files = (self.root / "messages").rglob("*.parquet")
        return sum(f.stat().st_size for f in files) / 1024**2


def _kefu_finds_messages(folder: Path) -> bool:
    from kefu.io.discover import discover_inputs

    return bool(discover_inputs(folder).get("messages"))


def _flat_view(root: Path) -> Path:
    """A folder kefu's discovery reads: one symlink per partition file, named by its day.

    Used only while kefu does not discover ``messages/day=…/part-0.parquet`` itself; the
    links point at the very same files, in the same (day) order.
    """
    view = root.parent / f"{root.name}-flat"
    if view.exists():
        shutil.rmtree(view)
    view.mkdir()
    for entry in sorted(root.iterdir()):
        if entry.is_dir():
            (view / entry.name).mkdir()
            for part in sorted(entry.rglob("*.parquet")):
                name = "-".join(part.relative_to(entry).parts).replace("=", "_")
                (view / entry.name / name).symlink_to(part)
        else:
            (view / entry.name).symlink_to(entry)
    return view


def generator_version() -> str:
    """A hash of the generator's source: a cached dataset of another version is not reused."""
    import hashlib

    import kefu.demo

    digest = hashlib.sha256()
    for path in sorted(Path(kefu.demo.__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def dataset(size: int, shops: int, seed: int, as_of: str, console: Any) -> Dataset:
    """The cached dataset of ``size`` messages; generated with a progress bar if missing."""
    import json

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from kefu.demo.scale import write_dataset

    name = f"dataset-n{size}-shops{shops}-seed{seed}-asof{as_of}-gen{generator_version()}"
    root = DATA_DIR / name
    counts_file = root / "counts.json"
    if not counts_file.exists():
        stem = name.rsplit("-gen", 1)[0]
        for stale in DATA_DIR.glob(f"{stem}-gen*"):  # another generator's data, and its view
            shutil.rmtree(stale, ignore_errors=True)
        partial = root.parent / f"{root.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"generating {size:,} messages", total=size)
            counts = write_dataset(
                partial,
                size,
                shops,
                dt.date.fromisoformat(as_of),
                seed=seed,
                progress=lambda n: progress.update(task, completed=n),
            )
        (partial / "counts.json").write_text(json.dumps(counts), "utf-8")
        os.replace(partial, root)
        console.print(f"[dim]wrote {counts.get('messages', 0):,} messages to {root}[/]")
    counts = json.loads(counts_file.read_text("utf-8"))
    if _kefu_finds_messages(root):
        return Dataset(root, root, counts)
    note = (
        "kefu's input discovery does not yet read `messages/day=…/part-0.parquet`, so kefu "
        "was given a folder of links to the same partition files, one per day"
    )
    return Dataset(root, _flat_view(root), counts, note)
