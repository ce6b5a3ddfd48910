"""Which flow answers an inbound call, checked when the worker starts; and the held media of
an inbound call that no conversation claims."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from runtime import tenancy
from runtime.call.inbound import CallMedia, compile_inbound_flows
from runtime.db.flows import load_flow
from runtime.db.tenants import create_tenant
from runtime.settings import SettingsError, load_settings
from telephony.audiosocket import AudioSocketServer
from telephony.audiosocket.client import AudioSocketClient

ROOT = Path(__file__).resolve().parents[2]
MENU = ROOT / "flows" / "dtmf_menu.flow"
SUPPORT = ROOT / "flows" / "support.flow.yaml"


def test_routes_pick_a_flow_by_dialled_number_and_fall_back_to_the_default() -> None:
    settings = load_settings(
        {"VOXFLOW_INBOUND_FLOW": str(MENU), "VOXFLOW_INBOUND_ROUTES": f"+15550177={SUPPORT}"}
    )
    flows = compile_inbound_flows(settings)
    assert flows.configured
    assert flows.for_number("15550177").agent.name == "support"  # Exten: no plus
    assert flows.for_number("+15550177").agent.name == "support"
    assert flows.for_number("15550100").agent.name == "front_desk"
    assert flows.for_number("").agent.name == "front_desk"


def test_without_a_default_an_unrouted_number_has_no_flow() -> None:
    flows = compile_inbound_flows(load_settings({"VOXFLOW_INBOUND_ROUTES": f"200={MENU}"}))
    assert flows.for_number("200") is not None and flows.for_number("201") is None


def test_nothing_configured_means_no_inbound_flow() -> None:
    assert not compile_inbound_flows(load_settings({})).configured


def test_every_flow_that_does_not_compile_is_named_at_once(tmp_path: Path) -> None:
    broken = tmp_path / "broken.flow"
    broken.write_text("agent x\n  start nowhere\n")
    missing = tmp_path / "missing.flow.yaml"
    settings = load_settings(
        {"VOXFLOW_INBOUND_FLOW": str(broken), "VOXFLOW_INBOUND_ROUTES": f"+15550177={missing}"}
    )
    with pytest.raises(SettingsError) as err:
        compile_inbound_flows(settings)
    problems = err.value.problems
    assert [p.env for p in problems] == ["VOXFLOW_INBOUND_FLOW", "VOXFLOW_INBOUND_ROUTES"]
    assert str(broken) in problems[0].message and "VF" in problems[0].message
    assert str(missing) in problems[1].message and "VF101" in problems[1].message


def test_a_flow_that_needs_contact_columns_cannot_answer_inbound_calls() -> None:
    survey = ROOT / "flows" / "survey.flow"
    with pytest.raises(SettingsError) as err:
        compile_inbound_flows(load_settings({"VOXFLOW_INBOUND_FLOW": str(survey)}))
    [problem] = err.value.problems
    assert problem.env == "VOXFLOW_INBOUND_FLOW"
    for name in ("contact.first_name", "contact.plan", "contact.months_as_customer"):
        assert name in problem.message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("+15550177", "is not 'number=flow file'"),
        ("sales=flows/a.flow", "is not a dialled number"),
        ("+15550177=a.flow,15550177=b.flow", "routed twice"),
        ("+15550177@Acme!=a.flow", "is not a tenant id"),
        ("+15550177=a.flow,15550177@acme=b.flow", "routed twice"),
    ],
)
def test_malformed_routes_are_a_settings_error(value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({"VOXFLOW_INBOUND_ROUTES": value})
    assert [p.env for p in err.value.problems] == ["VOXFLOW_INBOUND_ROUTES"]
    assert fragment in err.value.problems[0].message


async def test_inbound_flows_are_stored_by_hash(pg_pool) -> None:
    settings = load_settings(
        {"VOXFLOW_INBOUND_FLOW": str(MENU), "VOXFLOW_INBOUND_ROUTES": f"200={MENU},201={SUPPORT}"}
    )
    flows = compile_inbound_flows(settings)
    await flows.save(pg_pool)
    for flow in (flows.default, *flows.by_number.values()):
        stored = await load_flow(pg_pool, flow.hash)
        assert stored is not None and stored.hash == flow.hash


async def test_a_held_session_nobody_claims_is_hung_up() -> None:
    async with AudioSocketServer() as server:
        media = CallMedia(server, gateway=None, hold_s=0.2)
        host, port = server.address
        call_id = str(uuid.uuid4())
        client = await AudioSocketClient.connect(host, port, call_id)
        session = await asyncio.wait_for(anext(aiter(server.sessions())), 5)
        media.hold(session)
        assert media.held() == [call_id]
        await asyncio.wait_for(session.closed.wait(), 5)
        assert session.close_reason == "local_hangup" and media.held() == []
        await client.close()


async def test_a_held_session_goes_to_the_conversation_that_claims_it() -> None:
    async with AudioSocketServer() as server:
        media = CallMedia(server, gateway=None)
        host, port = server.address
        call_id = str(uuid.uuid4())
        client = await AudioSocketClient.connect(host, port, call_id)
        session = await asyncio.wait_for(anext(aiter(server.sessions())), 5)
        media.hold(session)
        assert await media.accept(call_id.upper(), timeout=1) is session
        assert media.held() == [] and not session.closed.is_set()
        await session.hangup()
        await client.close()


def test_a_route_may_give_its_number_to_a_tenant() -> None:
    settings = load_settings(
        {"VOXFLOW_INBOUND_FLOW": str(MENU), "VOXFLOW_INBOUND_ROUTES": f"+15550177@acme={SUPPORT}"}
    )
    flows = compile_inbound_flows(settings)
    assert flows.for_number("+15550177").agent.name == "support"
    assert (flows.tenant_for("15550177"), flows.tenant_for("+15550177")) == ("acme", "acme")
    assert flows.tenant_for("15550100") == flows.tenant_for("") == "default"


async def test_routed_flows_are_stored_in_their_tenant_which_must_exist(pg_pool) -> None:
    settings = load_settings({"VOXFLOW_INBOUND_ROUTES": f"300@flows-t={SUPPORT},301={MENU}"})
    flows = compile_inbound_flows(settings)
    with pytest.raises(SettingsError) as err:
        await flows.save(pg_pool)
    [problem] = err.value.problems
    assert problem.env == "VOXFLOW_INBOUND_ROUTES" and "flows-t" in problem.message
    with tenancy.acting_as(tenancy.PLATFORM):
        await create_tenant(pg_pool, "flows-t", name="T")
    await flows.save(pg_pool)
    support, menu = flows.by_number["300"].hash, flows.by_number["301"].hash
    with tenancy.acting_as("flows-t"):
        assert await load_flow(pg_pool, support) is not None
        assert await load_flow(pg_pool, menu) is None
    assert await load_flow(pg_pool, menu) is not None
