"""The delivery loop: POST each due outbox delivery to its tenant's endpoint, signed.

Any number of dispatchers may run (each worker and API process starts one): a delivery is
claimed with ``FOR UPDATE SKIP LOCKED`` and stays locked while it is sent, so one event goes
to one endpoint from one process at a time. The row is updated in the same transaction
after the answer; a process that dies mid-send leaves it as it was, due, for the next
dispatcher. Delivery is therefore at least once: a receiver may see an event again (after
such a crash, or when its 2xx was lost) and deduplicates on ``Voxflow-Event-Id``.

A failed attempt (no 2xx within the timeout, a refused address) is retried after
``backoff_s``, then twice as long each time up to an hour, and after ``max_attempts`` the
delivery is dead-lettered: kept, listed by ``GET /webhooks/{id}/deliveries?state=dead``,
and sent again only when asked (``POST .../redeliver``).

Retention: every ``VOXFLOW_WEBHOOK_PRUNE_EVERY_S`` each dispatching process deletes delivered
deliveries older than ``VOXFLOW_WEBHOOK_RETENTION_DAYS``, dead letters older than
``VOXFLOW_WEBHOOK_DEAD_RETENTION_DAYS``, and events with no delivery left
(``runtime.db.webhooks.prune``: small batches that skip locked rows).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import httpx

from runtime import tenancy
from runtime.db import webhooks
from runtime.settings import Settings
from runtime.webhooks.signing import (
    EVENT_ID_HEADER,
    EVENT_TYPE_HEADER,
    SIGNATURE_HEADER,
    signature_header,
)
from runtime.webhooks.urls import WebhookUrlError, check_url

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: ``status`` is the HTTP status, ``None`` when none came back."""

    ok: bool
    status: int | None
    error: str


def body_of(d: webhooks.DueDelivery) -> bytes:
    """The request body: the event with its stable id (the same bytes on every retry)."""
    event: dict[str, Any] = {
        "id": d.event_id,
        "type": d.type,
        "tenant": d.tenant,
        "created_at": d.created_at.isoformat(),
        "data": d.payload,
    }
    return json.dumps(event, separators=(",", ":"), sort_keys=True).encode()


async def post(
    client: httpx.AsyncClient,
    url: str,
    secret: str,
    *,
    event_id: str,
    event_type: str,
    body: bytes,
    allow_private: bool,
) -> Attempt:
    """Check ``url`` (``runtime/webhooks/urls.py``) and POST ``body`` signed with ``secret``."""
    try:
        await check_url(url, allow_private=allow_private)
    except WebhookUrlError as exc:
        return Attempt(False, None, f"{exc.code}: refused address")
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "voxflow-webhooks/1",
        SIGNATURE_HEADER: signature_header(body, secret, int(time.time())),
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
    }
    try:
        r = await client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}")
    if 200 <= r.status_code < 300:
        return Attempt(True, r.status_code, "")
    return Attempt(False, r.status_code, f"HTTP {r.status_code}")


