"""The live service's ingest: checked like the loader, stored once, acknowledged on disk.

The app runs in-process on its real store (FastAPI's TestClient drives the ASGI app);
``test_live_durability.py`` runs it as a real server and kills it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kefu.cli import app as cli
from kefu.engine.duckdb import DuckDBEngine
from kefu.io.load import load_inputs
from kefu.live.events import EventChecker, stored_columns
from kefu.live.store import connect
from kefu.live.tokens import create_token
from kefu.web.app import Settings, create_app


def message(n: int, **fields) -> dict:
    event = {
        "kind": "message",
        "shop_id": "s1",
        "buyer_id": "b1",
        "sender": "buyer" if n % 2 else "agent",
        "agent_id": None if n % 2 else "a1",
        "ts": f"2024-03-01 10:{n:02d}:00",
        "text": f"第{n}条",
        "msg_id": f"m{n}",
        "seq": n,
    }
    return {**event, **fields}


@pytest.fixture
def live(tmp_path):
    """A client of a fresh service, and tokens for two shops."""
    store = tmp_path / "live.db"
    con = connect(store)
    tokens = {
        "s1": create_token(con, "s1", ["ingest", "read"]),
        "s2": create_token(con, "s2", ["admin"]),
        "s1-read": create_token(con, "s1", ["read"]),
    }
    con.close()
    with TestClient(create_app(Settings(store=store, max_events=50, max_body_bytes=64_000))) as c:
        c.tokens = tokens
        yield c


def auth(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def post(live, events, token="s1", **kwargs):
    return live.post("/v1/events", json=events, headers=auth(live.tokens[token]), **kwargs)


def stored(live, kind="message", shop="s1", token="s1"):
    answer = live.get(
        f"/v1/shops/{shop}/events", params={"kind": kind}, headers=auth(live.tokens[token])
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["events"]


def test_events_are_stored_as_the_loader_reads_them(live):
    events = [
        message(
            1, sender="买家", ts="2024-03-01T02:01:00Z", shop_id=" s1\u3000"
        ),  # T1, trimmed ids
        message(2, sender="人工客服", seq="2"),
        {
            "shop_id": "s1",
            "buyer_id": "b1",
            "score": "很满意",
            "ts": "2024-03-01 10:09",
            "msg_id": "r1",
        },
        {"kind": "refusal", "shop_id": "s1", "buyer_id": "b1", "ts": 1709258940, "msg_id": "f1"},
    ]
    answer = post(live, events)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": 4, "stored": 4, "duplicates": 0, "rejected": []}
    rows = stored(live)
    assert [(r["msg_id"], r["shop_id"], r["sender"], r["ts"]) for r in rows] == [
        ("m1", "s1", "buyer", "2024-03-01 10:01:00"),  # 02:01 UTC is 10:01 in Shanghai (T1)
        ("m2", "s1", "agent", "2024-03-01 10:02:00"),
    ]
    assert rows[1]["seq"] == 2 and rows[0]["text"] == "第1条"
    assert [r["score"] for r in stored(live, "rating")] == [5]
    assert [r["ts"] for r in stored(live, "refusal")] == ["2024-03-01 10:09:00"]  # epoch, T1


def test_a_resent_event_is_stored_once_and_a_reused_id_is_refused(live):
    assert post(live, [message(1), message(2)]).json()["stored"] == 2
    again = post(live, [message(1), message(2), message(3), message(3)]).json()
    assert (again["stored"], again["duplicates"], again["rejected"]) == (1, 3, [])
    clash = post(live, [message(1, text="改了", ts="2024-03-01 11:00:00")])
    assert clash.status_code == 422
    [rejected] = clash.json()["rejected"]
    assert rejected["field"] == "msg_id" and rejected["msg_id"] == "m1"
    assert "ts, text" in rejected["reason"]
    assert [r["text"] for r in stored(live)] == ["第1条", "第2条", "第3条"]  # the first copy


def test_a_bad_event_is_a_422_naming_its_field_and_a_batch_keeps_the_good_ones(live):
    alone = post(live, [message(1, ts="yesterday")])
    assert alone.status_code == 422
    assert alone.json()["rejected"] == [
        {
            "index": 0,
            "msg_id": "m1",
            "field": "ts",
            "reason": "unparseable time",
            "value": "yesterday",
        }
    ]
    batch = [
        message(1),
        message(2, sender="someone"),
        message(3, msg_id="  "),
        {"shop_id": "s1", "buyer_id": "b1", "ts": "2024-03-01 10:00", "msg_id": "x"},
        message(5, kind="complaint"),
        message(6, score=9, kind="rating", msg_id="r6"),
        "not an object",
        message(8, text={"nested": True}),
        message(9, buyer_id=None),
    ]
    answer = post(live, batch)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["received"], body["stored"]) == (9, 1)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "sender"),
        (2, "msg_id"),
        (3, "kind"),
        (4, "kind"),
        (5, "score"),
        (6, "event"),
        (7, "text"),
        (8, "buyer_id"),
    ]
    assert body["rejected"][7]["reason"] == "missing"
    assert [r["msg_id"] for r in stored(live)] == ["m1"]


def test_ndjson_and_malformed_bodies(live):
    lines = "\n".join(json.dumps(message(n)) for n in (1, 2, 3)) + "\n"
    headers = {**auth(live.tokens["s1"]), "Content-Type": "application/x-ndjson"}
    answer = live.post("/v1/events", content=lines.encode(), headers=headers)
    assert answer.json()["stored"] == 3
    broken = live.post("/v1/events", content=lines + "{oops\n", headers=headers)
    assert broken.status_code == 400
    assert broken.json()["detail"] == [
        {
            "loc": ["body"],
            "msg": "line 4 is not JSON: Expecting property name enclosed in double quotes",
        }
    ]
    for body in (b"", b"[]", b"\xff\xfe", b"[{]"):
        answer = live.post("/v1/events", content=body, headers=auth(live.tokens["s1"]))
        assert answer.status_code == 400 and answer.json()["detail"][0]["loc"] == ["body"], body


def test_request_size_is_bounded(live):
    too_many = post(live, [message(n % 60, msg_id=f"m{n}") for n in range(51)])
    assert too_many.status_code == 413 and "at most 50" in too_many.text
    huge = post(live, [message(1, text="长" * 30_000)])
    assert huge.status_code == 413 and huge.json()["detail"][0]["loc"] == ["body"]
    assert stored(live) == []


def test_tokens_are_required_and_scoped(live):
    assert live.post("/v1/events", json=[message(1)]).status_code == 401
    assert live.post("/v1/events", json=[message(1)], headers=auth("kefu_nope")).status_code == 401
    read_only = post(live, [message(1)], token="s1-read")
    assert read_only.status_code == 403 and "ingest" in read_only.text
    assert live.get("/v1/health").json() == {"status": "ok"}


def _shop_endpoints(live) -> list[tuple[str, str]]:
    """Every (method, path) of the API that serves one shop: new endpoints are tried too."""
    paths = live.get("/openapi.json").json()["paths"]
    return [(m.upper(), p) for p, ops in paths.items() for m in ops if "{shop}" in p]


def test_a_shops_token_neither_reads_nor_writes_another_shops_data(live):
    assert post(live, [message(1)]).status_code == 200
    endpoints = _shop_endpoints(live)
    assert ("GET", "/v1/shops/{shop}/events") in endpoints
    for method, path in endpoints:
        for token, other in (("s1", "s2"), ("s2", "s1")):
            answer = live.request(method, path.format(shop=other), headers=auth(live.tokens[token]))
            assert answer.status_code == 403, (method, path, token)
            assert answer.json()["detail"][0]["loc"] == ["shop"]
    # Writing: an event naming another shop is refused whole, and nothing is stored.
    answer = post(live, [message(2, shop_id="s1"), message(3, shop_id="s2")], token="s1")
    assert answer.status_code == 403 and answer.json()["detail"][0]["loc"] == ["shop_id"]
    assert post(live, [message(4)], token="s2").status_code == 403
    assert [r["msg_id"] for r in stored(live)] == ["m1"]
    assert stored(live, shop="s2", token="s2") == []


def test_the_openapi_documents_every_endpoint(live):
    spec = live.get("/openapi.json").json()
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            assert operation.get("description") or operation.get("summary"), (method, path)
    body = spec["paths"]["/v1/events"]["post"]["requestBody"]["content"]
    assert {"application/json", "application/x-ndjson"} <= set(body)


def test_kefu_token_create_prints_a_token_the_store_knows(tmp_path):
    store = tmp_path / "live.db"
    result = CliRunner().invoke(
        cli, ["token", "create", "--shop", "s9", "--scope", "ingest", "--store", str(store)]
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("kefu_")
    assert token not in store.read_bytes().decode("latin-1")  # only its hash is kept
    with TestClient(create_app(Settings(store=store))) as client:
        answer = client.post("/v1/events", json=[message(1, shop_id="s9")], headers=auth(token))
        assert answer.json()["stored"] == 1
    bad = CliRunner().invoke(
        cli, ["token", "create", "--shop", "s9", "--scope", "root", "--store", str(store)]
    )
    assert bad.exit_code == 2 and "scope must be one of ingest, read, admin" in bad.output


# -- the checker is the loader ---------------------------------------------------------

RAW = {
    "sender": st.sampled_from(["buyer", "agent", " 客服 ", "BOT", "系统", "nobody", "", None]),
    "ts": st.sampled_from(
        ["2024-03-01 10:00:05", "2024-03-01T02:00:05Z", "2024/3/1 9:05", "1709258405",
         1709258405123, "2024-03-01 10:00:05+08:00", "later", "", None]
    ),
    "buyer_id": st.sampled_from(["b1", " b2\t", "cntaobaob3", "", None]),
    "seq": st.sampled_from([1, "2", "x", None]),
    "text": st.sampled_from(["你好", "", None]),
}  # fmt: skip


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.fixed_dictionaries(RAW), min_size=1, max_size=12))
def test_the_live_checker_accepts_and_rejects_what_the_loader_does(tmp_path_factory, rows):
    events = [{"shop_id": "s1", "msg_id": f"m{i}", **row} for i, row in enumerate(rows)]
    folder: Path = tmp_path_factory.mktemp("export")
    path = folder / "messages.jsonl"
    path.write_text("\n".join(json.dumps(e, ensure_ascii=False) for e in events), "utf-8")
    engine = DuckDBEngine()
    report = load_inputs(engine, {"messages": [path]}, "Asia/Shanghai")
    columns = ", ".join(f"m.{c}" for c in stored_columns("messages") if c != "text")
    loaded = engine.query(
        f"SELECT {columns}, t.text FROM messages AS m JOIN message_texts AS t USING (file_no, row_no) ORDER BY row_no"
    ).to_pylist()
    quarantined = [(r["row"] - 1, r["field"], r["reason"]) for r in report.quarantine.to_pylist()]
    batch = EventChecker("Asia/Shanghai").check(events)
    live = batch.tables["messages"] if batch.usable else None
    live_rows = (
        live.select(
            [*(c for c in live.column_names if c not in ("index", "text")), "text"]
        ).to_pylist()
        if live
        else []
    )
    assert live_rows == loaded
    assert [(r.index, r.field, r.reason) for r in batch.rejected] == sorted(quarantined)


def test_requests_checked_together_get_what_each_would_alone():
    checker = EventChecker("Asia/Shanghai")
    first = [
        message(1),
        message(2, ts="later"),
        {
            "kind": "refusal",
            "shop_id": "s1",
            "buyer_id": "b1",
            "ts": "2024-03-01 10:00",
            "msg_id": "f1",
        },
    ]
    second = [
        message(3, sender="nobody"),
        message(4),
        {"shop_id": "s1", "buyer_id": "b1", "score": 5, "ts": "2024-03-01 10:09", "msg_id": "r1"},
    ]
    together = checker.check(first + second).split([len(first), len(second)])
    for alone, part in zip((checker.check(first), checker.check(second)), together, strict=True):
        assert part.received == alone.received
        assert part.rejected == alone.rejected
        assert {t: r.to_pylist() for t, r in part.tables.items() if r.num_rows} == {
            t: r.to_pylist() for t, r in alone.tables.items() if r.num_rows
        }


def test_events_the_store_or_the_parser_cannot_hold_are_4xx_not_500(live):
    future = post(
        live,
        [message(1), message(2, ts="12345-01-01 10:00:00"), message(3, ts="2999-01-01 10:00:00")],
    )
    assert future.status_code == 200, future.text
    assert [(r["index"], r["field"]) for r in future.json()["rejected"]] == [(1, "ts"), (2, "ts")]
    assert "minutes from now" in future.json()["rejected"][1]["reason"]
    surrogate = live.post(
        "/v1/events",
        content=b'[{"shop_id": "s1", "buyer_id": "b\\ud800", "sender": "buyer", "ts": "2024-03-01 10:00", "msg_id": "m9"}]',
        headers={**auth(live.tokens["s1"]), "Content-Type": "application/json"},
    )
    assert surrogate.status_code == 422 and surrogate.json()["rejected"][0]["field"] == "buyer_id"
    deep = live.post(
        "/v1/events", content=b"[" * 20_000 + b"]" * 20_000, headers=auth(live.tokens["s1"])
    )
    assert deep.status_code == 400 and "nested" in deep.text
    assert [r["msg_id"] for r in stored(live)] == ["m1"]


def test_a_request_that_gives_up_does_not_stop_the_workers():
    import threading

    from kefu.live.grouping import Grouped

    release = threading.Event()
    grouped = Grouped(lambda items: [release.wait() and i for i in items], name="t")
    first = grouped.submit(1)  # taken by the worker, which waits
    second = grouped.submit(2)
    assert second.cancel()  # its request went away while it queued
    release.set()
    assert first.result(timeout=5) == 1
    assert grouped.submit(3).result(timeout=5) == 3  # the worker is still there
    grouped.close()


def test_a_token_names_its_shop_as_the_events_do(tmp_path):
    con = connect(tmp_path / "live.db")
    token = create_token(con, " cntaobao小米\u3000", ["ingest", "read"])
    con.close()
    with TestClient(create_app(Settings(store=tmp_path / "live.db"))) as client:
        answer = client.post(
            "/v1/events", json=[message(1, shop_id="cntaobao小米")], headers=auth(token)
        )
        assert answer.json()["stored"] == 1
        assert client.get("/v1/shops/小米/events", headers=auth(token)).status_code == 200


def test_no_page_of_the_service_needs_the_internet(live):
    # FastAPI's documentation pages would load Swagger UI from a CDN.
    assert live.get("/docs").status_code == 404 and live.get("/redoc").status_code == 404
    assert live.get("/openapi.json").status_code == 200
