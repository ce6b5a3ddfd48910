"""Liveness and readiness (no API key: load balancers and orchestrators call them)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from runtime.api import models
from runtime.api.errors import RETRY_AFTER_SECONDS
from runtime.db.migrate import applied_versions, discover

router = APIRouter(tags=["health"])


@router.get("/health", response_model=models.Health)
async def health() -> Any:
    """The process serves requests."""
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=models.Readiness,
    responses={
        503: {
            "model": models.Readiness,
            "description": "Not ready: the checks say which dependency is down",
            "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        }
    },
)
async def ready(request: Request) -> Any:
    """PostgreSQL answers and its schema is fully migrated; Temporal answers when configured."""
    checks: dict[str, str] = {}
    state = request.app.state
    try:
        async with state.db.acquire() as conn:
            missing = {m.version for m in discover()} - set(await applied_versions(conn))
        checks["database"] = (
            "ok"
            if not missing
            else f"migrations pending: {sorted(missing)}; run voxflow db migrate"
        )
    except Exception as exc:  # any failure to reach the database means not ready
        checks["database"] = f"unreachable: {type(exc).__name__}"
    if state.settings.temporal_address is not None or state.temporal is not None:
        try:
            from runtime.api.deps import temporal

            client = await temporal(request)
            await client.service_client.check_health()
            checks["temporal"] = "ok"
        except Exception as exc:  # unreachable Temporal is reported, never raised
            checks["temporal"] = f"unreachable: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    headers = None if ok else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(
        status_code=200 if ok else 503, content={"ready": ok, "checks": checks}, headers=headers
    )
