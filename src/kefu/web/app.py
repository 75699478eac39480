"""The live service (``kefu serve``): FastAPI over the durable event store.

``POST /v1/events`` takes a JSON array, one JSON object, or NDJSON (one event per line) of
messages, ratings and refusals. Each event is checked as the loader checks a row of an
export (``kefu.live.events``); the usable ones are committed (``kefu.live.store``) before
the answer is sent, so an acknowledged event is on disk. The answer counts what became of
every event and lists the rejected ones with their field and reason; a request whose every
event is rejected is a 422. Every endpoint but ``/v1/health`` takes a shop's token
(``Authorization: Bearer …``, ``kefu token create``) and serves that shop only.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations, which
# name dependencies local to ``create_app``.
import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kefu.live.desk import LiveDesk
from kefu.live.events import KINDS, EventChecker, GroupCheck
from kefu.live.store import EventStore, GroupCommit
from kefu.live.tokens import Grant, find_token
from kefu.rules.profile import load_profile

#: A request's body and events are bounded: a client sends more in several requests.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_EVENTS = 10_000
#: How far ahead of the service's clock an event's time may be (clocks differ a little).
FUTURE_MARGIN = dt.timedelta(minutes=5)


def local_clock(zone: str) -> Callable[[], dt.datetime]:
    """The local wall-clock time now in ``zone`` (T1), naive like every time kefu keeps."""
    tz = ZoneInfo(zone)
    return lambda: dt.datetime.now(tz).replace(tzinfo=None)


@dataclass
class Settings:
    """What ``kefu serve`` starts the service with. ``clock`` (default: the profile's
    local time now) is what the desk's waits are measured against; tests set their own."""

    store: Path
    profile: str = "taobao"
    max_body_bytes: int = MAX_BODY_BYTES
    max_events: int = MAX_EVENTS
    clock: Callable[[], dt.datetime] | None = None


class _Service:
    """The service's parts, made when it starts, closed when it stops."""

    def __init__(self, settings: Settings) -> None:
        profile = load_profile(settings.profile)
        self.settings = settings
        self.clock = settings.clock or local_clock(profile["timezone"])
        self.store = EventStore(settings.store)
        self.desk = LiveDesk(profile, self.store, self.clock)
        self.desk.restore()  # the live state is the store's, after any restart
        self.commit = GroupCommit(self.store, on_commit=self.desk.follow)
        self.check = GroupCheck(EventChecker(profile["timezone"]))

    def close(self) -> None:
        self.check.close()
        self.commit.close()
        self.store.close()


def _problem(status: int, field: str, reason: str) -> HTTPException:
    """A 4xx naming the field at fault (FastAPI's own 422s name it the same way)."""
    return HTTPException(status, detail=[{"loc": [field], "msg": reason}])


