"""Tenants, their API keys and their usage.

The platform administrator creates tenants and sets their caps; a tenant's administrator
(and the platform's) issues, rotates and revokes that tenant's keys. A tenant other than the
caller's is answered 404 like a tenant that does not exist: nothing tells one tenant that
another exists.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, status
from pydantic import BaseModel, Field

from runtime import tenancy
from runtime.api import models
from runtime.api.auth import Caller, Principal, platform_admin, require
from runtime.api.deps import db
from runtime.db import tenants
from runtime.settings import Role

router = APIRouter(tags=["tenants"])
Db = Annotated[asyncpg.Pool, Depends(db)]
TENANT_ADMIN = require()
"""The tenant's administrator (or the platform's)."""


class TenantIn(BaseModel):
    id: str = Field(
        pattern=f"^{tenancy.TENANT_ID.pattern}$", description="lowercase letters, digits, -"
    )
    name: str = Field("", max_length=200)
    max_lines: int | None = Field(
        None, ge=1, le=100_000, description="Lines of a shared PBX held at once"
    )
    dial_per_minute: int | None = Field(None, ge=1, le=100_000, description="Originates a minute")
    namespace: str | None = Field(
        None, min_length=1, max_length=200, description="Temporal namespace of its workflows"
    )


class QuotasIn(BaseModel):
    max_lines: int | None = Field(None, ge=1, le=100_000)
    dial_per_minute: int | None = Field(None, ge=1, le=100_000)


class TenantOut(BaseModel):
    id: str
    name: str
    max_lines: int | None
    dial_per_minute: int | None
    namespace: str | None
    created_at: datetime


class KeyIn(BaseModel):
    role: tenants.KeyRole
    name: str = Field("", max_length=200)


class KeyOut(BaseModel):
    id: str
    tenant: str
    role: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


class IssuedKeyOut(KeyOut):
    key: str = Field(description="The whole key: shown this once, never stored")


class WhoAmIOut(BaseModel):
    tenant: str
    role: str
    platform: bool


class UsageOut(BaseModel):
    tenant: str
    calls: int
    answered_calls: int
    call_seconds: float
    cost_usd: float
    attempts: int
    lines_in_use: int


def _not_found(tenant: str) -> HTTPException:
    return HTTPException(
        404, detail={"code": "tenant_not_found", "message": f"no tenant {tenant!r}"}
    )


def _own(who: Principal, tenant: str) -> None:
    """404 for a tenant the caller does not act for (the platform acts for any)."""
    if not who.platform and who.tenant != tenant:
        raise _not_found(tenant)


def _issued(issued: tenants.IssuedKey) -> dict[str, Any]:
    return {**asdict(issued.row), "key": issued.secret}


@router.get("/tenant", response_model=WhoAmIOut)
async def whoami(who: Caller) -> Any:
    """The tenant and role the caller's key acts as (the studio shows it)."""
    return {"tenant": who.tenant, "role": who.role, "platform": who.platform}


@router.post(
    "/tenants",
    status_code=status.HTTP_201_CREATED,
    response_model=TenantOut,
    responses={409: {"model": models.Problem}},
    dependencies=[Depends(platform_admin)],
)
async def create_tenant(body: TenantIn, pool: Db) -> Any:
    with tenancy.acting_as(tenancy.PLATFORM):
        try:
            row = await tenants.create_tenant(
                pool,
                body.id,
                name=body.name,
                max_lines=body.max_lines,
                dial_per_minute=body.dial_per_minute,
                namespace=body.namespace,
            )
        except tenants.TenantExists as exc:
            raise HTTPException(
                409, detail={"code": "tenant_exists", "message": str(exc)}
            ) from None
    return asdict(row)


@router.get("/tenants", response_model=list[TenantOut], dependencies=[Depends(TENANT_ADMIN)])
async def list_tenants(pool: Db, who: Caller) -> Any:
    """Every tenant for the platform administrator; a tenant's own row for its admin."""
    if who.platform:
        with tenancy.acting_as(tenancy.PLATFORM):
            return [asdict(t) for t in await tenants.list_tenants(pool)]
    return [asdict(t) for t in await tenants.list_tenants(pool)]


