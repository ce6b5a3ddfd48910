"""Outbound calls over a real Asterisk 22: the gateway's outcomes against what it really sends."""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import pytest

from dsl.outcomes import BuiltinOutcome as B
from dsl.outcomes import TelephonyOutcome as T
from telephony.ami import AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest

PJSIP_FAILURES = [("486", T.BUSY, 17), ("503", T.CONGESTION, 34), ("403", T.REJECTED, 21),
                  ("404", T.FAILED, 1)]  # fmt: skip


def _request(number: str, **kw) -> DialRequest:
    kw.setdefault("detect_machine", False)
    kw.setdefault("ring_timeout_ms", 5000)
    return DialRequest(str(uuid.uuid4()), number, **kw)


@pytest.fixture
async def audiosocket():
    async with AudioSocketServer() as server:
        yield server


@pytest.fixture
async def gateway(ami_settings, audiosocket):
    gw = await AsteriskGateway.connect(ami_settings, audiosocket.address_text, amd_wait=8.0)
    yield gw
    await gw.close()


@pytest.mark.parametrize(("number", "outcome", "cause"), PJSIP_FAILURES)
async def test_a_failed_pjsip_call_is_told_apart_by_its_cause(gateway, number, outcome, cause):
    result = await gateway.place_call(_request(number))
    assert (result.answered, result.outcome, result.cause) == (False, outcome, cause)
    assert result.detail.startswith("Reason 0")


LOCAL_FAILURES = [("486", T.BUSY, "Reason 5"), ("503", T.CONGESTION, "Reason 8"),
                  ("403", T.REJECTED, "Reason 0"), ("404", T.FAILED, "Reason 0")]  # fmt: skip


@pytest.fixture
async def local_gateway(ami_settings, audiosocket):
    gw = await AsteriskGateway.connect(
        ami_settings, audiosocket.address_text, channel_template="Local/{number}@callees-local"
    )
    yield gw
    await gw.close()


@pytest.mark.parametrize(("number", "outcome", "reason"), LOCAL_FAILURES)
async def test_a_failed_local_call_reports_busy_and_congestion_in_its_reason(
    local_gateway, number, outcome, reason
):
    result = await local_gateway.place_call(_request(number))
    assert (result.answered, result.outcome) == (False, outcome)
    assert result.detail.startswith(reason)


@pytest.mark.parametrize("tech", ["pjsip", "local"])
async def test_a_call_nobody_answers_is_no_answer(gateway, local_gateway, tech):
    gw = gateway if tech == "pjsip" else local_gateway
    result = await gw.place_call(_request("180", ring_timeout_ms=1500))
    assert (result.answered, result.outcome, result.cause) == (False, T.NO_ANSWER, 19)
    assert result.detail.startswith("Reason 3")


async def _until(messages: list, check) -> dict:
    while True:
        found = next((m for m in messages if check(m)), None)
        if found is not None:
            return found
        await asyncio.sleep(0.05)


@pytest.mark.parametrize("by", ["attempt id", "gateway"])
async def test_a_ringing_call_given_up_is_hung_up(gateway, by):
    """What the dial activity does when its workflow went away while the phone rang
    (``activities/dial.py``): its originate's wait is cancelled, then the channel hung up,
    by its name as the gateway does, or by the attempt id alone (the ``ChannelId``: Asterisk
    finds a channel by its Uniqueid too), as the gateway does before any event named it."""
    seen: list = []
    gateway.client.add_listener(seen.append)
    request = _request("180", ring_timeout_ms=60_000)
    ours = request.attempt_id
    dialling = asyncio.create_task(gateway.place_call(request))
    await _until(seen, lambda m: m.get("Uniqueid") == ours and m.get("ChannelState") == "5")
    dialling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await dialling
    if by == "gateway":
        await gateway.hangup(ours)
    else:
        reply = await gateway.client.send({"Action": "Hangup", "Channel": ours, "Cause": "16"})
        assert reply.success, reply
    hangup = await _until(seen, lambda m: m.get("Event") == "Hangup" and m.get("Uniqueid") == ours)
    await asyncio.sleep(1)  # whatever else Asterisk says about the originate
    said = [(m.get("Event"), m.get("Reason") or m.get("Cause")) for m in seen
            if m.get("Uniqueid") == ours or m.get("Event") == "OriginateResponse"]  # fmt: skip
    print(f"\n{by}: hangup cause {hangup.get('Cause')}; events {said}")
    assert hangup.get("Cause") == "16"


