"""API keys with roles, sent in the ``X-API-Key`` header.

``admin`` may call everything; ``designer`` creates campaigns from flows and reads calls;
``operator`` steers campaigns, imports contacts and keeps the do-not-call list. With no key
configured the API only ever binds loopback (the settings refuse otherwise) and treats every
request as ``admin``: the embedded development stack.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import APIKeyHeader

from runtime.settings import Role, Settings

HEADER = "X-API-Key"
_scheme = APIKeyHeader(name=HEADER, auto_error=False, description="API key of a role")


def require(*roles: Role) -> Callable[..., Role]:
    """A dependency admitting ``admin`` and ``roles``; it returns the caller's role."""

    def check(request: Request, key: str | None = Depends(_scheme)) -> Role:
        settings: Settings = request.app.state.settings
        if not settings.api_keys:
            return Role.ADMIN
        if not key:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"code": "missing_api_key", "message": f"send a key in {HEADER}"},
            )
        role = settings.role_of(key)
        if role is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail={"code": "unknown_api_key", "message": "this API key is not configured"},
            )
        if role is not Role.ADMIN and role not in roles:
            allowed = ", ".join(sorted({Role.ADMIN, *roles}))
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                detail={"code": "forbidden", "message": f"needs role {allowed}; key has {role}"},
            )
        return role

    return check


def may_call_now(role: Role) -> bool:
    """Whether ``role`` may have a test call dial outside the flow's calling windows.

    Operators and admins steer real calls; a designer's test call waits for the window like
    any campaign call. One function, so a finer grant (per tenant, per person) replaces it.
    """
    return role in (Role.ADMIN, Role.OPERATOR)


ANY_ROLE = require(Role.DESIGNER, Role.OPERATOR)
DESIGNER = require(Role.DESIGNER)
OPERATOR = require(Role.OPERATOR)
