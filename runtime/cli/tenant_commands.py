"""``voxflow tenant create|list|quotas`` and ``voxflow tenant key create|list|rotate|revoke``.

The platform operator's commands, run against the database (``DATABASE_URL``, or the embedded
one) like ``voxflow db``; the API offers the same under ``/tenants``. A key is printed once,
when it is created or rotated: store it then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import asyncpg
import typer

from runtime import tenancy
from runtime.cli import app, settings_or_exit

tenant_app = typer.Typer(help="Tenants, their quotas and their API keys.", no_args_is_help=True)
key_app = typer.Typer(help="A tenant's API keys.", no_args_is_help=True)
tenant_app.add_typer(key_app, name="key")
app.add_typer(tenant_app, name="tenant")

T = TypeVar("T")
Role = Annotated[str, typer.Option("--role", help="admin, operator or designer.")]


def _run(tenant: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """``work`` on a pool acting for ``tenant`` (or the platform's view)."""
    from runtime.db import create_pool, database_url

    settings = settings_or_exit()

    async def run() -> T:
        async with database_url(settings) as url:
            pool = await create_pool(url, max_size=2)
            try:
                with tenancy.acting_as(tenant):
                    return await work(pool)
            finally:
                await pool.close()

    return asyncio.run(run())


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _tenant_id(value: str) -> str:
    try:
        return tenancy.check_id(value)
    except tenancy.TenantIdError as exc:
        raise typer.BadParameter(str(exc)) from None


def _limit(value: int | None) -> str:
    return "-" if value is None else str(value)


@tenant_app.command("create")
def create_command(
    tenant: Annotated[str, typer.Argument(help="Its id: lowercase letters, digits and '-'.")],
    name: Annotated[str, typer.Option(help="Its display name.")] = "",
    max_lines: Annotated[int | None, typer.Option(min=1, help="Lines held at once.")] = None,
    dial_per_minute: Annotated[int | None, typer.Option(min=1, help="Dials a minute.")] = None,
    namespace: Annotated[str | None, typer.Option(help="Temporal namespace of its own.")] = None,
) -> None:
    """Create a tenant."""
    from runtime.db import tenants

    _tenant_id(tenant)
    try:
        row = _run(
            tenancy.PLATFORM,
            lambda pool: tenants.create_tenant(
                pool,
                tenant,
                name=name,
                max_lines=max_lines,
                dial_per_minute=dial_per_minute,
                namespace=namespace,
            ),
        )
    except tenants.TenantExists as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"created tenant {row.id}")


@tenant_app.command("list")
def list_command() -> None:
    """Every tenant with its caps and namespace."""
    from runtime.db import tenants

    rows = _run(tenancy.PLATFORM, tenants.list_tenants)
    typer.echo("tenant\tmax_lines\tdial_per_minute\tnamespace\tname")
    for t in rows:
        typer.echo(
            f"{t.id}\t{_limit(t.max_lines)}\t{_limit(t.dial_per_minute)}"
            f"\t{t.namespace or '-'}\t{t.name}"
        )


@tenant_app.command("quotas")
def quotas_command(
    tenant: str,
    max_lines: Annotated[int | None, typer.Option(min=1, help="Unset: no cap.")] = None,
    dial_per_minute: Annotated[int | None, typer.Option(min=1, help="Unset: no cap.")] = None,
) -> None:
    """Replace a tenant's caps (an option left out lifts that cap)."""
    from runtime.db import tenants

    row = _run(
        tenancy.PLATFORM,
        lambda pool: tenants.set_quotas(
            pool, tenant, max_lines=max_lines, dial_per_minute=dial_per_minute
        ),
    )
    if row is None:
        raise _fail(f"no tenant {tenant!r}")
    typer.echo(
        f"{row.id}: max_lines {_limit(row.max_lines)}, dial_per_minute {_limit(row.dial_per_minute)}"
    )


def _in_tenant(tenant: str, work: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """``work`` acting for ``tenant``, which must exist."""
    from runtime.db import tenants

    _tenant_id(tenant)
    missing = object()

    async def checked(pool: asyncpg.Pool) -> T | object:
        if await tenants.get_tenant(pool, tenant) is None:
            return missing
        with tenancy.acting_as(tenant):
            return await work(pool)

    result = _run(tenancy.PLATFORM, checked)
    if result is missing:
        raise _fail(f"no tenant {tenant!r}; create it with `voxflow tenant create {tenant}`")
    return result  # type: ignore[return-value]


def _check_role(role: str) -> str:
    if role not in ("admin", "operator", "designer"):
        raise typer.BadParameter(f"{role!r} is not a role: use admin, operator or designer")
    return role


@key_app.command("create")
def key_create_command(
    tenant: str, role: Role, name: Annotated[str, typer.Option(help="What it is for.")] = ""
) -> None:
    """Issue a key; it is printed this once."""
    from runtime.db import tenants

    _check_role(role)
    issued = _in_tenant(tenant, lambda pool: tenants.create_key(pool, tenant, role, name=name))  # type: ignore[arg-type]
    typer.echo(f"key {issued.row.id} ({issued.row.role} of {tenant}): {issued.secret}")


@key_app.command("list")
def key_list_command(tenant: str) -> None:
    """The tenant's keys (never their secrets)."""
    from runtime.db import tenants

    for k in _in_tenant(tenant, lambda pool: tenants.list_keys(pool, tenant)):
        state = f"revoked {k.revoked_at:%Y-%m-%d}" if k.revoked_at else "live"
        typer.echo(f"{k.id}\t{k.role}\t{state}\t{k.name}")


@key_app.command("rotate")
def key_rotate_command(tenant: str, key_id: str) -> None:
    """A new secret for a key; the old one stops working at once."""
    from runtime.db import tenants

    issued = _in_tenant(tenant, lambda pool: tenants.rotate_key(pool, tenant, key_id))
    if issued is None:
        raise _fail(f"tenant {tenant!r} has no live key {key_id!r}")
    typer.echo(f"key {key_id} rotated: {issued.secret}")


@key_app.command("revoke")
def key_revoke_command(tenant: str, key_id: str) -> None:
    """Revoke a key for good."""
    from runtime.db import tenants

    if _in_tenant(tenant, lambda pool: tenants.revoke_key(pool, tenant, key_id)) is None:
        raise _fail(f"tenant {tenant!r} has no key {key_id!r}")
    typer.echo(f"key {key_id} revoked")
