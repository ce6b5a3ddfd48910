"""The dispatcher against real HTTP receivers on loopback: signed requests, retries with the
same event id, dead letters, a dispatcher killed mid-delivery, and tenants kept apart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import asyncpg

from runtime import tenancy
from runtime.db import tenants, webhooks
from runtime.settings import Settings
from runtime.webhooks.dispatcher import Dispatcher, backoff
from runtime.webhooks.verify import verify

from .conftest import drain
from .receiver import receiver

REPO = Path(__file__).resolve().parents[2]


async def _emit(pool: asyncpg.Pool, tenant: str, subject: str) -> None:
    with tenancy.acting_as(tenant):
        async with pool.acquire() as conn, conn.transaction():
            await webhooks.emit(conn, "contact.opted_out", subject, {"phone": subject})


async def _delivery(pool: asyncpg.Pool, webhook_id: str) -> webhooks.DeliveryRow:
    with tenancy.acting_as(tenancy.PLATFORM):
        (row,) = await webhooks.list_deliveries(pool, webhook_id)
    return row


async def test_a_failing_receiver_gets_the_same_event_id_until_it_answers_2xx(
    outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with receiver([500, 503]) as hook:
        made = await webhooks.create_webhook(outbox, hook.url, events=[])
        await _emit(outbox, "default", "+12125550100")
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(hook.received) == 3)
        finally:
            await dispatcher.aclose()
    ids = {r.headers["Voxflow-Event-Id"] for r in hook.received}
    assert len(ids) == 1
    assert {r.body for r in hook.received} == {hook.received[0].body}
    for r in hook.received:
        verify(r.body, r.headers["Voxflow-Signature"], made.secret)
    event = json.loads(hook.received[0].body)
    assert (event["id"], event["type"], event["tenant"]) == (
        ids.pop(),
        "contact.opted_out",
        "default",
    )
    d = await _delivery(outbox, made.row.id)
    assert (d.attempts, d.last_status, d.dead_at is None) == (3, 200, True)
    assert d.delivered_at is not None


async def test_a_delivery_failing_every_attempt_is_dead_lettered(
    outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with receiver([500, 500, 500, 500]) as hook:
        made = await webhooks.create_webhook(outbox, hook.url, events=[])
        await _emit(outbox, "default", "+12125550101")
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(hook.received) == 3)
            await asyncio.sleep(0.1)
            assert not await dispatcher.deliver_one()  # nothing is due any more
        finally:
            await dispatcher.aclose()
    assert len(hook.received) == wh_settings.webhook_max_attempts
    d = await _delivery(outbox, made.row.id)
    assert (d.attempts, d.last_status, d.delivered_at) == (3, 500, None)
    assert d.dead_at is not None and d.last_error == "HTTP 500"
    dead = await webhooks.list_deliveries(outbox, made.row.id, state="dead")
    assert [x.event_id for x in dead] == [d.event_id]


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff(n, 10).total_seconds() for n in (1, 2, 3, 4)] == [10, 20, 40, 80]
    assert backoff(40, 10).total_seconds() == 3600


async def test_an_event_filter_sends_only_the_chosen_types(
    outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with receiver() as hook:
        await webhooks.create_webhook(outbox, hook.url, events=["call.completed"])
        await _emit(outbox, "default", "+12125550102")
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            assert not await dispatcher.deliver_one()
        finally:
            await dispatcher.aclose()
    assert hook.received == []


_KILLED_DISPATCHER = """
import asyncio, sys
from runtime.db import create_pool
from runtime.settings import load_settings
from runtime.webhooks.dispatcher import Dispatcher

async def main():
    pool = await create_pool(sys.argv[1], max_size=1)
    await Dispatcher(pool, load_settings({"VOXFLOW_WEBHOOK_TIMEOUT_S": "120"})).deliver_one()

