"""`datalever serve`: the one command of the assembly (it runs the app built from every part's router)."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from datalever.commandline import (
    DATABASE_URL,
    POLICY,
    database_url_or_default,
    display_url,
    policy_or_exit,
    upgrade_or_exit,
)

console = Console()


def serve(
    database_url: str | None = DATABASE_URL,
    policy: Path | None = POLICY,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (use several on PostgreSQL)."),
    log_format: str = typer.Option(
        "text", "--log-format", envvar="DATALEVER_LOG_FORMAT", help="text or json (one JSON object per line)."
    ),
) -> None:
    """Run the ledger service (OpenAPI at /docs). Creates or upgrades the database first."""
    import uvicorn

    from datalever.ledger.db import make_engine
    from datalever.service.settings import Settings
    from datalever.web.keys import count_keys, create_key

    policy_or_exit(policy)
    url = database_url_or_default(database_url)
    engine = make_engine(url)
    upgrade_or_exit(engine)
    with engine.begin() as conn:
        if count_keys(conn) == 0:
            _principal, token = create_key(conn, "admin", label="bootstrap")
            console.print("No API keys yet: created an admin key (shown once, store it now):")
            print(token, flush=True)
    engine.dispose()
    settings = Settings(database_url=url, policy_path=policy, auto_upgrade=False)
    os.environ.update(settings.to_env())
    if log_format not in ("text", "json"):
        console.print(f"error: --log-format must be text or json, got {log_format!r}", markup=False)
        raise typer.Exit(2)
    os.environ["DATALEVER_LOG_FORMAT"] = log_format
    if workers > 1:  # prometheus-client's multiprocess mode: any worker answers /metrics for all of them
        import tempfile

        os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="datalever-metrics-"))
    console.print(f"serving {display_url(url)} on http://{host}:{port} (API docs at /docs)", soft_wrap=True)
    from datalever.service.supervisor import supervising

    with supervising():
        uvicorn.run(
            "datalever.service.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            access_log=False,
        )


def register(app: typer.Typer) -> None:
    """Add `serve` to the top-level app."""
    app.command("serve")(serve)
