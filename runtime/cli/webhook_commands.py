"""``voxflow webhook add|list|remove|test``: the webhook endpoints of the ``--tenant``.

Run against the database like ``voxflow tenant``; the API offers the same under
``/webhooks``. A secret is printed once, by ``add``: store it then.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, TypeVar

import asyncpg
import typer

from runtime import tenancy
from runtime.cli import app, settings_or_exit
from runtime.settings import Settings

webhook_app = typer.Typer(help="Webhook endpoints of a tenant.", no_args_is_help=True)
app.add_typer(webhook_app, name="webhook")

T = TypeVar("T")


def _run(work: Callable[[asyncpg.Pool, Settings], Awaitable[T]]) -> T:
    """``work`` on a pool acting for the ``--tenant`` (default: the default tenant)."""
    from runtime.db import create_pool, database_url

    settings = settings_or_exit()
    tenant = tenancy.current()

    async def run() -> T:
        async with database_url(settings) as url:
            pool = await create_pool(url, max_size=2)
            try:
                with tenancy.acting_as(tenant):
                    return await work(pool, settings)
            finally:
                await pool.close()

    return asyncio.run(run())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _one_tenant() -> None:
    if tenancy.current() == tenancy.PLATFORM:
        raise _fail("an endpoint belongs to one tenant: pass --tenant <id>")


@webhook_app.command("add")
def add_command(
    url: Annotated[str, typer.Argument(help="https://... (http:// only to loopback).")],
    event: Annotated[
        list[str] | None,
        typer.Option("--event", help="An event type to send (repeat); default every type."),
    ] = None,
) -> None:
    """Add an endpoint; prints its id and its signing secret (shown this once)."""
    from runtime.db import webhooks
    from runtime.webhooks.events import EVENT_TYPES
    from runtime.webhooks.urls import WebhookUrlError, check_url

    _one_tenant()
    events = event or []
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        known = ", ".join(sorted(EVENT_TYPES))
        raise typer.BadParameter(
            f"unknown event {unknown[0]!r}; one of {known}", param_hint="--event"
        )

    async def add(pool: asyncpg.Pool, settings: Settings) -> webhooks.CreatedWebhook:
        await check_url(url, allow_private=settings.webhook_allow_private)
        return await webhooks.create_webhook(pool, url, events=events)

    try:
        created = _run(add)
    except WebhookUrlError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"added webhook {created.row.id} for tenant {created.row.tenant}")
    typer.echo(f"secret (shown once): {created.secret}")


@webhook_app.command("list")
def list_command() -> None:
    """The tenant's endpoints (never their secrets)."""
    from runtime.db import webhooks

    rows = _run(lambda pool, _s: webhooks.list_webhooks(pool))
    typer.echo("id\ttenant\tenabled\tevents\turl")
    for w in rows:
        events = ",".join(w.events) or "*"
        typer.echo(f"{w.id}\t{w.tenant}\t{'yes' if w.enabled else 'no'}\t{events}\t{w.url}")


@webhook_app.command("remove")
def remove_command(webhook_id: str) -> None:
    """Remove an endpoint and its undelivered events."""
    from runtime.db import webhooks

    if not _run(lambda pool, _s: webhooks.delete_webhook(pool, webhook_id)):
        raise _fail(f"no webhook {webhook_id!r} in tenant {tenancy.current()!r}")
    typer.echo(f"removed webhook {webhook_id}")


@webhook_app.command("test")
def test_command(webhook_id: str) -> None:
    """POST a signed ``webhook.test`` event to the endpoint now and print the answer."""
    import httpx

    from runtime.db import webhooks
    from runtime.webhooks import dispatcher
    from runtime.webhooks.events import EventType

    _one_tenant()

    async def test(pool: asyncpg.Pool, settings: Settings) -> dispatcher.Attempt | None:
        found = await webhooks.webhook_secret(pool, webhook_id)
        if found is None:
            return None
        row, secret = found
        due = webhooks.DueDelivery(
            event_id=str(uuid.uuid4()),
            webhook_id=row.id,
            tenant=row.tenant,
            type=EventType.WEBHOOK_TEST,
            payload={"webhook_id": row.id},
            created_at=datetime.now(UTC),
            attempts=0,
            url=row.url,
            secret=secret,
        )
        async with httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        ) as client:
            return await dispatcher.post(
                client,
                row.url,
                secret,
                event_id=due.event_id,
                event_type=due.type,
                body=dispatcher.body_of(due),
                allow_private=settings.webhook_allow_private,
            )

    result = _run(test)
    if result is None:
        raise _fail(f"no webhook {webhook_id!r} in tenant {tenancy.current()!r}")
    if not result.ok:
        raise _fail(f"webhook {webhook_id}: {result.error}")
    typer.echo(f"webhook {webhook_id}: delivered (HTTP {result.status})")