asyncio.run(main())
"""


async def test_a_dispatcher_killed_mid_delivery_loses_nothing(
    outbox: asyncpg.Pool, pg_url: str, wh_settings: Settings
) -> None:
    with receiver(hold=True) as hook:
        made = await webhooks.create_webhook(outbox, hook.url, events=[])
        await _emit(outbox, "default", "+12125550103")
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", _KILLED_DISPATCHER, pg_url, env=env
        )
        try:
            arrived = await asyncio.to_thread(hook.arrived.wait, 60)
            assert arrived, "the killed dispatcher never sent"
        finally:
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        hook.hold.set()
        # The killed process's transaction is gone with its connection: the row is as it was.
        for _ in range(100):
            d = await _delivery(outbox, made.row.id)
            if d.attempts == 0 and d.delivered_at is None:
                break
            await asyncio.sleep(0.05)
        assert (d.attempts, d.delivered_at, d.dead_at) == (0, None, None)
        hook.hold = None
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(hook.received) == 2)
        finally:
            await dispatcher.aclose()
    first, second = hook.received
    assert first.headers["Voxflow-Event-Id"] == second.headers["Voxflow-Event-Id"]
    assert (await _delivery(outbox, made.row.id)).delivered_at is not None


async def test_two_dispatchers_never_send_one_delivery_twice(
    outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with receiver() as hook:
        await webhooks.create_webhook(outbox, hook.url, events=[])
        for i in range(20):
            await _emit(outbox, "default", f"+1212555{i:04d}")
        one, two = Dispatcher(outbox, wh_settings), Dispatcher(outbox, wh_settings)
        stop = asyncio.Event()
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(one.run(stop))
                group.create_task(two.run(stop))
                for _ in range(400):
                    if len(hook.received) >= 20:
                        break
                    await asyncio.sleep(0.02)
                await asyncio.sleep(0.2)
                stop.set()
        finally:
            await one.aclose()
            await two.aclose()
    ids = [r.headers["Voxflow-Event-Id"] for r in hook.received]
    assert len(ids) == len(set(ids)) == 20


async def test_a_tenants_events_go_only_to_its_own_endpoints(
    outbox: asyncpg.Pool, wh_settings: Settings
) -> None:
    with tenancy.acting_as(tenancy.PLATFORM):
        for t in ("alpha", "beta"):
            if await tenants.get_tenant(outbox, t) is None:
                await tenants.create_tenant(outbox, t)
    with receiver() as a_hook, receiver() as b_hook:
        with tenancy.acting_as("alpha"):
            a = await webhooks.create_webhook(outbox, a_hook.url, events=[])
        with tenancy.acting_as("beta"):
            b = await webhooks.create_webhook(outbox, b_hook.url, events=[])
            assert [w.id for w in await webhooks.list_webhooks(outbox)] == [b.row.id]
            assert await webhooks.get_webhook(outbox, a.row.id) is None
            assert not await webhooks.delete_webhook(outbox, a.row.id)
        for i in range(3):
            await _emit(outbox, "alpha", f"+1212555010{i}")
        await _emit(outbox, "beta", "+12125550199")
        dispatcher = Dispatcher(outbox, wh_settings)
        try:
            await drain(dispatcher, lambda: len(a_hook.received) == 3 and len(b_hook.received) == 1)
            assert not await dispatcher.deliver_one()
        finally:
            await dispatcher.aclose()
    for hook, tenant, secret in ((a_hook, "alpha", a.secret), (b_hook, "beta", b.secret)):
        for r in hook.received:
            verify(r.body, r.headers["Voxflow-Signature"], secret)
            assert json.loads(r.body)["tenant"] == tenant
    assert json.loads(b_hook.received[0].body)["data"] == {"phone": "+12125550199"}


async def test_the_settings_endpoint_is_the_default_tenants_and_the_loop_delivers_to_it(
    outbox: asyncpg.Pool,
) -> None:
    from runtime.settings import load_settings
    from runtime.webhooks.dispatcher import dispatching, sync_settings_endpoint

    with receiver() as hook:
        settings = load_settings(
            {"VOXFLOW_WEBHOOK_URL": hook.url, "VOXFLOW_WEBHOOK_SECRET": "env-secret-1"}
        )
        async with dispatching(outbox, settings):
            assert [w.id for w in await webhooks.list_webhooks(outbox)] == ["wh_env"]
            await _emit(outbox, "default", "+12125550160")
            for _ in range(200):
                if hook.received:
                    break
                await asyncio.sleep(0.05)
        (got,) = hook.received
        verify(got.body, got.headers["Voxflow-Signature"], "env-secret-1")
        await sync_settings_endpoint(outbox, load_settings({}))
        (row,) = await webhooks.list_webhooks(outbox)
        assert (row.id, row.enabled) == ("wh_env", False)
        await _emit(outbox, "default", "+12125550161")
        with tenancy.acting_as(tenancy.PLATFORM):
            assert await outbox.fetchval("SELECT count(*) FROM webhook_deliveries") == 1
