"""``/webhooks``: the secret shown once, refused URLs with their rule, one tenant per
endpoint, and the dead letters listed and re-queued."""

from __future__ import annotations

import asyncpg
import httpx

from runtime import tenancy
from runtime.db import webhooks

from .conftest import as_role

HOOK = "http://127.0.0.1:9/hook"


async def test_the_secret_is_in_the_creating_answer_only(api: httpx.AsyncClient) -> None:
    made = await api.post("/webhooks", json={"url": HOOK, "events": ["call.completed"]})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["events"] == ["call.completed"]
    listed = (await api.get("/webhooks")).json()
    assert body["id"] in [w["id"] for w in listed]
    assert body["secret"] not in str(listed) and "secret" not in listed[0]
    assert (await api.delete(f"/webhooks/{body['id']}")).status_code == 204
    gone = await api.delete(f"/webhooks/{body['id']}")
    assert (gone.status_code, gone.json()["code"]) == (404, "webhook_not_found")


async def test_refused_urls_and_event_types_say_why(api: httpx.AsyncClient) -> None:
    for url, code in (
        ("https://169.254.169.254/latest", "url_address"),
        ("http://hooks.example.com/x", "url_scheme"),
    ):
        r = await api.post("/webhooks", json={"url": url})
        assert (r.status_code, r.json()["code"]) == (422, code), r.text
    r = await api.post("/webhooks", json={"url": HOOK, "events": ["call.maybe"]})
    assert r.status_code == 422


async def test_the_platform_view_must_name_a_tenant_to_create(api: httpx.AsyncClient) -> None:
    r = await api.post("/webhooks", json={"url": HOOK}, headers={"X-Voxflow-Tenant": "*"})
    assert (r.status_code, r.json()["code"]) == (422, "tenant_required")


async def test_operators_and_designers_may_not_manage_webhooks(api: httpx.AsyncClient) -> None:
    for role in ("operator", "designer"):
        r = await api.post("/webhooks", json={"url": HOOK}, headers=as_role(role))
        assert (r.status_code, r.json()["code"]) == (403, "forbidden")


async def test_a_dead_letter_is_listed_and_queued_again(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    hook = (await api.post("/webhooks", json={"url": HOOK})).json()
    async with pg_pool.acquire() as conn, conn.transaction():
        await webhooks.emit(conn, "contact.opted_out", "+12125550100", {"phone": "+12125550100"})
    with tenancy.acting_as(tenancy.PLATFORM):
        event = await pg_pool.fetchval(
            "UPDATE webhook_deliveries SET dead_at = now(), attempts = 8, last_error = 'HTTP 500'"
            " WHERE webhook_id = $1 RETURNING event_id::text",
            hook["id"],
        )
    dead = (await api.get(f"/webhooks/{hook['id']}/deliveries", params={"state": "dead"})).json()
    assert [(d["event_id"], d["attempts"], d["last_error"]) for d in dead] == [
        (event, 8, "HTTP 500")
    ]
    again = await api.post(f"/webhooks/{hook['id']}/deliveries/{event}/redeliver")
    assert again.status_code == 202
    assert (await api.get(f"/webhooks/{hook['id']}/deliveries?state=dead")).json() == []
    (pending,) = (await api.get(f"/webhooks/{hook['id']}/deliveries?state=pending")).json()
    assert (pending["event_id"], pending["attempts"]) == (event, 0)
    twice = await api.post(f"/webhooks/{hook['id']}/deliveries/{event}/redeliver")
    assert (twice.status_code, twice.json()["code"]) == (404, "dead_letter_not_found")
