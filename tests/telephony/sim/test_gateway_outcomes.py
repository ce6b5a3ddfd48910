"""AsteriskGateway against the simulated PBX: every scripted result maps to the outcome vocabulary."""

import asyncio
import contextlib
import uuid

import pytest

from dsl.outcomes import TelephonyOutcome as T
from telephony.gateway import DialRequest
from telephony.sim import read_log


def _request(number, **kw):
    return DialRequest(
        str(uuid.uuid4()), number, ring_timeout_ms=kw.pop("ring_timeout_ms", 300), **kw
    )


@pytest.mark.parametrize(
    ("number", "outcome", "cause"),
    [
        ("+15550100", T.BUSY, 17),
        ("+15550101", T.NO_ANSWER, 19),
        ("+15550102", T.CONGESTION, 34),
        ("+15550103", T.REJECTED, 21),
        ("+15550104", T.FAILED, 1),
    ],
)
async def test_unanswered_calls_end_in_their_telephony_outcome(
    gateway, pbx, number, outcome, cause
):
    request = _request(number)
    result = await gateway.place_call(request)
    assert (result.answered, result.outcome, result.cause) == (False, outcome, cause)
    events = [e async for e in gateway.events(request.attempt_id)]
    assert events[-1].kind == "hangup"
    assert events[-1].outcome == outcome
    records = [r for r in read_log(pbx.log.path) if r["attempt"] == request.attempt_id]
    assert [r["type"] for r in records] == ["originate", "hangup", "result"]
    assert records[0]["number"] == number


@pytest.mark.parametrize(
    ("number", "outcome"), [("+15550105", T.VOICEMAIL), ("+15550106", T.MACHINE)]
)
async def test_answering_machines_are_reported_from_amdstatus(
    gateway, audiosocket, number, outcome
):
    request = _request(number)
    result = await gateway.place_call(request)
    assert result.answered is True
    assert result.outcome == outcome
    assert "AMDSTATUS=MACHINE" in result.detail
    session = await audiosocket.accept(request.attempt_id, timeout=2)
    await session.hangup()


async def test_human_answer_carries_the_attempt_and_audiosocket_variables(
    gateway, pbx, audiosocket
):
    request = _request("+15550108", variables={"CAMPAIGN": "nov"})
    result = await gateway.place_call(request)
    assert (result.answered, result.outcome) == (True, None)
    call = pbx.calls[request.attempt_id]
    assert call.variables["VOXFLOW_ATTEMPT"] == request.attempt_id
    assert call.variables["VOXFLOW_AUDIOSOCKET"] == audiosocket.address_text
    assert call.variables["CAMPAIGN"] == "nov"
    session = await audiosocket.accept(request.attempt_id, timeout=2)
    assert session.call_id == request.attempt_id
    await gateway.hangup(request.attempt_id)
    await asyncio.wait_for(session.closed.wait(), 2)
    events = [e async for e in gateway.events(request.attempt_id)]
    assert [e.kind for e in events] == ["ringing", "answered", "hangup"]
    assert events[-1].cause == 16


async def test_transfer_redirects_the_channel_and_ends_the_media(gateway, pbx, audiosocket):
    request = _request("+15550108")
    await gateway.place_call(request)
    session = await audiosocket.accept(request.attempt_id, timeout=2)
    await gateway.transfer(request.attempt_id, "1000")
    await asyncio.wait_for(session.closed.wait(), 2)
    assert pbx.calls[request.attempt_id].transferred_to == "1000@voxflow-transfer"
    assert any(
        r["type"] == "redirect" and r["to"] == "1000@voxflow-transfer"
        for r in read_log(pbx.log.path)
    )


async def test_dtmf_is_played_to_the_callee(gateway, pbx, audiosocket):
    request = _request("+15550108")
    await gateway.place_call(request)
    await gateway.send_dtmf(request.attempt_id, "1#")
    assert pbx.calls[request.attempt_id].dtmf_played == ["1", "#"]
    await gateway.hangup(request.attempt_id)


async def test_calls_beyond_the_concurrency_limit_get_congestion(gateway, pbx, audiosocket):
    held = [_request("+15550108") for _ in range(3)]
    results = await asyncio.gather(*(gateway.place_call(r) for r in held))
    assert all(r.answered for r in results)
    extra = await gateway.place_call(_request("+15550108"))
    assert (extra.answered, extra.outcome, extra.cause) == (False, T.CONGESTION, 34)
    for request in held:
        await gateway.hangup(request.attempt_id)


