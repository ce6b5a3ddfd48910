"""The asyncpg connection pool every PostgreSQL user of voxflow shares.

Connections decode ``jsonb``/``json`` to Python values and ``vector`` to numpy arrays, so
repositories never hand-serialise. ``connect_url`` resolves the settings: ``DATABASE_URL`` when
set, else the embedded server under the state directory (started on demand).

Tenancy: a pool's connections run as the role ``voxflow_app`` (migration ``0200_tenants.sql``;
neither superuser nor owner, so row-level security applies to every statement), and each
acquire hands out a connection whose ``voxflow.tenant`` is the tenant the acquiring code acts
for (``runtime.tenancy.current``), without a round trip when the connection carries it already:

* connections open with ``voxflow.tenant`` set to the default tenant in their start-up
  parameters, which makes it the value ``RESET ALL`` restores;
* each connection remembers the tenant it carries (:class:`TenantConnection`); an acquire
  for another tenant costs one ``set_config``;
* on release the pool's reset (asyncpg's: ``RESET ALL``, ``UNLISTEN *``...) brings the
  setting back to the default tenant, whatever a statement did to it meanwhile; for a
  connection remembered with another tenant the same round trip sets that tenant again.

A single connection from :func:`connect` is the operator's (migrations, maintenance) and keeps
the connecting role.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from pgvector.asyncpg import register_vector

from runtime import tenancy
from runtime.dev.postgres import EmbeddedPostgres, start_embedded
from runtime.settings import Settings

APP_ROLE = "voxflow_app"


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    if await conn.fetchval("SELECT to_regtype('vector') IS NOT NULL"):
        await register_vector(conn)


async def _init_pooled(conn: TenantConnection) -> None:
    await _init_connection(conn)
    await _as_app_role(conn)
    await conn.adopt_tenant()


async def _as_app_role(conn: asyncpg.Connection) -> None:
    # Before migration 0200 the role does not exist (nor do tenants): the pool then keeps the
    # connecting role until the schema is migrated and the pool reopened.
    await conn.execute(
        "SELECT set_config('role', rolname, false) FROM pg_roles"
        " WHERE rolname = $1 AND pg_has_role(current_user, oid, 'MEMBER')",
        APP_ROLE,
    )


class TenantConnection(asyncpg.Connection):
    """A pooled connection that remembers the tenant its ``voxflow.tenant`` is set to."""

    __slots__ = ("_voxflow_reset_tenant", "_voxflow_tenant")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._voxflow_tenant: str | None = None
        self._voxflow_reset_tenant: str | None = None
        """What ``RESET ALL`` restores: the start-up value (:meth:`adopt_tenant`)."""

    @property
    def voxflow_tenant(self) -> str | None:
        return self._voxflow_tenant

    async def adopt_tenant(self) -> None:
        """Read the setting the connection opened with (once, when it is made)."""
        value = await self.fetchval("SELECT current_setting('voxflow.tenant', true)")
        self._voxflow_tenant = self._voxflow_reset_tenant = value

    async def act_for(self, tenant: str) -> None:
        """Set ``voxflow.tenant`` to ``tenant`` unless the connection carries it already."""
        if tenant == self._voxflow_tenant:
            return
        # Remembered only once set: a failed or cancelled set leaves the old value, which the
        # release's reset puts back.
        await self.execute("SELECT set_config('voxflow.tenant', $1, false)", tenant)
        self._voxflow_tenant = tenant

    def tenant_reset_query(self) -> str:
        """asyncpg's reset, then the remembered tenant when ``RESET ALL`` does not restore it."""
        query = self.get_reset_query()
        if self._voxflow_tenant is None or self._voxflow_tenant == self._voxflow_reset_tenant:
            return query
        literal = self._voxflow_tenant.replace("'", "''")
        return f"{query}\nSELECT set_config('voxflow.tenant', '{literal}', false);"


async def _act_for_tenant(conn: TenantConnection) -> None:
    await conn.act_for(tenancy.current())


async def _reset_keeping_tenant(conn: TenantConnection) -> None:
    # asyncpg has already rolled back an open transaction (``Connection._reset``).
    await conn.execute(conn.tenant_reset_query())


async def create_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool on ``url`` with voxflow's type codecs, whose every acquire acts for the current
    tenant. Run migrations before using repositories."""
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=max_size,
        init=_init_pooled,
        setup=_act_for_tenant,
        reset=_reset_keeping_tenant,
        connection_class=TenantConnection,
        server_settings={"voxflow.tenant": tenancy.DEFAULT_TENANT},
        command_timeout=60,
    )


async def connect(url: str) -> asyncpg.Connection:
    """A single connection with voxflow's type codecs (migrations, CLI one-offs)."""
    conn = await asyncpg.connect(url)
    await _init_connection(conn)
    return conn


@asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """Yield the URL to use: ``DATABASE_URL``, or the embedded server (stopped on exit)."""
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    pg: EmbeddedPostgres = await asyncio.to_thread(start_embedded, settings.pg_dir)
    try:
        yield pg.url
    finally:
        await asyncio.to_thread(pg.stop)
