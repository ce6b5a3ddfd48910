"""The isolation matrix: every API route, tenant A against tenant B's data.

Tenant B holds a campaign with contacts, a flow version, a call with its recording, a test
call's workflow, a do-not-call entry, a knowledge document and a key. Tenant A's
administrator then calls every route of the application aimed at B's data: A never reads,
lists, changes or infers it. Where a route names B's object the answer is the 404 a missing
object gets, byte for byte apart from the name (never a 403 that would confirm it exists);
where a route lists or searches, nothing of B's shows; where a route creates, a name B took
is free for A. Afterwards B's data is unchanged. A route the matrix does not cover fails
``test_every_route_has_an_isolation_case``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from runtime import tenancy
from runtime.api import create_app
from runtime.db import calls
from runtime.settings import load_settings
from runtime.workflows import search

from .conftest import KEYS

REPO = Path(__file__).resolve().parents[2]
FLOW = (REPO / "flows" / "reminder.flow").read_text()
B_FLOW = FLOW.replace("Maple Street Clinic", "Beta Street Clinic")
CSV = (REPO / "flows" / "contacts" / "reminder.csv").read_bytes()
B_PHONE = "+12125550100"
B_SECRET = "The beta parking code is 4711, behind the bakery."
B_TEST = "test-reminder-20260101T000000-abcdef"
MISSING_TEST = "test-reminder-20260101T000000-fedcba"


@dataclass
class World:
    a: httpx.AsyncClient
    b: httpx.AsyncClient
    pool: asyncpg.Pool
    b_flow: str
    b_doc: int
    b_key: str
    b_key_id: str
    b_webhook: str = ""
    b_event: str = ""


Case = Callable[[World], Awaitable[None]]


async def _same_as_missing(w: World, method: str, theirs: str, missing: str, **kw: Any) -> None:
    """A's answer for B's object is the answer for an object that does not exist."""
    got = await w.a.request(method, theirs, **kw)
    none = await w.a.request(method, missing, **kw)
    assert got.status_code == none.status_code == 404, (theirs, got.text, none.text)
    assert got.json()["code"] == none.json()["code"], (got.text, none.text)


def _absent(body: Any, *needles: str) -> None:
    text = str(body)
    for needle in needles:
        assert needle not in text, (needle, text[:500])


async def _campaigns_list(w: World) -> None:
    r = await w.a.get("/campaigns")
    assert r.status_code == 200
    _absent(r.json(), "b-only")


async def _campaign_status(w: World) -> None:
    await _same_as_missing(w, "GET", "/campaigns/b-only", "/campaigns/nowhere")


async def _contacts_import(w: World) -> None:
    files = {"file": ("c.csv", CSV)}
    got = await w.a.post("/campaigns/b-only/contacts", files=files)
    none = await w.a.post("/campaigns/nowhere/contacts", files=files)
    assert got.status_code == none.status_code == 404
    assert got.json()["code"] == none.json()["code"]


def _steer(action: str) -> Case:
    async def case(w: World) -> None:
        await _same_as_missing(w, "POST", f"/campaigns/b-only/{action}", f"/campaigns/no/{action}")

    return case


async def _create_campaign(w: World) -> None:
    # B's name is free in A: a 409 would tell A that B has a campaign of that name.
    r = await w.a.post("/campaigns", json={"source": FLOW, "name": "b-same"})
    assert r.status_code == 201, r.text


async def _test_call(w: World) -> None:
    body = {"phone": "+12127260181", "flow_hash": w.b_flow}
    missing = {"phone": "+12127260181", "flow_hash": "sha256:" + "0" * 64}
    got = await w.a.post("/calls", json=body)
    none = await w.a.post("/calls", json=missing)
    assert got.status_code == none.status_code == 404, got.text
    assert got.json()["code"] == none.json()["code"] == "flow_not_found"


async def _test_call_status(w: World) -> None:
    await _same_as_missing(w, "GET", f"/calls/tests/{B_TEST}", f"/calls/tests/{MISSING_TEST}")


async def _test_call_cancel(w: World) -> None:
    await _same_as_missing(w, "DELETE", f"/calls/tests/{B_TEST}", f"/calls/tests/{MISSING_TEST}")


async def _call_facets(w: World) -> None:
    r = await w.a.get("/calls/facets")
    assert r.status_code == 200, r.text
    _absent(r.json(), "b-only")


async def _calls_list(w: World) -> None:
    for url in ("/calls", "/calls?campaign=b-only", "/calls?contact=c1"):
        r = await w.a.get(url)
        assert r.status_code == 200
        _absent(r.json(), "b-call")


async def _call_detail(w: World) -> None:
    await _same_as_missing(w, "GET", "/calls/b-call", "/calls/no-call")


async def _call_recording(w: World) -> None:
    await _same_as_missing(w, "GET", "/calls/b-call/recording", "/calls/no-call/recording")


async def _flow_version(w: World) -> None:
    await _same_as_missing(w, "GET", f"/flows/{w.b_flow}", "/flows/sha256:" + "0" * 64)


async def _heat_map(w: World) -> None:
    # B's flow and campaign are as unknown to A as names nobody uses (A has no flow yet).
    await _same_as_missing(w, "GET", "/flows/reminder/heatmap", "/flows/nobody/heatmap")
    await _same_as_missing(
        w,
        "GET",
        "/flows/reminder/heatmap?campaign=b-only",
        "/flows/nobody/heatmap?campaign=nowhere",
    )


async def _dnc_list(w: World) -> None:
    r = await w.a.get("/dnc")
    assert r.status_code == 200
    _absent(r.json(), B_PHONE)


async def _dnc_get(w: World) -> None:
    await _same_as_missing(w, "GET", f"/dnc/{B_PHONE}", "/dnc/+12125550111")


async def _dnc_delete(w: World) -> None:
    await _same_as_missing(w, "DELETE", f"/dnc/{B_PHONE}", "/dnc/+12125550111")


async def _dnc_put(w: World) -> None:
    # New for A (201), not "already listed" (200), though B lists it.
    r = await w.a.put(f"/dnc/{B_PHONE}", json={"reason": "a's own"})
    assert r.status_code == 201, r.text


async def _chunks(w: World) -> None:
    await _same_as_missing(
        w, "GET", f"/knowledge/documents/{w.b_doc}/chunks", "/knowledge/documents/987654/chunks"
    )


async def _documents(w: World) -> None:
    r = await w.a.get("/knowledge/kb/documents")
    assert (r.status_code, r.json()) == (200, [])


async def _delete_document(w: World) -> None:
    await _same_as_missing(
        w, "DELETE", f"/knowledge/kb/documents/{w.b_doc}", "/knowledge/kb/documents/987654"
    )


async def _search(w: World) -> None:
    r = await w.a.get("/knowledge/kb/search", params={"q": "parking code bakery", "top_k": 10})
    assert r.status_code == 200
    _absent(r.json(), "4711", "bakery")


async def _repair(w: World) -> None:
    r = await w.a.post("/knowledge/kb/repair")
    assert (r.status_code, r.json()["repaired"]) == (200, [])


async def _add_document(w: World) -> None:
    # The same text as B's: new in A (201), not "already stored" (200).
    r = await w.a.post("/knowledge/kb/documents", json={"text": B_SECRET})
    assert r.status_code == 201, r.text
    assert r.json()["id"] != w.b_doc


async def _breakers(w: World) -> None:
    # The providers' breakers are the platform's, shared by every tenant: no tenant data.
    assert (await w.a.get("/providers/breakers")).status_code == 200


async def _whoami(w: World) -> None:
    r = await w.a.get("/tenant")
    assert r.json() == {"tenant": "alpha", "role": "admin", "platform": False}


async def _platform_only(w: World, method: str, url: str, **kw: Any) -> None:
    # The same 403 for every tenant, A's own included: it says nothing about B.
    mine = await w.a.request(method, url.replace("beta", "alpha"), **kw)
    theirs = await w.a.request(method, url, **kw)
    assert mine.status_code == theirs.status_code == 403
    assert mine.json() == theirs.json()


async def _create_tenant(w: World) -> None:
    await _platform_only(w, "POST", "/tenants", json={"id": "beta"})


async def _list_tenants(w: World) -> None:
    r = await w.a.get("/tenants")
    assert [t["id"] for t in r.json()] == ["alpha"]


async def _get_tenant(w: World) -> None:
    await _same_as_missing(w, "GET", "/tenants/beta", "/tenants/nobody")


async def _quotas(w: World) -> None:
    await _platform_only(w, "PUT", "/tenants/beta/quotas", json={"max_lines": 1})


async def _create_key(w: World) -> None:
    await _same_as_missing(
        w, "POST", "/tenants/beta/keys", "/tenants/nobody/keys", json={"role": "admin"}
    )


async def _list_keys(w: World) -> None:
    await _same_as_missing(w, "GET", "/tenants/beta/keys", "/tenants/nobody/keys")


async def _rotate_key(w: World) -> None:
    await _same_as_missing(
        w,
        "POST",
        f"/tenants/beta/keys/{w.b_key_id}/rotate",
        f"/tenants/nobody/keys/{w.b_key_id}/rotate",
    )
    r = await w.a.post(f"/tenants/alpha/keys/{w.b_key_id}/rotate")
    assert (r.status_code, r.json()["code"]) == (404, "key_not_found")


async def _revoke_key(w: World) -> None:
    await _same_as_missing(
        w, "DELETE", f"/tenants/beta/keys/{w.b_key_id}", f"/tenants/nobody/keys/{w.b_key_id}"
    )
    r = await w.a.delete(f"/tenants/alpha/keys/{w.b_key_id}")
    assert (r.status_code, r.json()["code"]) == (404, "key_not_found")


async def _usage(w: World) -> None:
    r = await w.a.get("/usage")
    assert [u["tenant"] for u in r.json()] == ["alpha"]


B_HOOK = "http://127.0.0.1:9/beta-hook"
NO_EVENT = "00000000-0000-4000-8000-000000000000"


async def _webhooks_list(w: World) -> None:
    r = await w.a.get("/webhooks")
    assert r.status_code == 200
    _absent(r.json(), w.b_webhook, "beta-hook")


async def _webhook_delete(w: World) -> None:
    await _same_as_missing(w, "DELETE", f"/webhooks/{w.b_webhook}", "/webhooks/wh_nobody")


async def _webhook_deliveries(w: World) -> None:
    await _same_as_missing(
        w, "GET", f"/webhooks/{w.b_webhook}/deliveries", "/webhooks/wh_nobody/deliveries"
    )


async def _redeliver(w: World) -> None:
    await _same_as_missing(
        w,
        "POST",
        f"/webhooks/{w.b_webhook}/deliveries/{w.b_event}/redeliver",
        f"/webhooks/wh_nobody/deliveries/{NO_EVENT}/redeliver",
    )


async def _webhook_create(w: World) -> None:
    # A's endpoint is A's: B's events never fan out to it (tests/webhooks/test_dispatcher.py).
    r = await w.a.post("/webhooks", json={"url": "http://127.0.0.1:9/alpha-hook"})
    assert r.status_code == 201 and r.json()["tenant"] == "alpha", r.text


async def _open(w: World) -> None:
    """Liveness and readiness: no key, no tenant data."""


MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/flows/{name}/heatmap"): _heat_map,  # first: before A stores a flow of its own
    ("GET", "/health"): _open,
    ("GET", "/ready"): _open,
    ("GET", "/campaigns"): _campaigns_list,
    ("GET", "/campaigns/{name}"): _campaign_status,
    ("POST", "/campaigns/{name}/contacts"): _contacts_import,
    ("POST", "/campaigns/{name}/start"): _steer("start"),
    ("POST", "/campaigns/{name}/pause"): _steer("pause"),
    ("POST", "/campaigns/{name}/resume"): _steer("resume"),
    ("POST", "/campaigns/{name}/stop"): _steer("stop"),
    ("POST", "/campaigns"): _create_campaign,
    ("POST", "/calls"): _test_call,
    ("GET", "/calls/tests/{test_id}"): _test_call_status,
    ("DELETE", "/calls/tests/{test_id}"): _test_call_cancel,
    ("GET", "/calls/facets"): _call_facets,
    ("GET", "/calls"): _calls_list,
    ("GET", "/calls/{call_id}"): _call_detail,
    ("GET", "/calls/{call_id}/recording"): _call_recording,
    ("GET", "/flows/{flow_hash}"): _flow_version,
    ("GET", "/dnc"): _dnc_list,
    ("GET", "/dnc/{phone}"): _dnc_get,
    ("DELETE", "/dnc/{phone}"): _dnc_delete,
    ("PUT", "/dnc/{phone}"): _dnc_put,
    ("GET", "/knowledge/documents/{document_id}/chunks"): _chunks,
    ("GET", "/knowledge/{collection}/documents"): _documents,
    ("DELETE", "/knowledge/{collection}/documents/{document_id}"): _delete_document,
    ("GET", "/knowledge/{collection}/search"): _search,
    ("POST", "/knowledge/{collection}/repair"): _repair,
    ("POST", "/knowledge/{collection}/documents"): _add_document,
    ("GET", "/providers/breakers"): _breakers,
    ("GET", "/tenant"): _whoami,
    ("POST", "/tenants"): _create_tenant,
    ("GET", "/tenants"): _list_tenants,
    ("GET", "/tenants/{tenant}"): _get_tenant,
    ("PUT", "/tenants/{tenant}/quotas"): _quotas,
    ("POST", "/tenants/{tenant}/keys"): _create_key,
    ("GET", "/tenants/{tenant}/keys"): _list_keys,
    ("POST", "/tenants/{tenant}/keys/{key_id}/rotate"): _rotate_key,
    ("DELETE", "/tenants/{tenant}/keys/{key_id}"): _revoke_key,
    ("GET", "/usage"): _usage,
    ("GET", "/webhooks"): _webhooks_list,
    ("DELETE", "/webhooks/{webhook_id}"): _webhook_delete,
    ("GET", "/webhooks/{webhook_id}/deliveries"): _webhook_deliveries,
    ("POST", "/webhooks/{webhook_id}/deliveries/{event_id}/redeliver"): _redeliver,
    ("POST", "/webhooks"): _webhook_create,
}
"""Run in this order: reads and refused changes first, A's own creations last."""


