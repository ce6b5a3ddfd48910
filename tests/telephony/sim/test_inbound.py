"""Inbound calls from the simulated PBX: the AMI events Asterisk's inbound context emits, a fresh
AudioSocket UUID nobody expected, a scripted caller; the gateway maps the UUID to the caller."""

import asyncio

from panoramisk.message import Message

from telephony.audiosocket import codec
from telephony.sim import parse_scenarios, read_log
from telephony.sim.scenarios import Callee, Step


async def _kinds(events):
    return [e.kind async for e in events]


async def _next_session(server):
    return await asyncio.wait_for(anext(aiter(server.sessions())), 5)


async def test_inbound_call_reaches_sessions_and_the_gateway_knows_its_caller(
    pbx, audiosocket, gateway
):
    script = Callee(
        script=(Step("wait", ms=300), Step("dtmf", text="1"), Step("wait", ms=300), Step("hangup"))
    )
    call = pbx.place_inbound(
        audiosocket.address_text, caller="+33155550100", did="+15550123", script=script
    )
    session = await _next_session(audiosocket)
    assert session.call_id == call.attempt_id
    channel = await gateway.inbound_channel(call.attempt_id, timeout=2)
    assert channel is not None
    assert (channel.call_id, channel.caller, channel.did) == (
        call.attempt_id,
        "+33155550100",
        "15550123",  # the `_+X.` extension drops the plus before the inbound context runs
    )
    assert channel.channel == call.channel and channel.uniqueid == call.uniqueid
    assert channel.uniqueid != call.attempt_id
    events = asyncio.create_task(_kinds(gateway.events(call.attempt_id)))
    incoming = [item async for item in session.incoming()]
    assert [i.digit for i in incoming if isinstance(i, codec.Dtmf)] == ["1"]
    assert await asyncio.wait_for(events, 5) == ["dtmf", "hangup"]
    await call.ended.wait()
    assert call.cause == 16 and call.media.ended_by == "callee"
    records = [r for r in read_log(pbx.log.path) if r["attempt"] == call.attempt_id]
    assert [r["type"] for r in records] == ["inbound", "hangup"]
    assert (records[0]["number"], records[0]["did"]) == ("+33155550100", "+15550123")


async def test_withheld_caller_id_is_unknown(pbx, audiosocket, gateway):
    call = pbx.place_inbound(
        audiosocket.address_text, caller="+33155550100", did="100", caller_id=False
    )
    session = await _next_session(audiosocket)
    channel = await gateway.inbound_channel(session.call_id, timeout=2)
    assert channel is not None and channel.caller == "unknown"
    await session.hangup()
    await call.ended.wait()
    assert call.media.ended_by == "agent"


async def test_inbound_caller_runs_the_scenario_of_its_own_number(tmp_path, audiosocket):
    from telephony.sim import SimPBX

    scenarios = parse_scenarios({"numbers": {"+15550177": {"script": [{"say": "Hello there"}]}}})
    async with SimPBX(scenarios, log_path=tmp_path / "sim.jsonl") as sim:
        call = sim.place_inbound(audiosocket.address_text, caller="+15550177", did="+15550100")
        session = await _next_session(audiosocket)
        await session.hangup()
        await call.ended.wait()
    assert call.media.said == []  # the script's `say` waits for the agent, who said nothing
    assert call.media.ended_by == "agent"


async def test_an_inbound_call_can_be_transferred_by_its_audiosocket_uuid(
    pbx, audiosocket, gateway
):
    call = pbx.place_inbound(audiosocket.address_text, caller="+15550177", did="+15550100")
    session = await _next_session(audiosocket)
    assert await gateway.inbound_channel(session.call_id, timeout=2) is not None
    await gateway.transfer(session.call_id, "100")
    await call.ended.wait()
    assert call.transferred_to == "100@voxflow-transfer"
    redirects = [r for r in read_log(pbx.log.path) if r["type"] == "redirect"]
    assert [(r["attempt"], r["to"]) for r in redirects] == [
        (call.attempt_id, "100@voxflow-transfer")
    ]


async def test_an_originated_channel_is_not_taken_for_an_inbound_call(gateway):
    attempt = "0f8e2d7c-5a1b-4c3d-9e8f-7a6b5c4d3e2f"
    gateway._on_event(
        Message(
            {
                "Event": "VarSet",
                "Variable": "VOXFLOW_ATTEMPT",
                "Value": attempt,
                "Uniqueid": attempt,  # Originate's ChannelId
                "Channel": "PJSIP/+15550100@voxflow-trunk-00000001",
                "CallerIDNum": "+15550100",
            }
        )
    )
    assert await gateway.inbound_channel(attempt, timeout=0.05) is None


async def test_the_inbound_channel_is_forgotten_when_it_hangs_up(pbx, audiosocket, gateway):
    call = pbx.place_inbound(audiosocket.address_text, caller="+15550177", did="+15550100")
    session = await _next_session(audiosocket)
    assert await gateway.inbound_channel(session.call_id, timeout=2) is not None
    await session.hangup()
    await call.ended.wait()
    await asyncio.sleep(0.1)  # the Hangup event travels over AMI
    assert await gateway.inbound_channel(session.call_id, timeout=0.05) is None


async def test_an_ami_originate_into_the_inbound_context_places_an_inbound_call(
    pbx, audiosocket, gateway
):
    ami = gateway.client
    reply = await ami.send({"Action": "Originate", "Channel": "Local/+15550100@voxflow-inbound",
                            "Application": "Wait", "Data": "1"})  # fmt: skip
    assert reply.get("Response") == "Error"  # no [globals] target yet
    reply = await ami.send({"Action": "Setvar", "Variable": "VOXFLOW_INBOUND_AUDIOSOCKET",
                            "Value": audiosocket.address_text})  # fmt: skip
    assert reply.success
    got = await ami.send({"Action": "Getvar", "Variable": "VOXFLOW_INBOUND_AUDIOSOCKET"})
    assert got.get("Value") == audiosocket.address_text
    reply = await ami.send({"Action": "Originate", "Channel": "Local/+15550100@voxflow-inbound",
                            "Application": "Wait", "Data": "1",
                            "CallerID": '"Ann" <+33155550100>'})  # fmt: skip
    assert reply.success
    session = await _next_session(audiosocket)
    channel = await gateway.inbound_channel(session.call_id, timeout=2)
    assert channel is not None and (channel.caller, channel.did) == ("+33155550100", "15550100")
    await session.hangup()
    await pbx.calls[session.call_id].ended.wait()