async def test_callee_hangs_up_mid_call_and_presses_keys(gateway, pbx, audiosocket):
    from telephony.audio import AudioFrame
    from telephony.audio.simspeech import SimSpeechDecoder, encode
    from telephony.audiosocket import Dtmf

    request = _request("+15550107", ring_timeout_ms=2000)
    result = await gateway.place_call(request)
    assert result.answered
    session = await audiosocket.accept(request.attempt_id, timeout=2)
    await session.play(AudioFrame(encode("Hi, this is Ava from the clinic."), 8000))
    session.end_response()
    decoder, heard, digits = SimSpeechDecoder(), [], []
    async for item in session.incoming():
        if isinstance(item, Dtmf):
            digits.append(item.digit)
            continue
        for text in decoder.feed(item.pcm):
            heard.append(text)
            await session.play(AudioFrame(encode("Sorry to bother you."), 8000))
            session.end_response()
    assert heard == ["Hello, who is this?", "Please stop calling me."]
    assert digits == ["4", "2"]
    assert session.close_reason == "remote_hangup"
    assert pbx.calls[request.attempt_id].media.ended_by == "callee"
    events = [e async for e in gateway.events(request.attempt_id)]
    assert [e.kind for e in events] == ["ringing", "answered", "dtmf", "dtmf", "hangup"]
    assert [e.digit for e in events if e.kind == "dtmf"] == ["4", "2"]  # from AMI DTMFEnd
    assert events[-1].cause == 16


async def test_hung_up_calls_are_forgotten_once_their_events_are_no_longer_kept(
    ami_settings, audiosocket
):
    from telephony.ami.gateway import AsteriskGateway

    gw = await AsteriskGateway.connect(ami_settings, audiosocket.address_text, retain_s=0)
    try:
        busy = await gw.place_call(_request("+15550100"))
        assert not busy.answered
        answered = _request("+15550107")
        assert (await gw.place_call(answered)).answered
        session = await audiosocket.accept(answered.attempt_id, timeout=5)
        await session.hangup()
        for _ in range(1000):  # both hung up and nobody reads their events: let AMI catch up
            if not gw.tracked_calls:
                break
            await asyncio.sleep(0.01)
        assert gw.tracked_calls == 0
        assert [e async for e in gw.events(answered.attempt_id)] == []
    finally:
        await gw.close()


async def test_a_hung_up_calls_events_stay_readable_while_retained(gateway, pbx):
    request = _request("+15550100")
    await gateway.place_call(request)
    await asyncio.sleep(0.05)
    assert gateway.tracked_calls == 1  # retained for later readers (default 300 s)
    events = [e async for e in gateway.events(request.attempt_id)]
    assert events[-1].kind == "hangup" and gateway.tracked_calls == 0


async def test_pjsip_failures_report_reason_0_and_then_the_cause(ami_settings, pbx):
    """As Asterisk 22 on PJSIP: Reason 0 first, HangupRequest and Hangup with the cause after."""
    from telephony.ami.client import AmiClient

    client = AmiClient(ami_settings)
    seen: list[tuple[str, str]] = []
    client.add_listener(lambda m: seen.append((m.get("Event", ""), m.get("Cause", ""))))
    await client.start()
    try:
        attempt = str(uuid.uuid4())
        reply = await client.send(
            {
                "Action": "Originate",
                "Channel": "PJSIP/+15550100@voxflow-trunk",
                "Context": "voxflow-outbound",
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": attempt,
            }
        )
        assert (reply[1]["Response"], reply[1]["Reason"]) == ("Failure", "0")
        for _ in range(100):
            if ("Hangup", "17") in seen:
                break
            await asyncio.sleep(0.01)
        ends = [e for e in seen if e[0] in ("HangupRequest", "Hangup")]
        assert ends == [("HangupRequest", "17"), ("Hangup", "17")]
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("number", "reason", "outcome"),
    [("+15550100", "5", T.BUSY), ("+15550102", "8", T.CONGESTION)],
)
async def test_local_channels_report_busy_and_congestion_in_the_reason(
    ami_settings, pbx, audiosocket, number, reason, outcome
):
    from telephony.ami.gateway import AsteriskGateway

    gw = await AsteriskGateway.connect(
        ami_settings, audiosocket.address_text, channel_template="Local/{number}@callees"
    )
    try:
        result = await gw.place_call(_request(number))
        assert (result.answered, result.outcome) == (False, outcome)
        assert result.detail.startswith(f"Reason {reason}")
    finally:
        await gw.close()


async def _until(messages: list, check) -> dict:
    while True:
        found = next((m for m in messages if check(m)), None)
        if found is not None:
            return found
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("by", ["attempt id", "gateway"])
async def test_a_ringing_call_given_up_is_hung_up(gateway, pbx, by):
    """As on a real Asterisk (``tests/asterisk/test_outbound.py``, same name): the dial
    activity whose workflow went away cancels its originate's wait and hangs the ringing
    channel up, by its name or by the attempt id alone (its Uniqueid); the phone stops
    ringing with cause 16 and no result."""
    seen: list = []
    gateway.client.add_listener(seen.append)
    request = _request("+15550101", ring_timeout_ms=60_000)
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
    assert hangup.get("Cause") == "16"
    records = [r for r in read_log(pbx.log.path) if r["attempt"] == ours]
    assert [(r["type"], r.get("cause")) for r in records] == [("originate", None), ("hangup", 16)]
    assert pbx.live_calls() == 0
