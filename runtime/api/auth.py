"""API keys with roles, sent in the ``X-API-Key`` header, and the tenant each request acts for.

Two kinds of key:

* the keys of ``VOXFLOW_API_KEYS`` (``role:key`` pairs in the environment): an ``admin`` one
  is the platform administrator's; a ``designer`` or ``operator`` one acts in the default
  tenant, as every key did before tenants existed;
* tenant keys (``vf_<id>_<secret>``, ``voxflow tenant key create`` or ``POST
  /tenants/{id}/keys``): ``admin`` (the tenant's administrator), ``operator`` or ``designer``,
  always in their own tenant.

The platform administrator acts in the default tenant unless the ``X-Voxflow-Tenant`` header
names another tenant, or ``*`` for the read-only view across every tenant; any other key
naming a tenant not its own is refused (403, whether or not that tenant exists).

``admin`` may call everything in its tenant; ``designer`` creates campaigns from flows and
reads calls; ``operator`` steers campaigns, imports contacts and keeps the do-not-call list.
With no key configured the API only ever binds loopback (the settings refuse otherwise) and
treats every request without a key as the platform administrator's: the embedded
development stack.

The check ends by setting the request's tenant (``runtime.tenancy.act_as``): every database
statement of the request then runs in it, enforced by PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from runtime import tenancy
from runtime.db import tenants
from runtime.settings import Role, Settings

HEADER = "X-API-Key"
TENANT_HEADER = "X-Voxflow-Tenant"
_scheme = APIKeyHeader(name=HEADER, auto_error=False, description="API key of a role")
_tenant_scheme = APIKeyHeader(
    name=TENANT_HEADER,
    auto_error=False,
    scheme_name="Tenant",
    description="Platform administrator only: the tenant to act for, or * to read across all",
)


@dataclass(frozen=True)
class Principal:
    """Who calls: a role within a tenant, or the platform administrator."""

    role: Role
    tenant: str
    """The tenant the request acts for (``*``: the platform's view across tenants)."""
    platform: bool = False
    """The platform administrator (the environment's ``admin`` keys, or no keys at all)."""


def _problem(code: int, kind: str, message: str) -> HTTPException:
    return HTTPException(code, detail={"code": kind, "message": message})


async def _identify(request: Request, key: str | None) -> Principal:
    settings: Settings = request.app.state.settings
    if not key:
        if not settings.api_keys:
            return Principal(Role.ADMIN, tenancy.DEFAULT_TENANT, platform=True)
        raise _problem(status.HTTP_401_UNAUTHORIZED, "missing_api_key", f"send a key in {HEADER}")
    role = settings.role_of(key)
    if role is not None:
        return Principal(role, tenancy.DEFAULT_TENANT, platform=role is Role.ADMIN)
    row = await tenants.resolve_key(request.app.state.db, key)
    if row is None:
        raise _problem(
            status.HTTP_401_UNAUTHORIZED, "unknown_api_key", "this API key is not configured"
        )
    return Principal(Role(row.role), row.tenant)


async def principal(
    request: Request,
    key: str | None = Depends(_scheme),
    tenant: str | None = Depends(_tenant_scheme),
) -> Principal:
    """The caller, acting for its tenant from here on (the request's database statements)."""
    who = await _identify(request, key)
    if tenant and tenant != who.tenant:
        who = await _switch(request, who, tenant)
    tenancy.act_as(who.tenant)
    return who


async def _switch(request: Request, who: Principal, tenant: str) -> Principal:
    if not who.platform:
        raise _problem(
            status.HTTP_403_FORBIDDEN,
            "tenant_forbidden",
            f"{TENANT_HEADER} is for the platform administrator; this key acts in its own"
            " tenant only (send no header)",
        )
    if tenant == tenancy.PLATFORM:
        if request.method not in ("GET", "HEAD"):
            raise _problem(
                422,
                "tenant_required",
                f"the view across tenants (*) only reads; name one tenant in {TENANT_HEADER}"
                " to change its data",
            )
        return Principal(who.role, tenancy.PLATFORM, platform=True)
    try:
        tenancy.check_id(tenant)
    except tenancy.TenantIdError as exc:
        raise _problem(422, "invalid_tenant", str(exc)) from None
    with tenancy.acting_as(tenancy.PLATFORM):
        found = await tenants.get_tenant(request.app.state.db, tenant)
    if found is None:
        raise _problem(404, "tenant_not_found", f"no tenant {tenant!r}")
    return Principal(who.role, tenant, platform=True)


Caller = Annotated[Principal, Depends(principal)]


def require(*roles: Role) -> Callable[..., Awaitable[Role]]:
    """A dependency admitting ``admin`` and ``roles``; it returns the caller's role."""

    async def check(who: Caller) -> Role:
        if who.role is not Role.ADMIN and who.role not in roles:
            allowed = ", ".join(sorted({Role.ADMIN, *roles}))
            raise _problem(
                status.HTTP_403_FORBIDDEN, "forbidden", f"needs role {allowed}; key has {who.role}"
            )
        return who.role

    return check


def may_call_now(role: Role) -> bool:
    """Whether ``role`` may have a test call dial outside the flow's calling windows.

    Operators and admins steer real calls; a designer's test call waits for the window like
    any campaign call. One function, so a finer grant (per tenant, per person) replaces it.
    """
    return role in (Role.ADMIN, Role.OPERATOR)


async def platform_admin(who: Caller) -> Principal:
    """A dependency admitting only the platform administrator."""
    if not who.platform:
        raise _problem(
            status.HTTP_403_FORBIDDEN, "forbidden", "needs the platform administrator's key"
        )
    return who


ANY_ROLE = require(Role.DESIGNER, Role.OPERATOR)
DESIGNER = require(Role.DESIGNER)
OPERATOR = require(Role.OPERATOR)
