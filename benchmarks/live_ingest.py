"""Sustained ingest into a real ``kefu serve`` over loopback, durable commits included.

The script starts ``kefu serve`` on a fresh store in a child process, then for each batch
size posts batches of new messages (10,000 buyers of one shop, in time order) from
``--clients`` client threads for ``--seconds`` seconds, and reports the events the server
acknowledged per second (each acknowledged only once its commit is on disk) and the median
and p99 of a request's time; the server's peak RSS is read from ``/proc``.

    uv run python benchmarks/live_ingest.py --sizes 100,1000 --seconds 15

writes the table into docs/live.md between ``<!-- ingest-results:start -->`` and
``<!-- ingest-results:end -->``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx2
from markers import write_results  # this folder, beside the script

from kefu.live.store import connect
from kefu.live.tokens import create_token

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "live.md"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):  # the peak resident set
                return int(line.split()[1]) / 1024
    return float("nan")


def serve(store: Path, port: int) -> subprocess.Popen:
    kefu = Path(sys.executable).parent / "kefu"
    args = [str(kefu), "serve", "--store", str(store), "--port", str(port)]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            httpx2.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
            return server
        except httpx2.TransportError:
            time.sleep(0.1)
    raise SystemExit("kefu serve did not start")


def body(numbers: range) -> bytes:
    first = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=1)
    events = [
        {
            "shop_id": "s1",
            "buyer_id": f"b{n % 10_000}",
            "sender": "buyer" if n % 2 else "agent",
            "agent_id": None if n % 2 else f"a{n % 20}",
            "ts": (first + dt.timedelta(milliseconds=n)).isoformat(sep=" "),
            "text": f"您好,订单 {n} 什么时候发货?",
            "msg_id": f"m{n}",
            "seq": n,
        }
        for n in numbers
    ]
    return json.dumps(events, ensure_ascii=False).encode()


def load(url: str, token: str, size: int, seconds: float, clients: int, counter) -> dict:
    latencies: list[float] = []
    acked = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def client() -> None:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with httpx2.Client(base_url=url, headers=headers, timeout=60) as http:
            while time.perf_counter() < deadline:
                with lock:
                    start = next(counter) * size
                payload = body(range(start, start + size))
                sent = time.perf_counter()
                answer = http.post("/v1/events", content=payload)
                took = time.perf_counter() - sent
                assert answer.status_code == 200, answer.text
                with lock:
                    latencies.append(took)
                    acked[0] += answer.json()["stored"]

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()
    return {
        "events_per_s": acked[0] / wall,
        "median_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        "requests": len(latencies),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(dir=ROOT / "benchmarks") as tmp:
        store = Path(tmp) / "live.db"
        con = connect(store)
        token = create_token(con, "s1", ["ingest"])
        con.close()
        port = _port()
        server = serve(store, port)
        counter = itertools.count()
        try:
            for size in (int(s) for s in args.sizes.split(",")):
                result = load(f"http://127.0.0.1:{port}", token, size, args.seconds,
                              args.clients, counter)  # fmt: skip
                result["rss_mib"] = _rss_mib(server.pid)
                print(size, {k: round(v, 1) for k, v in result.items()}, flush=True)
                rows.append((size, result))
        finally:
            server.terminate()
            server.wait()
    table = markdown(rows, args)
    print(table)
    if not args.no_doc:
        write_results(DOC, "ingest", table)


def markdown(rows: list, args: argparse.Namespace) -> str:
    lines = [
        f"Reproduce: `uv run python benchmarks/live_ingest.py --sizes {args.sizes} "
        f"--seconds {args.seconds:g} --clients {args.clients}` ({platform.machine()}, "
        f"{os.cpu_count()} cores; server and clients on the same machine, loopback; every "
        "event new; acknowledged = committed and fsynced).",
        "",
        "| batch | events/s acknowledged | request median | request p99 | requests | "
        "server peak RSS |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in rows:
        lines.append(
            f"| {size:,} | {r['events_per_s']:,.0f} | {r['median_ms']:.1f} ms | "
            f"{r['p99_ms']:.1f} ms | {r['requests']:,} | {r['rss_mib']:.0f} MiB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
