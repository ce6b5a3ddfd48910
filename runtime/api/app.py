"""The FastAPI application.

``create_app(settings)`` opens the database pool on start-up (``DATABASE_URL``, or the
embedded PostgreSQL under the state directory, migrated on start) and closes it on shutdown. Tests and the dev
stack may hand in an open pool and a Temporal client instead. OpenAPI is served at
``/openapi.json`` and ``/docs``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import asyncpg
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from temporalio.client import Client

from runtime.api import errors
from runtime.api.flowsource import FlowInvalid
from runtime.api.hygiene import InputHygiene
from runtime.api.routes import (
    calls,
    campaigns,
    dnc,
    flows,
    health,
    knowledge,
    phone_calls,
    providers,
    tenants,
    webhooks,
)
from runtime.db import connect, create_pool, database_url, migrate
from runtime.settings import Settings
from runtime.webhooks.dispatcher import dispatching


def create_app(
    settings: Settings, *, db: asyncpg.Pool | None = None, temporal: Client | None = None
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            if app.state.db is None:
                url = await stack.enter_async_context(database_url(settings))
                if settings.database_url is None:
                    # The embedded database is ours alone: bring it up to date. A production
                    # database is migrated by the operator (`voxflow db migrate`).
                    conn = await connect(url)
                    try:
                        await migrate(conn)
                    finally:
                        await conn.close()
                pool = await create_pool(url, max_size=settings.database_pool_max)
                stack.push_async_callback(pool.close)
                app.state.db = pool
            await stack.enter_async_context(dispatching(app.state.db, settings))
            yield
            app.state.db = db

    app = FastAPI(
        title="voxflow",
        version="0.1.0",
        description="Campaigns, contacts, calls and the do-not-call list of a voxflow runtime.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.db = db
    app.state.temporal = temporal
    app.state.embedder = None

    errors.install(app)
    app.add_middleware(InputHygiene)

    @app.exception_handler(FlowInvalid)
    async def _flow_invalid(_: Request, exc: FlowInvalid) -> JSONResponse:
        return exc.response

    for module in (
        health,
        campaigns,
        phone_calls,
        calls,
        flows,
        dnc,
        knowledge,
        providers,
        tenants,
        webhooks,
    ):
        responses = dict(errors.COMMON_RESPONSES)
        if module is not health:
            responses.update(errors.AUTH_RESPONSES)
        app.include_router(module.router, responses=responses)
    if settings.metrics:
        from runtime.api.routes import metrics

        app.include_router(metrics.router)
    return app