def create_app(settings: Settings) -> FastAPI:
    """The service for ``settings`` (an app per store: tests make several)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.service = _Service(settings)
        try:
            yield
        finally:
            app.state.service.close()

    app = FastAPI(
        title="kefu live",
        summary="Live chat events in; waiting buyers, figures and warnings out.",
        version="1",
        lifespan=lifespan,
        # FastAPI's documentation pages load their JavaScript from a CDN, and kefu's pages
        # work offline: the OpenAPI description is served, its pages are not.
        docs_url=None,
        redoc_url=None,
    )
    bearer = HTTPBearer(auto_error=False, description="A shop's token: kefu token create")

    def service(request: Request) -> _Service:
        return request.app.state.service  # type: ignore[no-any-return]

    def grant(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Grant:
        if credentials is None:
            raise _problem(401, "authorization", "missing: Authorization: Bearer <token>")
        found = find_token(service(request).store.reader(), credentials.credentials)
        if found is None:
            raise _problem(401, "authorization", "unknown token")
        return found

    def shop_grant(shop: str, scope: str, held: Grant) -> None:
        if held.shop_id != shop:
            raise _problem(403, "shop", f"this token is for shop {held.shop_id}, not {shop}")
        if not held.allows(scope):
            raise _problem(403, "authorization", f"this token has no {scope} scope")

    @app.get("/v1/health", tags=["service"])
    def health() -> dict[str, str]:
        """The service answers (no token needed)."""
        return {"status": "ok"}

    @app.post(
        "/v1/events",
        tags=["ingest"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                    "application/x-ndjson": {"schema": {"type": "string"}},
                },
            }
        },
        responses={
            200: {"description": "Events stored; rejected ones listed"},
            401: {"description": "No token, or an unknown one"},
            403: {"description": "The token may not ingest, or an event names another shop"},
            413: {"description": "The body or the number of events is over the limit"},
            422: {"description": "Every event was rejected; each is listed with its field"},
        },
    )
    async def post_events(request: Request, held: Annotated[Grant, Depends(grant)]) -> JSONResponse:
        """Store events (messages, ratings, refusals) once each, on disk before the answer.

        A re-sent event (the same ``shop_id`` and ``msg_id``) counts as a duplicate and is
        stored once; the answer's ``rejected`` lists each unusable event with its
        ``index`` in the request, its ``field`` and the ``reason``.
        """
        live = service(request)
        if not held.allows("ingest"):
            raise _problem(403, "authorization", "this token has no ingest scope")
        body = await _body(request, live.settings.max_body_bytes)
        events = _events(body, request.headers.get("content-type", ""))
        if len(events) > live.settings.max_events:
            raise _problem(
                413, "body", f"{len(events)} events; at most {live.settings.max_events} a request"
            )
        batch = await asyncio.wrap_future(live.check.submit(events))
        # An event from the future cannot have happened: a clock or a field is wrong.
        minutes = int(FUTURE_MARGIN.total_seconds() // 60)
        batch.reject_after(live.clock() + FUTURE_MARGIN, f"more than {minutes} minutes from now")
        others = sorted(batch.shops() - {held.shop_id})
        if others:
            raise _problem(
                403, "shop_id", f"this token is for shop {held.shop_id}, not {', '.join(others)}"
            )
        written = await asyncio.wrap_future(live.commit.submit(batch))
        rejected = sorted([*batch.rejected, *written.conflicts], key=lambda r: r.index)
        answer = {
            "received": batch.received,
            "stored": written.stored,
            "duplicates": written.duplicates,
            "rejected": [r.as_json() for r in rejected],
        }
        status = 422 if rejected and len(rejected) == batch.received else 200
        return JSONResponse(answer, status_code=status)

    @app.get("/v1/shops/{shop}/events", tags=["read"])
    def get_events(
        request: Request,
        shop: str,
        held: Annotated[Grant, Depends(grant)],
        kind: Annotated[str, Query(pattern="^(message|rating|refusal)$")] = "message",
        after: Annotated[int, Query(ge=0, description="The last arrival read before")] = 0,
        limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    ) -> dict[str, Any]:
        """The shop's stored events of one kind in the order they were acknowledged;
        page on with ``after`` = the last ``arrival`` read."""
        shop_grant(shop, "read", held)
        rows = service(request).store.events(KINDS[kind], shop, after, limit).to_pylist()
        return {"events": rows, "last": rows[-1]["arrival"] if rows else after}

    @app.get("/v1/shops/{shop}/live", tags=["read"])
    def get_live(
        request: Request, shop: str, held: Annotated[Grant, Depends(grant)]
    ) -> dict[str, Any]:
        """The shop now: buyers waiting (longest first, with their wait), its agents (open
        rounds, last reply, rounds today) and today's figures at every level, computed by
        the same definitions as ``kefu assess`` (R4–R7, P1–P5, S1–S6, F1–F2)."""
        shop_grant(shop, "read", held)
        live = service(request)
        now = live.clock()
        figures = live.desk.figures(shop)
        return {
            "now": now,
            "day": live.desk.day,
            "waiting": [
                {"buyer_id": w.buyer_id, "since": w.since, "wait_s": w.wait_s(now),
                 "agent_id": w.agent_id}
                for w in live.desk.waiting(shop)
            ],
            "agents": live.desk.agents(shop),
            "today": {level: table.to_pylist() for level, table in figures.items()},
        }  # fmt: skip

    return app


async def _body(request: Request, limit: int) -> bytes:
    """The request body, refused with a 413 once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _problem(413, "body", f"{declared} bytes; at most {limit} a request")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _problem(413, "body", f"over {limit} bytes; at most {limit} a request")
        chunks.append(chunk)
    return b"".join(chunks)


def _events(body: bytes, content_type: str) -> list[Any]:
    """The events of a body: a JSON array, one object, or NDJSON (a 400 naming the line)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _problem(400, "body", f"not UTF-8 (byte {exc.start})") from None
    if "ndjson" not in content_type and "jsonl" not in content_type:
        try:
            value = json.loads(text)
        except RecursionError:
            raise _problem(400, "body", "nested too deeply") from None
        except json.JSONDecodeError as exc:
            if "\n" not in text.strip():
                raise _problem(400, "body", f"not JSON: {exc.msg} at {exc.pos}") from None
        else:
            if value == []:
                raise _problem(400, "body", "no events")
            return value if isinstance(value, list) else [value]
    events = []
    for line_no, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except RecursionError:
                raise _problem(400, "body", f"line {line_no} is nested too deeply") from None
            except json.JSONDecodeError as exc:
                reason = f"line {line_no} is not JSON: {exc.msg}"
                raise _problem(400, "body", reason) from None
    if not events:
        raise _problem(400, "body", "no events")
    return events
