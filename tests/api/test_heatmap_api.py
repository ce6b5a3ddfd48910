"""``GET /flows/{name}/heatmap``: the numbers of stored calls, for a campaign or a time range,
every version of the flow, and clear errors for what cannot be answered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
import pytest

from dsl import compile_source
from runtime.call.result import TimedVisit
from runtime.db import calls
from runtime.db.campaigns import create_campaign
from runtime.db.flows import save_flow

from .conftest import as_role

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _reminder(edit: str = ""):
    source = (REPO / "flows" / "reminder.flow").read_text()
    if edit:
        source = source.replace("Be warm and brief", edit)
    return compile_source(source, file="reminder.flow").unwrap()


async def _call(
    pool: asyncpg.Pool,
    call_id: str,
    flow_hash: str,
    campaign: str | None,
    visits: list[TimedVisit],
    *,
    outcome: str,
    ended_by: str,
    at: datetime = T0,
) -> None:
    await calls.start_call(pool, call_id, campaign=campaign, flow_hash=flow_hash, started_at=at)
    await calls.end_call(
        pool,
        call_id,
        outcome=outcome,
        node_path=[v.node for v in visits],
        visits=[v.as_json() for v in visits],
        ended_by=ended_by,
        ended_at=at + timedelta(seconds=30),
    )


def v(node: str, ms: int, nm: int = 0, sil: int = 0, rep: int = 0) -> TimedVisit:
    return TimedVisit(node, "via", 0, ms, no_matches=nm, silences=sil, reprompts=rep)


@pytest.fixture
async def stored(pg_pool: asyncpg.Pool, pg_url: str) -> dict[str, str]:
    """Campaign ``nov`` (4 calls), campaign ``dec`` on an edited version (1 call, a day
    later), a live call and a call of another flow that never count. (The module shares one
    database: each test starts from none.)"""
    # TRUNCATE is the owner's (the pool acts as voxflow_app, under row-level security).
    owner = await asyncpg.connect(pg_url)
    try:
        await owner.execute("TRUNCATE calls, contacts, campaigns CASCADE")
    finally:
        await owner.close()
    nov_flow, dec_flow = _reminder(), _reminder("Be kind and brief")
    nov, dec = await save_flow(pg_pool, nov_flow), await save_flow(pg_pool, dec_flow)
    other = await save_flow(pg_pool, compile_source((REPO / "flows" / "nps.flow").read_text(),
                                                    file="nps.flow").unwrap())  # fmt: skip
    await create_campaign(pg_pool, "nov", nov)
    await create_campaign(pg_pool, "dec", dec)
    await create_campaign(pg_pool, "nps", other)
    greet_ok = [v("greet", 4000), v("confirmed", 2000)]
    await _call(pg_pool, "a1", nov, "nov", greet_ok, outcome="confirmed", ended_by="agent")
    await _call(pg_pool, "a2", nov, "nov", [v("greet", 8000, nm=1, sil=1, rep=2),
                v("reschedule", 3000)], outcome="rescheduled", ended_by="agent")  # fmt: skip
    await _call(pg_pool, "a3", nov, "nov", [v("greet", 6000, sil=2, rep=2)],
                outcome="hung_up", ended_by="caller")  # fmt: skip
    await _call(pg_pool, "a4", nov, "nov", [], outcome="failed", ended_by="agent")
    await _call(pg_pool, "b1", dec, "dec", [v("greet", 2000), v("confirmed", 1000)],
                outcome="confirmed", ended_by="agent", at=T0 + timedelta(days=1))  # fmt: skip
    await calls.start_call(pg_pool, "live", campaign="nov", flow_hash=nov, started_at=T0)
    await _call(pg_pool, "n1", other, "nps", [v("greet", 1000)], outcome="done", ended_by="agent")
    return {"nov": nov, "dec": dec}


async def test_campaign_heat_map_counts_its_finished_calls(
    api: httpx.AsyncClient, stored: dict[str, str]
) -> None:
    got = await api.get("/flows/reminder/heatmap", params={"campaign": "nov"})

    assert got.status_code == 200, got.text
    body = got.json()
    assert (body["flow"], body["flow_hash"], body["campaign"]) == ("reminder", stored["nov"], "nov")
    assert (body["calls"], body["answered"], body["versions"]) == (4, 3, {stored["nov"]: 4})
    nodes = {n["node"]: n for n in body["nodes"]}
    assert [n["node"] for n in body["nodes"]] == ["greet", "confirmed", "reschedule"]
    greet = nodes["greet"]
    assert (greet["visits"], greet["calls"], greet["drop_offs"]) == (3, 3, 1)
    assert (greet["no_matches"], greet["silences"], greet["reprompts"]) == (1, 3, 4)
    assert greet["drop_off_rate"] == pytest.approx(1 / 3)
    assert greet["no_match_rate"] == pytest.approx(1 / 3)
    assert greet["reprompt_rate"] == pytest.approx(4 / 3)
    assert (greet["timed_visits"], greet["mean_ms"]) == (3, pytest.approx(6000))
    assert nodes["confirmed"]["drop_offs"] == 0 and nodes["confirmed"]["mean_ms"] == 2000
    assert body["edges"] == [
        {"source": "greet", "target": "confirmed", "count": 1},
        {"source": "greet", "target": "reschedule", "count": 1},
    ]


async def test_time_range_counts_every_version_of_the_flow(
    api: httpx.AsyncClient, stored: dict[str, str]
) -> None:
    everything = (await api.get("/flows/reminder/heatmap")).json()
    day_two = await api.get(
        "/flows/reminder/heatmap",
        params={"since": (T0 + timedelta(hours=12)).isoformat(), "until": "2026-12-01T00:00:00Z"},
    )

    assert everything["calls"] == 5
    assert everything["versions"] == {stored["nov"]: 4, stored["dec"]: 1}
    assert everything["flow_hash"] == stored["dec"]  # the version of the latest call
    assert {n["node"]: n["visits"] for n in everything["nodes"]}["confirmed"] == 2
    body = day_two.json()
    assert (body["calls"], body["versions"]) == (1, {stored["dec"]: 1})
    assert body["edges"] == [{"source": "greet", "target": "confirmed", "count": 1}]


async def test_designers_and_operators_read_it_and_no_key_is_refused(
    api: httpx.AsyncClient, stored: dict[str, str]
) -> None:
    for role in ("designer", "operator"):
        got = await api.get("/flows/reminder/heatmap", headers=as_role(role))
        assert got.status_code == 200
    anonymous = await api.get("/flows/reminder/heatmap", headers={"X-API-Key": ""})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "missing_api_key")


@pytest.mark.parametrize(
    ("params", "status", "code", "says"),
    [
        ({}, 404, "flow_not_found", "no stored flow has agent 'nobody'"),
        ({"campaign": "jan"}, 404, "campaign_not_found", "no campaign 'jan'"),
        ({"campaign": "nps"}, 422, "invalid_request", "does not run flow 'reminder'"),
        (
            {"since": "2026-11-24T00:00:00Z", "until": "2026-11-23T00:00:00Z"},
            422,
            "invalid_request",
            "must be before until",
        ),  # fmt: skip
        ({"since": "2026-11-24T00:00:00"}, 422, "invalid_request", "needs a time zone"),
        ({"until": "tomorrow"}, 422, "invalid_request", "until"),
    ],
)
async def test_what_cannot_be_answered_says_why(
    api: httpx.AsyncClient,
    stored: dict[str, str],
    params: dict[str, str],
    status: int,
    code: str,
    says: str,
) -> None:
    flow = "nobody" if code == "flow_not_found" else "reminder"

    got = await api.get(f"/flows/{flow}/heatmap", params=params)

    assert (got.status_code, got.json()["code"]) == (status, code)
    assert says in str(got.json())