@router.get(
    "/tenants/{tenant}",
    response_model=TenantOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(TENANT_ADMIN)],
)
async def get_tenant(tenant: str, pool: Db, who: Caller) -> Any:
    _own(who, tenant)
    with tenancy.acting_as(tenancy.PLATFORM):
        row = await tenants.get_tenant(pool, tenant)
    if row is None:
        raise _not_found(tenant)
    return asdict(row)


@router.put(
    "/tenants/{tenant}/quotas",
    response_model=TenantOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(platform_admin)],
)
async def set_quotas(tenant: str, body: QuotasIn, pool: Db) -> Any:
    """Replace the tenant's caps (a missing or null one is lifted)."""
    with tenancy.acting_as(tenancy.PLATFORM):
        row = await tenants.set_quotas(
            pool, tenant, max_lines=body.max_lines, dial_per_minute=body.dial_per_minute
        )
    if row is None:
        raise _not_found(tenant)
    return asdict(row)


async def _existing(pool: asyncpg.Pool, who: Principal, tenant: str) -> None:
    _own(who, tenant)
    with tenancy.acting_as(tenancy.PLATFORM):
        if await tenants.get_tenant(pool, tenant) is None:
            raise _not_found(tenant)


@router.post(
    "/tenants/{tenant}/keys",
    status_code=status.HTTP_201_CREATED,
    response_model=IssuedKeyOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(TENANT_ADMIN)],
)
async def create_key(tenant: str, body: KeyIn, pool: Db, who: Caller) -> Any:
    """A new key of ``role`` in the tenant; the response holds the key, shown this once."""
    await _existing(pool, who, tenant)
    with tenancy.acting_as(tenant):
        return _issued(await tenants.create_key(pool, tenant, body.role, name=body.name))


@router.get(
    "/tenants/{tenant}/keys",
    response_model=list[KeyOut],
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(TENANT_ADMIN)],
)
async def list_keys(tenant: str, pool: Db, who: Caller) -> Any:
    await _existing(pool, who, tenant)
    with tenancy.acting_as(tenant):
        return [asdict(k) for k in await tenants.list_keys(pool, tenant)]


@router.post(
    "/tenants/{tenant}/keys/{key_id}/rotate",
    response_model=IssuedKeyOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(TENANT_ADMIN)],
)
async def rotate_key(tenant: str, key_id: str, pool: Db, who: Caller) -> Any:
    """A new secret for the key; the old one stops working at once."""
    await _existing(pool, who, tenant)
    with tenancy.acting_as(tenant):
        issued = await tenants.rotate_key(pool, tenant, key_id)
    if issued is None:
        raise HTTPException(
            404, detail={"code": "key_not_found", "message": f"no live key {key_id!r}"}
        )
    return _issued(issued)


@router.delete(
    "/tenants/{tenant}/keys/{key_id}",
    response_model=KeyOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(TENANT_ADMIN)],
)
async def revoke_key(tenant: str, key_id: str, pool: Db, who: Caller) -> Any:
    await _existing(pool, who, tenant)
    with tenancy.acting_as(tenant):
        row = await tenants.revoke_key(pool, tenant, key_id)
    if row is None:
        raise HTTPException(404, detail={"code": "key_not_found", "message": f"no key {key_id!r}"})
    return asdict(row)


@router.get("/usage", response_model=list[UsageOut], dependencies=[Depends(require(Role.OPERATOR))])
async def usage(
    pool: Db,
    since: Annotated[datetime | None, Query(description="Default: 30 days ago")] = None,
    until: Annotated[datetime | None, Query(description="Default: now")] = None,
) -> Any:
    """Calls, talk time, cost, attempts and lines held per tenant: the caller's own tenant,
    or every tenant in the platform's view (``X-Voxflow-Tenant: *``)."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=30)
    return [asdict(u) for u in await tenants.usage(pool, start, end)]
