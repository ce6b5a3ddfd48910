"""REST API on a real database: roles, campaigns from flows, contacts import, calls, DNC."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx

from runtime.db import calls

from .conftest import as_role

REPO = Path(__file__).resolve().parents[2]
FLOW = (REPO / "flows" / "reminder.flow").read_text()
CSV = (REPO / "flows" / "contacts" / "reminder.csv").read_bytes()


async def _create(api: httpx.AsyncClient, name: str) -> httpx.Response:
    return await api.post("/campaigns", json={"source": FLOW, "name": name})


async def test_openapi_and_health_need_no_key(api: httpx.AsyncClient) -> None:
    bare = {"X-API-Key": ""}
    spec = (await api.get("/openapi.json", headers=bare)).json()
    assert {"/campaigns", "/campaigns/{name}/start", "/calls/{call_id}", "/dnc/{phone}"} <= set(
        spec["paths"]
    )
    assert (await api.get("/health", headers=bare)).json() == {"status": "ok"}
    ready = await api.get("/ready", headers=bare)
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok"}


async def test_keys_and_roles_are_enforced(api: httpx.AsyncClient) -> None:
    no_key = await api.get("/campaigns", headers={"X-API-Key": ""})
    assert (no_key.status_code, no_key.json()["code"]) == (401, "missing_api_key")
    wrong = await api.get("/campaigns", headers={"X-API-Key": "nope"})
    assert (wrong.status_code, wrong.json()["code"]) == (401, "unknown_api_key")
    # designers create campaigns, operators do not; operators keep the DNC list, designers do not
    denied = await api.post(
        "/campaigns", json={"source": FLOW, "name": "roles"}, headers=as_role("operator")
    )
    assert (denied.status_code, denied.json()["code"]) == (403, "forbidden")
    made = await api.post(
        "/campaigns", json={"source": FLOW, "name": "roles"}, headers=as_role("designer")
    )
    assert made.status_code == 201
    assert (await api.put("/dnc/+12125550100", headers=as_role("designer"))).status_code == 403
    assert (await api.put("/dnc/+12125550100", headers=as_role("operator"))).status_code == 201
    # both read campaigns and calls
    for role in ("designer", "operator"):
        assert (await api.get("/campaigns", headers=as_role(role))).status_code == 200
        assert (await api.get("/calls", headers=as_role(role))).status_code == 200


async def test_create_campaign_stores_the_flow_version(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    r = await _create(api, "nov-1")
    assert r.status_code == 201
    body = r.json()
    assert (body["name"], body["status"]) == ("nov-1", "draft")
    assert body["flow_hash"].startswith("sha256:")
    assert (
        await pg_pool.fetchval("SELECT agent FROM flow_versions WHERE hash = $1", body["flow_hash"])
        == "reminder"
    )
    again = await _create(api, "nov-1")
    assert (again.status_code, again.json()["code"]) == (409, "campaign_exists")


async def test_invalid_flow_returns_every_diagnostic(api: httpx.AsyncClient) -> None:
    broken = FLOW.replace("-> confirmed", "-> nowhere")
    r = await api.post("/campaigns", json={"source": broken, "name": "broken"})
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "flow_invalid"
    assert body["diagnostics"] and all(d["code"].startswith("VF") for d in body["diagnostics"])
    assert all(d["line"] >= 1 for d in body["diagnostics"])


async def test_bad_campaign_name_is_a_schema_error(api: httpx.AsyncClient) -> None:
    r = await api.post("/campaigns", json={"source": FLOW, "name": "../etc"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_request")


async def test_contacts_import_accounts_for_every_row(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    await _create(api, "imp")
    bad = (
        CSV
        + b"c900,Zed,not-a-phone,,2026-12-01T10:00:00-05:00\n\nc901,Dup,(212) 726-0181,,2026-12-01T10:00:00-05:00\n"
    )
    r = await api.post(
        "/campaigns/imp/contacts",
        files={"file": ("contacts.csv", bad, "text/csv")},
        headers=as_role("operator"),
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["imported"] == 50
    assert [(x["row"], x["reasons"][0]["code"]) for x in body["rejected"]] == [
        (52, "invalid_phone"),
        (54, "duplicate_phone"),
    ]
    assert body["blank_rows"] == [53]
    assert body["imported"] + len(body["rejected"]) + len(body["blank_rows"]) == body["rows"]
    assert await pg_pool.fetchval("SELECT count(*) FROM contacts WHERE campaign = 'imp'") == 50
    # the same file again: nothing new, every contact reported as already in the campaign
    again = (
        await api.post("/campaigns/imp/contacts", files={"file": ("contacts.csv", CSV)})
    ).json()
    assert again["imported"] == 0 and len(again["already_in_campaign"]) == 50
    status = (await api.get("/campaigns/imp")).json()
    assert status["contacts"] == {"pending": 50}


async def test_unreadable_contacts_file_is_a_clear_422(api: httpx.AsyncClient) -> None:
    await _create(api, "imp-bad")
    r = await api.post("/campaigns/imp-bad/contacts", files={"file": ("contacts.pdf", b"%PDF-1.4")})
    assert (r.status_code, r.json()["code"]) == (422, "contacts_file_invalid")
    missing = await api.post("/campaigns/nope/contacts", files={"file": ("c.csv", b"id,phone\n")})
    assert missing.status_code == 404


async def test_start_without_temporal_is_a_clear_503(api: httpx.AsyncClient) -> None:
    await _create(api, "no-temporal")
    await api.post("/campaigns/no-temporal/contacts", files={"file": ("c.csv", CSV)})
    r = await api.post("/campaigns/no-temporal/start")
    assert (r.status_code, r.json()["code"]) == (503, "temporal_not_configured")


async def test_steering_a_draft_campaign_is_refused(api: httpx.AsyncClient) -> None:
    await _create(api, "draft-only")
    # refused from the stored status, before any Temporal call (none is configured here)
    for action in ("pause", "resume", "stop"):
        r = await api.post(f"/campaigns/draft-only/{action}")
        assert (r.status_code, r.json()["code"]) == (409, "not_running")


async def test_call_detail_has_transcript_node_path_and_tools(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    await calls.start_call(pg_pool, "call-api-1", campaign="c1", contact="k1", phone="+12125550100")
    await calls.append_transcript(
        pg_pool,
        "call-api-1",
        [
            calls.Turn(0, "agent", "Hi Ann", node="greet"),
            calls.Turn(1, "caller", "yes", node="greet"),
        ],
    )
    await calls.record_tool_call(pg_pool, "call-api-1", "t1", name="lookup", arguments={"id": 1})
    await calls.end_call(
        pg_pool, "call-api-1", outcome="confirmed", node_path=["greet", "confirmed"]
    )
    listed = (await api.get("/calls", params={"campaign": "c1"})).json()
    assert [c["id"] for c in listed] == ["call-api-1"]
    detail = (await api.get("/calls/call-api-1")).json()
    assert detail["node_path"] == ["greet", "confirmed"]
    assert [(t["seq"], t["role"], t["node"]) for t in detail["transcript"]] == [
        (0, "agent", "greet"),
        (1, "caller", "greet"),
    ]
    assert [t["name"] for t in detail["tool_calls"]] == ["lookup"]
    missing = await api.get("/calls/none")
    assert (missing.status_code, missing.json()["code"]) == (404, "call_not_found")


async def test_dnc_crud_normalises_numbers(api: httpx.AsyncClient) -> None:
    first = await api.put("/dnc/(212) 726-0199", json={"reason": "asked on the phone"})
    assert first.status_code == 201
    assert first.json()["phone"] == "+12127260199"
    assert first.json()["source"] == "api"
    again = await api.put("/dnc/+1 212 726 0199")
    assert again.status_code == 200 and again.json()["reason"] == "asked on the phone"
    assert (await api.get("/dnc/2127260199")).status_code == 200
    assert "+12127260199" in [e["phone"] for e in (await api.get("/dnc")).json()]
    bad = await api.put("/dnc/12")
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_phone")
    assert (await api.delete("/dnc/+12127260199")).status_code == 204
    assert (await api.delete("/dnc/+12127260199")).status_code == 404
    assert (await api.get("/dnc/+12127260199")).status_code == 404


async def test_calls_filter_by_phone_and_date_range_and_list_their_facets(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    from datetime import UTC, datetime

    for call_id, campaign, phone, day, outcome in (
        ("f-1", "nov", "+12125550100", 1, "confirmed"),
        ("f-2", "nov", "+12125550177", 2, "busy"),
        ("f-3", "dec", "+33142685300", 3, "confirmed"),
    ):
        at = datetime(2026, 11, day, 12, tzinfo=UTC)
        await calls.start_call(pg_pool, call_id, campaign=campaign, phone=phone, started_at=at)
        await calls.end_call(pg_pool, call_id, outcome=outcome, node_path=[])

    async def ids(**params: str) -> list[str]:
        return [c["id"] for c in (await api.get("/calls", params=params)).json()]

    assert await ids(phone="5550177") == ["f-2"]
    assert await ids(since="2026-11-02T00:00:00Z", before="2026-11-03T00:00:00Z") == ["f-2"]
    assert await ids(since="2026-11-02T00:00:00Z", before="2026-11-30T00:00:00Z") == [
        "f-3",
        "f-2",
    ]
    assert await ids(outcome="confirmed", campaign="nov") == ["f-1"]
    assert await ids(phone="0000") == []
    facets = (await api.get("/calls/facets")).json()
    assert {"nov", "dec"} <= set(facets["campaigns"])
    assert {"confirmed", "busy"} <= set(facets["outcomes"])