async def test_many_failed_originates_get_their_outcome_every_time(gateway, local_gateway):
    """The race the issue saw (5-6 of 48 PJSIP failures taken for ``failed``), counted."""
    plan = [(gateway, n, o) for _ in range(13) for n, o, _ in PJSIP_FAILURES]
    plan += [(local_gateway, n, o) for _ in range(5) for n, o, _ in LOCAL_FAILURES]
    wrong = []
    for start in range(0, len(plan), 4):  # four at a time, as a campaign would overlap them
        batch = plan[start : start + 4]
        results = await asyncio.gather(*(gw.place_call(_request(n)) for gw, n, _ in batch))
        wrong += [(n, r.outcome, r.detail) for (_, n, o), r in zip(batch, results, strict=True)
                  if r.outcome != o]  # fmt: skip
    print(f"\nfailed originates: {len(plan)}, wrong outcomes: {len(wrong)} {wrong}")
    assert len(plan) >= 50 and wrong == []


async def test_an_answered_call_reaches_audiosocket_and_hangs_up(gateway, audiosocket):
    request = _request("3001")
    result = await gateway.place_call(request)
    assert (result.answered, result.outcome) == (True, None)
    session = await audiosocket.accept(request.attempt_id, timeout=5)
    frames = 0
    async for _ in session.incoming():
        frames += 1
        if frames == 25:
            break
    await gateway.hangup(request.attempt_id)
    await asyncio.wait_for(session.closed.wait(), 5)
    events = [e async for e in gateway.events(request.attempt_id)]
    assert [e.kind for e in events][-1] == "hangup"


@pytest.mark.parametrize(
    ("number", "outcome", "cause"),
    [("3001", None, "HUMAN-"), ("3003", T.MACHINE, "INITIALSILENCE-2500-2500"),
     ("3002", T.VOICEMAIL, "LONGGREETING-")],
)  # fmt: skip
async def test_amd_on_a_real_asterisk(gateway, audiosocket, number, outcome, cause):
    request = _request(number, detect_machine=True)
    result = await gateway.place_call(request)
    assert result.answered and result.outcome == outcome
    assert f"AMDCAUSE={cause}" in result.detail
    session = await audiosocket.accept(request.attempt_id, timeout=5)
    await session.hangup()


async def test_a_callee_who_hangs_up_during_amd_is_hung_up_and_gets_no_audiosocket(
    gateway, audiosocket
):
    from telephony.media_wait import ChannelGone, wait_for_media

    request = _request("3004", detect_machine=True)
    result = await gateway.place_call(request)
    assert (result.answered, result.outcome) == (True, B.HUNG_UP)
    assert "AMDSTATUS=HANGUP" in result.detail
    with pytest.raises(ChannelGone):
        await wait_for_media(audiosocket, gateway, request.attempt_id, 2.0)
    await asyncio.sleep(0.5)
    assert audiosocket.active() == {}


async def test_a_machine_to_hang_up_never_reaches_audiosocket(gateway, audiosocket):
    request = _request("3003", detect_machine=True, hangup_machine=True)
    result = await gateway.place_call(request)
    assert result.outcome == T.MACHINE
    with pytest.raises(TimeoutError):
        await audiosocket.accept(request.attempt_id, timeout=1.5)


async def test_a_silent_call_stays_up_for_10s_with_keepalive(gateway, audiosocket):
    """3005 sends no frame at all (a line with silence suppression); only voxflow's
    keep-alive moves, and AudioSocket() keeps the call."""
    request = _request("3005")
    assert (await gateway.place_call(request)).answered
    session = await audiosocket.accept(request.attempt_id, timeout=5)
    await asyncio.sleep(10.0)
    assert not session.closed.is_set()
    await gateway.hangup(request.attempt_id)
    await asyncio.wait_for(session.closed.wait(), 5)


async def test_without_keepalive_asterisk_cuts_a_silent_call_after_2s(ami_settings):
    async with AudioSocketServer(keepalive=False) as quiet:
        gw = await AsteriskGateway.connect(ami_settings, quiet.address_text)
        try:
            request = _request("3005")
            assert (await gw.place_call(request)).answered
            session = await quiet.accept(request.attempt_id, timeout=5)
            started = asyncio.get_running_loop().time()
            await asyncio.wait_for(session.closed.wait(), 6)
            assert 1.5 < asyncio.get_running_loop().time() - started < 3.0
            assert session.close_reason == "remote_hangup"  # closed, no 0x00 message
        finally:
            await gw.close()
