"""The README's Python example runs as written (on a small shop of its own)."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import msg, write_jsonl

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs(tmp_path, monkeypatch):
    (block,) = re.findall(r"```python\n(.*?)```", README.read_text("utf-8"), flags=re.DOTALL)
    data = tmp_path / "shop-data"
    data.mkdir()
    write_jsonl(
        data / "messages.jsonl",
        [msg("a", "buyer", "10:00:00"), msg("a", "agent", "10:00:30", "x1")],
    )
    write_jsonl(
        data / "ratings.jsonl",
        [{"shop_id": "s1", "buyer_id": "a", "score": "很满意", "ts": "2024-01-07T10:05:00"}],
    )
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["shops"].loc[0, "rounds"] == 1
    assert namespace["why"].totals()["response_rate"] == 1.0
