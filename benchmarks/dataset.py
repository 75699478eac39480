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
    """A generated dataset: its folder, and what the generator says it wrote."""

    root: Path  # given as it is to kefu, pandas and Polars
    counts: dict[str, int]  # messages, invalid, duplicates, ratings, …

    @property
    def message_glob(self) -> str:
        """The messages files as a DuckDB ``read_parquet`` pattern (the floors)."""
        return str(self.root / "messages" / "*" / "*.parquet")

    def size_mib(self) -> float:
        files = (self.root / "messages").rglob("*.parquet")
        return sum(f.stat().st_size for f in files) / 1024**2


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
        for stale in DATA_DIR.glob(f"{stem}-gen*"):  # another generator's data
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
    return Dataset(root, json.loads(counts_file.read_text("utf-8")))
