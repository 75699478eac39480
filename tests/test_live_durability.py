"""Nothing acknowledged is lost: a real ``kefu serve`` killed with SIGKILL under load.

A client posts batches (new events and re-sends of earlier ones) from a thread and notes
each event the server acknowledged; the server is killed mid-run, restarted on the same
store, and every acknowledged event must be there exactly once — and nothing that was never
sent. Re-sending what was in flight when it died stores no second copy.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx2
import pytest

from kefu.live.store import connect
from kefu.live.tokens import create_token

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(store: Path, port: int) -> subprocess.Popen:
    kefu = Path(sys.executable).parent / "kefu"
    server = subprocess.Popen(
        [str(kefu), "serve", "--store", str(store), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return server
        except httpx2.TransportError:
            time.sleep(0.1)
        if server.poll() is not None:
            raise AssertionError(server.stderr.read().decode() if server.stderr else "exited")
    server.kill()
    raise AssertionError("kefu serve did not answer within 30 s")


def _event(n: int) -> dict:
    return {
        "shop_id": "s1",
        "buyer_id": f"b{n % 97}",
        "sender": "buyer" if n % 3 else "agent",
        "agent_id": None if n % 3 else "a1",
        "ts": f"2024-03-01 {10 + n // 3600 % 12:02d}:{n // 60 % 60:02d}:{n % 60:02d}",
        "text": f"消息 {n}",
        "msg_id": f"m{n}",
    }


def test_every_acknowledged_event_survives_a_kill_and_is_stored_once(tmp_path):
    store = tmp_path / "live.db"
    con = connect(store)
    token = create_token(con, "s1", ["ingest", "read"])
    con.close()
    port = _free_port()
    url, headers = f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {token}"}
    server = _serve(store, port)
    acked: set[str] = set()
    sent: set[str] = set()
    stop = threading.Event()

    def load() -> None:
        n = 0
        with httpx2.Client(base_url=url, headers=headers, timeout=5) as client:
            while not stop.is_set():
                batch = [_event(i) for i in range(n, n + 200)]
                batch += [_event(i) for i in range(max(0, n - 50), n)]  # re-sends
                n += 200
                sent.update(e["msg_id"] for e in batch)
                try:
                    answer = client.post("/v1/events", json=batch)
                except httpx2.TransportError:
                    continue  # the server is down: not acknowledged
                if answer.status_code == 200:
                    assert answer.json()["rejected"] == []
                    acked.update(e["msg_id"] for e in batch)

    client = threading.Thread(target=load)
    client.start()
    deadline = time.monotonic() + 60
    while len(acked) < 5_000 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(server.pid, signal.SIGKILL)  # mid-run: requests are in flight
    server.wait()
    time.sleep(0.3)
    stop.set()
    client.join()
    assert len(acked) >= 5_000, "the load did not get going"

    server = _serve(store, port)
    try:
        ids: list[str] = []
        with httpx2.Client(base_url=url, headers=headers, timeout=10) as reader:
            after = 0
            while True:
                page = reader.get("/v1/shops/s1/events", params={"after": after, "limit": 10_000})
                body = page.json()
                if not body["events"]:
                    break
                ids += [e["msg_id"] for e in body["events"]]
                after = body["last"]
            assert acked <= set(ids)  # nothing acknowledged was lost
            assert len(ids) == len(set(ids))  # and nothing stored twice
            assert set(ids) <= sent  # nor anything never sent
            # What was in flight at the kill, sent again, is matched, not stored again.
            resend = [_event(int(i[1:])) for i in sorted(set(ids) - acked)][:500]
            if resend:
                again = reader.post("/v1/events", json=resend).json()
                assert (again["stored"], again["duplicates"]) == (0, len(resend))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
