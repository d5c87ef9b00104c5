"""The `pao` command: serve, worker, validate, render, new, diff, ..."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="pao",
    help="PAO, the Platform Automation Orchestrator: serve it, and validate and render catalog documents.",
    no_args_is_help=True,
    add_completion=False,
)


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Interface to bind (default: PAO_HOST or 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Port to bind (default: PAO_PORT or 8000)."),
) -> None:
    """Serve the API, the portal and (unless PAO_WORKERS=false) the workflow workers."""
    import uvicorn

    from pao_backend.app import create_app
    from pao_backend.settings import Settings

    settings = Settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port)