def backoff(attempts: int, base_s: float) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: ``base_s``, doubling, capped."""
    return min(timedelta(seconds=base_s * 2 ** (attempts - 1)), MAX_BACKOFF)


class Dispatcher:
    """Delivers the outbox of every tenant.

    Args:
        pool: the application's pool (the dispatcher reads in the platform view).
        settings: retries, backoff, timeout and the address policy (``VOXFLOW_WEBHOOK_*``).
        idle_s: how long to wait when nothing is due.
    """

    def __init__(self, pool: asyncpg.Pool, settings: Settings, *, idle_s: float = 1.0) -> None:
        self._pool = pool
        self._settings = settings
        self._idle_s = idle_s
        self._client = httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False, trust_env=False
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def deliver_one(self) -> bool:
        """Send one due delivery; ``False`` when none was due."""
        s = self._settings
        with tenancy.acting_as(tenancy.PLATFORM):
            async with self._pool.acquire() as conn, conn.transaction():
                d = await webhooks.claim_due(conn)
                if d is None:
                    return False
                result = await post(
                    self._client,
                    d.url,
                    d.secret,
                    event_id=d.event_id,
                    event_type=d.type,
                    body=body_of(d),
                    allow_private=s.webhook_allow_private,
                )
                if result.ok:
                    await webhooks.mark_delivered(conn, d, result.status or 200)
                    return True
                attempts = d.attempts + 1
                retry = (
                    backoff(attempts, s.webhook_backoff_s)
                    if attempts < s.webhook_max_attempts
                    else None
                )
                await webhooks.mark_failed(
                    conn, d, status=result.status, error=result.error, retry_in=retry
                )
        # The URL may carry a token in its query: log the endpoint's id, never the URL.
        log.warning(
            "webhook %s: event %s (%s) attempt %d failed: %s; %s",
            d.webhook_id,
            d.event_id,
            d.type,
            attempts,
            result.error,
            "dead-lettered" if retry is None else f"retry in {retry.total_seconds():g}s",
        )
        return True

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set; an error is logged and the loop goes on."""
        while not stop.is_set():
            try:
                busy = await self.deliver_one()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("webhook dispatcher: %s; retrying", exc)
                busy = False
            except Exception:  # a bug: logged, and the process it runs in carries on
                log.exception("webhook dispatcher failed; retrying")
                busy = False
            if not busy:
                with suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self._idle_s)


async def prune_once(pool: asyncpg.Pool, settings: Settings) -> webhooks.Pruned:
    """Delete, across every tenant, what the retention settings no longer keep."""
    with tenancy.acting_as(tenancy.PLATFORM):
        pruned = await webhooks.prune(
            pool,
            delivered_for=timedelta(days=settings.webhook_retention_days),
            dead_for=timedelta(days=settings.webhook_dead_retention_days),
        )
    if pruned.deliveries or pruned.events:
        log.info(
            "webhook retention: deleted %d deliveries and %d events in %d batches",
            pruned.deliveries,
            pruned.events,
            pruned.batches,
        )
    return pruned


async def prune_periodically(pool: asyncpg.Pool, settings: Settings, stop: asyncio.Event) -> None:
    """:func:`prune_once` now and every ``VOXFLOW_WEBHOOK_PRUNE_EVERY_S`` until ``stop``."""
    while not stop.is_set():
        try:
            await prune_once(pool, settings)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("webhook retention: %s; trying again later", exc)
        except Exception:  # a bug: logged, and the process it runs in carries on
            log.exception("webhook retention failed; trying again later")
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.webhook_prune_every_s)


async def sync_settings_endpoint(pool: asyncpg.Pool, settings: Settings) -> None:
    """Make ``VOXFLOW_WEBHOOK_URL``/``SECRET`` the default tenant's endpoint ``wh_env``."""
    url = settings.webhook_url
    secret = settings.webhook_secret
    with tenancy.acting_as(tenancy.DEFAULT_TENANT):
        await webhooks.sync_env_webhook(
            pool, url, None if secret is None else secret.get_secret_value()
        )


@asynccontextmanager
async def dispatching(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[None]:
    """Run ``VOXFLOW_WEBHOOK_CONCURRENCY`` delivery loops and the retention loop for the block
    when ``VOXFLOW_WEBHOOK_DISPATCH`` is on."""
    if not settings.webhook_dispatch:
        yield
        return
    try:
        await sync_settings_endpoint(pool, settings)
    except asyncpg.UndefinedTableError:
        log.warning("webhooks are off: the database lacks migration 0201; run voxflow db migrate")
        yield
        return
    dispatcher = Dispatcher(pool, settings)
    stop = asyncio.Event()
    # Several loops, so one slow endpoint does not hold back every other tenant's events.
    tasks = [asyncio.create_task(dispatcher.run(stop)) for _ in range(settings.webhook_concurrency)]
    tasks.append(asyncio.create_task(prune_periodically(pool, settings, stop)))
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await dispatcher.aclose()
