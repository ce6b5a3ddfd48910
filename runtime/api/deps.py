"""Dependencies shared by the routes: the database pool and the Temporal client."""

from __future__ import annotations

import asyncpg
from fastapi import HTTPException, Request, status
from temporalio.client import Client


def db(request: Request) -> asyncpg.Pool:
    return request.app.state.db


async def temporal(request: Request) -> Client:
    """The Temporal client, connected on first use; 503 when Temporal is unreachable."""
    state = request.app.state
    if state.temporal is not None:
        return state.temporal
    settings = state.settings
    if settings.temporal_address is None:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "code": "temporal_not_configured",
                "message": "set TEMPORAL_ADDRESS (or run the API under `voxflow dev`)",
            },
        )
    from runtime.client import connect
    from runtime.observability.tracing import temporal_interceptors

    try:
        state.temporal = await connect(
            settings.temporal_address,
            settings.temporal_namespace,
            interceptors=temporal_interceptors(settings),
        )
    except Exception as exc:  # connection errors of every kind become one clear 503
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            detail={
                "code": "temporal_unreachable",
                "message": f"cannot reach Temporal at {settings.temporal_address}: {exc}",
            },
        ) from None
    return state.temporal