def _routes(app: Any) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def test_every_route_has_an_isolation_case(settings: Any) -> None:
    assert _routes(create_app(settings)) == set(MATRIX)


@pytest.fixture
async def world(
    settings: Any, pg_pool: asyncpg.Pool, temporal_env: WorkflowEnvironment, tmp_path: Path
) -> AsyncIterator[World]:
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_RECORDINGS_DIR": str(tmp_path),
        }
    )
    app = create_app(settings, db=pg_pool, temporal=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    base = "http://voxflow.test"
    async with httpx.AsyncClient(
        transport=transport, base_url=base, headers={"X-API-Key": KEYS["admin"]}
    ) as platform:
        keys = {}
        for tenant in ("alpha", "beta"):
            assert (await platform.post("/tenants", json={"id": tenant})).status_code == 201
            made = await platform.post(f"/tenants/{tenant}/keys", json={"role": "admin"})
            keys[tenant] = made.json()
    async with (
        httpx.AsyncClient(
            transport=transport, base_url=base, headers={"X-API-Key": keys["alpha"]["key"]}
        ) as a,
        httpx.AsyncClient(
            transport=transport, base_url=base, headers={"X-API-Key": keys["beta"]["key"]}
        ) as b,
    ):
        made = await b.post("/campaigns", json={"source": B_FLOW, "name": "b-only"})
        assert made.status_code == 201, made.text
        assert (await b.post("/campaigns", json={"source": B_FLOW, "name": "b-same"})).is_success
        imported = await b.post("/campaigns/b-only/contacts", files={"file": ("c.csv", CSV)})
        assert imported.json()["imported"] > 0
        hook = await b.post("/webhooks", json={"url": B_HOOK})
        assert hook.status_code == 201, hook.text
        assert (await b.put(f"/dnc/{B_PHONE}")).status_code == 201
        with tenancy.acting_as(tenancy.PLATFORM):
            b_event = await pg_pool.fetchval(
                "UPDATE webhook_deliveries SET dead_at = now() WHERE webhook_id = $1"
                " RETURNING event_id::text",
                hook.json()["id"],
            )
        doc = await b.post("/knowledge/kb/documents", json={"text": B_SECRET})
        assert doc.status_code == 201
        with tenancy.acting_as("beta"):
            await calls.start_call(pg_pool, "b-call", campaign="b-only", contact="c1")
            await pg_pool.execute("UPDATE calls SET recording = 'b-call.wav' WHERE id = 'b-call'")
        (tmp_path / "b-call.wav").write_bytes(b"RIFF")
        await temporal_env.client.start_workflow(
            "ContactWorkflow",
            "never run",
            id=tenancy.scoped_workflow_id("beta", f"call/{B_TEST}"),
            task_queue="nobody-polls",
        )
        yield World(
            a=a,
            b=b,
            pool=pg_pool,
            b_flow=made.json()["flow_hash"],
            b_doc=doc.json()["id"],
            b_key=keys["beta"]["key"],
            b_key_id=keys["beta"]["id"],
            b_webhook=hook.json()["id"],
            b_event=b_event,
        )


async def test_tenant_a_never_reads_lists_changes_or_infers_tenant_bs_data(world: World) -> None:
    for route, case in MATRIX.items():
        try:
            await case(world)
        except AssertionError as exc:
            raise AssertionError(f"{route}: {exc}") from exc
    b = world.b
    status = await b.get("/campaigns/b-only")
    assert status.status_code == 200 and status.json()["status"] == "draft"
    assert sum(status.json()["contacts"].values()) > 0
    assert (await b.get(f"/dnc/{B_PHONE}")).json()["reason"] == ""
    assert (await b.get("/calls/b-call/recording")).status_code == 200
    docs = (await b.get("/knowledge/kb/documents")).json()
    assert [d["id"] for d in docs] == [world.b_doc]
    hits = (await b.get("/knowledge/kb/search", params={"q": "parking code"})).json()
    assert any("4711" in h["text"] for h in hits)
    assert (await b.get(f"/flows/{world.b_flow}")).status_code == 200
    assert (await b.get("/tenant")).json()["tenant"] == "beta"
    assert [h["url"] for h in (await b.get("/webhooks")).json()] == [B_HOOK]
    dead = (await b.get(f"/webhooks/{world.b_webhook}/deliveries?state=dead")).json()
    assert [d["event_id"] for d in dead] == [world.b_event]


async def test_two_tenants_run_campaigns_of_one_name_in_their_own_workflows(
    settings: Any, pg_pool: asyncpg.Pool, temporal_env: WorkflowEnvironment
) -> None:
    app = create_app(settings, db=pg_pool, temporal=temporal_env.client)
    transport = httpx.ASGITransport(app=app)
    base = "http://voxflow.test"
    for tenant in ("gamma", "delta"):
        async with httpx.AsyncClient(
            transport=transport, base_url=base, headers={"X-API-Key": KEYS["admin"]}
        ) as platform:
            assert (await platform.post("/tenants", json={"id": tenant})).status_code == 201
            key = (await platform.post(f"/tenants/{tenant}/keys", json={"role": "admin"})).json()
        async with httpx.AsyncClient(
            transport=transport, base_url=base, headers={"X-API-Key": key["key"]}
        ) as api:
            made = await api.post("/campaigns", json={"source": FLOW, "name": "same-name"})
            assert made.status_code == 201, made.text
            await api.post("/campaigns/same-name/contacts", files={"file": ("c.csv", CSV)})
            started = await api.post("/campaigns/same-name/start")
            assert started.status_code == 200, started.text
    for tenant in ("gamma", "delta"):
        handle = temporal_env.client.get_workflow_handle(
            search.campaign_workflow_id("same-name", tenant)
        )
        described = await handle.describe()
        assert described.typed_search_attributes.get(search.TENANT) == tenant
        assert handle.id == f"tenant/{tenant}/campaign/same-name"
        await handle.terminate()


async def test_the_platform_view_reads_across_tenants_and_changes_only_one_named(
    settings: Any, pg_pool: asyncpg.Pool
) -> None:
    app = create_app(settings, db=pg_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://voxflow.test",
        headers={"X-API-Key": KEYS["admin"]},
    ) as platform:
        keys = {}
        for tenant in ("p-one", "p-two"):
            assert (await platform.post("/tenants", json={"id": tenant})).status_code == 201
            made = await platform.post(
                "/campaigns",
                json={"source": FLOW, "name": f"{tenant}-camp"},
                headers={"X-Voxflow-Tenant": tenant},
            )
            assert made.status_code == 201, made.text
            keys[tenant] = (
                await platform.post(f"/tenants/{tenant}/keys", json={"role": "operator"})
            ).json()["key"]
        everyone = await platform.get("/campaigns", headers={"X-Voxflow-Tenant": "*"})
        names = {c["name"] for c in everyone.json()}
        assert {"p-one-camp", "p-two-camp"} <= names
        usage = await platform.get("/usage", headers={"X-Voxflow-Tenant": "*"})
        assert {"default", "p-one", "p-two"} <= {u["tenant"] for u in usage.json()}

        write = await platform.put("/dnc/+12125550100", headers={"X-Voxflow-Tenant": "*"})
        assert (write.status_code, write.json()["code"]) == (422, "tenant_required")
        unknown = await platform.get("/campaigns", headers={"X-Voxflow-Tenant": "nobody"})
        assert (unknown.status_code, unknown.json()["code"]) == (404, "tenant_not_found")

        # A tenant's key may not switch tenants, whether the other exists or not.
        for other in ("p-two", "nobody", "*"):
            r = await platform.get(
                "/campaigns", headers={"X-API-Key": keys["p-one"], "X-Voxflow-Tenant": other}
            )
            assert (r.status_code, r.json()["code"]) == (403, "tenant_forbidden")
        own = await platform.get("/campaigns", headers={"X-API-Key": keys["p-one"]})
        assert [c["name"] for c in own.json()] == ["p-one-camp"]
