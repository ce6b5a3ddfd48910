"""``voxflow db migrate|status|reembed`` and ``voxflow api``."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from runtime.cli import app, settings_or_exit
from runtime.settings import Settings, SettingsError

db_app = typer.Typer(help="The PostgreSQL schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")


def _where(settings: Settings) -> str:
    return settings.database_url_redacted() or f"embedded PostgreSQL under {settings.pg_dir}"


@db_app.command("migrate")
def migrate_command() -> None:
    """Apply every migration not yet applied (DATABASE_URL, or the embedded database)."""
    from runtime.db import MigrationError, connect, database_url, migrate

    settings = settings_or_exit()

    async def run() -> list[str]:
        async with database_url(settings) as url:
            conn = await connect(url)
            try:
                return [f"{m.version:04d}_{m.name}" for m in await migrate(conn)]
            finally:
                await conn.close()

    try:
        applied = asyncio.run(run())
    except MigrationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (OSError, RuntimeError) as exc:
        typer.echo(f"error: cannot reach {_where(settings)}: {exc}", err=True)
        raise typer.Exit(1) from None
    for name in applied:
        typer.echo(f"applied {name}")
    typer.echo(f"{_where(settings)}: schema up to date ({len(applied)} applied now)")


@db_app.command("reembed")
def reembed_command(
    collection: Annotated[
        str | None, typer.Option("--collection", help="Only this knowledge collection.")
    ] = None,
) -> None:
    """Embed knowledge chunks again with the configured model (after a model change)."""
    from runtime.db import create_pool, database_url
    from runtime.db.knowledge import embedder_for, reembed

    settings = settings_or_exit()
    embedder = embedder_for(settings)

    async def run() -> int:
        async with database_url(settings) as url:
            pool = await create_pool(url, max_size=2)
            try:
                return await reembed(pool, embedder, collection=collection)
            finally:
                await pool.close()

    count = asyncio.run(run())
    typer.echo(f"{_where(settings)}: {count} chunk(s) embedded with {embedder.name}")


@db_app.command("status")
def status_command() -> None:
    """List the migrations and whether each is applied."""
    from runtime.db import connect, database_url
    from runtime.db.migrate import applied_versions, discover

    settings = settings_or_exit()

    async def run() -> list[int]:
        async with database_url(settings) as url:
            conn = await connect(url)
            try:
                return await applied_versions(conn)
            finally:
                await conn.close()

    applied = set(asyncio.run(run()))
    pending = 0
    for m in discover():
        mark = "applied" if m.version in applied else "pending"
        pending += m.version not in applied
        typer.echo(f"{m.version:04d}_{m.name}  {mark}")
    raise typer.Exit(1 if pending else 0)


@app.command("api")
def api_command(
    host: Annotated[str | None, typer.Option(help="Bind address (VOXFLOW_API_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (VOXFLOW_API_PORT).")] = None,
) -> None:
    """Serve the REST API (OpenAPI at /docs)."""
    import uvicorn

    from runtime.api import create_app

    settings = settings_or_exit()
    overrides = {k: v for k, v in (("api_host", host), ("api_port", port)) if v is not None}
    if overrides:
        settings = settings.model_copy(update=overrides)
        problems = settings.problems()
        if problems:
            typer.echo(f"error: {SettingsError(problems)}", err=True)
            raise typer.Exit(2)
    typer.echo(
        f"voxflow API on http://{settings.api_host}:{settings.api_port} "
        f"(docs at /docs; database: {_where(settings)})"
    )
    from runtime.observability.logs import configure_logging
    from runtime.observability.tracing import configure_tracing

    configure_logging(settings)  # uvicorn's loggers propagate to it (log_config=None)
    tracer_provider = configure_tracing(settings, "voxflow-api")
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.api_host,
            port=settings.api_port,
            log_level=settings.log_level.lower(),
            log_config=None,
        )
    finally:
        if tracer_provider is not None:
            tracer_provider.shutdown()
