"""The simulated PBX keeps AudioSocket()'s 2 s rule: no frame either way ends the call."""

import asyncio
import time
import uuid

from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest


def _request(number, audiosocket=None):
    return DialRequest(
        str(uuid.uuid4()),
        number,
        ring_timeout_ms=300,
        detect_machine=False,
        audiosocket=audiosocket,
    )


async def test_a_silent_line_stays_up_while_voxflow_sends_keepalive(gateway, pbx, audiosocket):
    request = _request("+15550110")
    assert (await gateway.place_call(request)).answered
    session = await audiosocket.accept(request.attempt_id, timeout=2)
    await asyncio.sleep(3.0)  # callee silent, agent silent: only the keep-alive moves
    assert not session.closed.is_set()
    assert not pbx.calls[request.attempt_id].ended.is_set()
    assert session.silence_frames >= 140
    await session.hangup()


async def test_a_line_with_no_frame_either_way_for_2s_is_cut_by_the_pbx(gateway, pbx):
    async with AudioSocketServer(keepalive=False) as quiet:
        request = _request("+15550110", audiosocket=quiet.address_text)
        assert (await gateway.place_call(request)).answered
        session = await quiet.accept(request.attempt_id, timeout=2)
        started = time.monotonic()
        await asyncio.wait_for(session.closed.wait(), 5)
        assert 1.8 <= time.monotonic() - started <= 2.6
        # closed by the PBX without a hang-up message, as Asterisk does
        assert session.close_reason == "remote_hangup"
        assert pbx.calls[request.attempt_id].media.ended_by == "inactivity"
        events = [e async for e in gateway.events(request.attempt_id)]
        assert events[-1].kind == "hangup"
