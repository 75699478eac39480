"""``kefu serve`` and ``kefu token``: the live service's commands (docs/live.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kefu.cli_options import ProfileOpt

DEFAULT_STORE = Path("kefu-live.db")

StoreOpt = Annotated[
    Path, typer.Option("--store", help="The service's SQLite store (made if new).")
]

token_app = typer.Typer(no_args_is_help=True, help="Make tokens for the live service.")
err = Console(stderr=True)


def serve_cmd(
    store: StoreOpt = DEFAULT_STORE,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    profile: ProfileOpt = "taobao",
) -> None:
    """Run the live service: events in over HTTP, stored durably (docs/live.md)."""
    import uvicorn

    from kefu.cli import user_errors
    from kefu.rules.profile import load_profile
    from kefu.web.app import Settings, create_app

    with user_errors():
        load_profile(profile)  # a bad profile is one line, before the server starts
        app = create_app(Settings(store=store, profile=profile))
    err.print(f"kefu live on http://{host}:{port} · store {store} · profile {profile}")
    err.print(
        f"[dim]API: http://{host}:{port}/openapi.json · a token: kefu token create --shop S[/]"
    )
    uvicorn.run(app, host=host, port=port, log_level="warning")


@token_app.command("create")
def token_create(
    shop: Annotated[str, typer.Option("--shop", help="The shop the token serves.")],
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="ingest, read or admin (repeatable). Default: read."),
    ] = None,
    store: StoreOpt = DEFAULT_STORE,
) -> None:
    """Make a token for one shop and print it; the store keeps only its hash."""
    from kefu.cli import user_errors
    from kefu.live.store import connect
    from kefu.live.tokens import create_token

    with user_errors():
        con = connect(store)
        token = create_token(con, shop, scope or ["read"])
        con.close()
    typer.echo(token)
    err.print(f"[dim]for shop {shop}, scopes {', '.join(sorted(set(scope or ['read'])))}[/]")
