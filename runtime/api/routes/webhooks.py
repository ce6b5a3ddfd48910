"""Webhook endpoints of the caller's tenant, and their deliveries (the dead letters).

Tenant administrators only. An endpoint's secret is in the answer that creates it and never
again: store it then. Another tenant's endpoint is answered 404 like one that does not exist
(row-level security hides it). Events and signatures: ``docs/webhooks.md``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from pydantic import BaseModel, Field

from runtime import tenancy
from runtime.api import models
from runtime.api.auth import require
from runtime.api.deps import db
from runtime.db import webhooks
from runtime.webhooks.events import EventType
from runtime.webhooks.urls import MAX_URL, WebhookUrlError, check_url

router = APIRouter(prefix="/webhooks", tags=["webhooks"], dependencies=[Depends(require())])
Db = Annotated[asyncpg.Pool, Depends(db)]


class WebhookIn(BaseModel):
    url: str = Field(max_length=MAX_URL, description="https://..., or http:// to loopback")
    events: list[EventType] = Field(
        default_factory=list, max_length=20, description="Event types sent; empty: every type"
    )


class WebhookOut(BaseModel):
    id: str
    tenant: str
    url: str
    events: list[str]
    enabled: bool
    created_at: datetime


class CreatedWebhookOut(WebhookOut):
    secret: str = Field(description="The signing secret: shown this once")


class DeliveryOut(BaseModel):
    event_id: str
    webhook_id: str
    type: str
    attempts: int
    next_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None
    last_status: int | None
    last_error: str
    created_at: datetime


def _not_found(webhook_id: str) -> HTTPException:
    return HTTPException(
        404, detail={"code": "webhook_not_found", "message": f"no webhook {webhook_id!r}"}
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CreatedWebhookOut,
    responses={422: {"model": models.Problem}},
)
async def create_webhook(body: WebhookIn, pool: Db, request: Request) -> Any:
    """A new endpoint of the caller's tenant; the answer holds its secret, shown this once."""
    if tenancy.current() == tenancy.PLATFORM:
        raise HTTPException(
            422,
            detail={
                "code": "tenant_required",
                "message": "an endpoint belongs to one tenant: send X-Voxflow-Tenant: <id>",
            },
        )
    allow_private = request.app.state.settings.webhook_allow_private
    try:
        await check_url(body.url, allow_private=allow_private)
    except WebhookUrlError as exc:
        raise HTTPException(422, detail={"code": exc.code, "message": str(exc)}) from None
    created = await webhooks.create_webhook(pool, body.url, events=[str(e) for e in body.events])
    return {**asdict(created.row), "secret": created.secret}


@router.get("", response_model=list[WebhookOut])
async def list_webhooks(pool: Db) -> Any:
    """The tenant's endpoints (every tenant's in the platform view), without secrets."""
    return [asdict(w) for w in await webhooks.list_webhooks(pool)]


@router.delete("/{webhook_id}", status_code=204, responses={404: {"model": models.Problem}})
async def delete_webhook(webhook_id: str, pool: Db) -> None:
    """Remove the endpoint; its undelivered events are dropped with it."""
    if not await webhooks.delete_webhook(pool, webhook_id):
        raise _not_found(webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=list[DeliveryOut],
    responses={404: {"model": models.Problem}},
)
async def list_deliveries(
    webhook_id: str,
    pool: Db,
    state: Annotated[
        webhooks.DeliveryState | None, Query(description="pending, delivered or dead")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Any:
    """The endpoint's deliveries, newest first: ``state=dead`` lists the dead letters."""
    if await webhooks.get_webhook(pool, webhook_id) is None:
        raise _not_found(webhook_id)
    rows = await webhooks.list_deliveries(pool, webhook_id, state=state, limit=limit)
    return [asdict(d) for d in rows]


@router.post(
    "/{webhook_id}/deliveries/{event_id}/redeliver",
    status_code=202,
    responses={404: {"model": models.Problem}},
)
async def redeliver(webhook_id: str, event_id: str, pool: Db) -> Response:
    """Queue a dead-lettered delivery again, with a fresh count of attempts."""
    if not await webhooks.redeliver(pool, webhook_id, event_id):
        raise HTTPException(
            404,
            detail={
                "code": "dead_letter_not_found",
                "message": f"no dead-lettered event {event_id!r} for webhook {webhook_id!r}",
            },
        )
    return Response(status_code=202)
