"""Shared helpers: build small inputs in kefu's canonical schema and assess them."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

import kefu

#: The project's shared material (rules, conformance cases, real data) beside the checkout.
SHARED = Path(os.environ.get("KEFU_SHARED", Path(__file__).resolve().parents[2] / "shared"))


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def msg(buyer: str, sender: str, ts: str, agent: str | None = None, shop: str = "s1", **kw: Any):
    """One message row; ``ts`` may be 'HH:MM:SS' (on 2024-01-07) or a full ISO time."""
    if len(ts) <= 8:
        ts = f"2024-01-07T{ts}"
    return {"shop_id": shop, "buyer_id": buyer, "agent_id": agent, "sender": sender, "ts": ts, **kw}


@pytest.fixture
def run(tmp_path: Path):
    """run(messages=[...], ratings=[...], profile=..., as_of=...) → kefu.Result."""
    counter = iter(range(10**6))

    def _run(
        messages: list[dict[str, Any]] | None = None,
        profile: str | kefu.Profile = "taobao",
        as_of: str = "2024-01-08",
        **tables: list[dict[str, Any]],
    ) -> kefu.Result:
        folder = tmp_path / f"in{next(counter)}"
        folder.mkdir()
        for name, rows in {"messages": messages or [], **tables}.items():
            if rows:
                write_jsonl(folder / f"{name}.jsonl", rows)
        if not any(folder.iterdir()):
            write_jsonl(folder / "messages.jsonl", [])
        return kefu.assess(folder, profile, as_of)

    return _run


def shop_row(result: kefu.Result, shop: str = "s1") -> dict[str, Any]:
    rows = [r for r in result.figures["shop"].to_pylist() if r["shop_id"] == shop]
    assert len(rows) == 1, f"shop {shop} not in {result.figures['shop'].to_pylist()}"
    return rows[0]


def example_claims(body: str) -> tuple[list[str], str, dict[str, str]]:
    """What a section of docs/examples/README.md claims: its ``kefu import`` arguments, the
    reconciliation line the import prints, and the figures row (column → text)."""
    (block,) = re.findall(r"```bash\n(.*?)```", body, re.S)
    command = next(line for line in block.splitlines() if " kefu import " in line)
    args = shlex.split(command.split(" kefu ", 1)[1])
    (line,) = re.findall(r"^Import: `(.+)`$", body, re.M)
    header, _, values = [r for r in body.splitlines() if r.startswith("|")][:3]
    cells = [[c.strip() for c in r.strip("|").split("|")] for r in (header, values)]
    return args, line, dict(zip(*cells, strict=True))


def example_figures(shop: dict[str, Any]) -> dict[str, str]:
    """A shop's figures as docs/examples/README.md writes them in its figures row."""
    return {
        "rounds": str(shop["rounds"]),
        "rounds responded": str(shop["rounds_responded"]),
        "3-minute response rate": f"{shop['response_rate']:.1%}",
        "first response time": f"{shop['first_response_s']:.1f} s",
        "average response time": f"{shop['response_s']:.1f} s",
    }


#: CI sets KEFU_REQUIRE_SPARK=1: there a machine without Java fails the Spark tests.
REQUIRE_SPARK = os.environ.get("KEFU_REQUIRE_SPARK") == "1"


@pytest.fixture(scope="session")
def spark_engine():
    """One local Spark session (two cores) for every test that runs the definitions on it."""
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        if REQUIRE_SPARK:
            pytest.fail("KEFU_REQUIRE_SPARK=1 but Java (Spark needs 17) is not installed")
        pytest.skip("no Java: Spark needs Java 17")
    from kefu.engine.spark import SparkEngine

    engine = SparkEngine(master="local[2]")
    yield engine
    engine.close()
    engine.spark.stop()


#: CI sets KEFU_REQUIRE_POSTGRES=1: there a machine without PostgreSQL fails its tests.
REQUIRE_POSTGRES = os.environ.get("KEFU_REQUIRE_POSTGRES") == "1"


def _postgres_program(name: str) -> str | None:
    """A PostgreSQL server program: on PATH, or where Debian installs it (not on PATH)."""
    found = shutil.which(name)
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), reverse=True)
    return found or (str(versions[0]) if versions else None)


@pytest.fixture(scope="session")
def postgres_dsn():
    """A throwaway PostgreSQL server on a Unix socket, for the emitted SQL to run on.

    Our own few lines rather than pytest-postgresql: the server refuses to run as root,
    so under root (CI's containers) it runs as the ``postgres`` user the package creates.
    ``fsync=off``: the data is thrown away after the session.
    """
    initdb, pg_ctl = _postgres_program("initdb"), _postgres_program("pg_ctl")
    if not (initdb and pg_ctl):
        if REQUIRE_POSTGRES:
            pytest.fail("KEFU_REQUIRE_POSTGRES=1 but PostgreSQL (initdb, pg_ctl) is not installed")
        pytest.skip("no PostgreSQL server programs (initdb, pg_ctl)")
    folder = Path(tempfile.mkdtemp(prefix="kefu-pg-"))  # short: a socket path is <108 bytes
    as_user: list[str] = []
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(folder, owner.pw_uid, owner.pw_gid)
        as_user = ["runuser", "-u", "postgres", "--"]
    data = folder / "data"
    init = [initdb, "-D", str(data), "-A", "trust", "-U", "kefu", "--no-sync", "-E", "UTF8"]
    subprocess.run([*as_user, *init, "--locale=C.UTF-8"], check=True, capture_output=True)
    options = f"-k {folder} -c listen_addresses='' -c fsync=off"
    start = [pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "-o", options, "start"]
    subprocess.run([*as_user, *start], check=True, capture_output=True)
    try:
        yield f"host={folder} user=kefu dbname=postgres"
    finally:
        stop = [pg_ctl, "-D", str(data), "-m", "immediate", "stop"]
        subprocess.run([*as_user, *stop], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)
