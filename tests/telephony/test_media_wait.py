"""An answered call whose media never comes ends with its channel, not after a media timeout."""

import time
import uuid

import pytest

from dsl.outcomes import BuiltinOutcome
from telephony.gateway import DialRequest
from telephony.media_wait import ChannelGone, wait_for_media


async def test_a_callee_who_hangs_up_during_amd_is_hung_up_not_answered(gateway, audiosocket):
    request = DialRequest(str(uuid.uuid4()), "+15550111", ring_timeout_ms=300)
    result = await gateway.place_call(request)
    assert result.answered
    assert result.outcome == BuiltinOutcome.HUNG_UP
    assert "AMDSTATUS=HANGUP" in result.detail
    started = time.monotonic()
    with pytest.raises(ChannelGone):
        await wait_for_media(audiosocket, gateway, request.attempt_id, 30)
    assert time.monotonic() - started < 1.0
    assert audiosocket.active() == {}  # the dialplan never reached AudioSocket()


async def test_media_that_never_connects_ends_when_the_channel_hangs_up(gateway, audiosocket):
    # The answered channel's AudioSocket() cannot connect (nothing listens there): Asterisk
    # ends the channel, and the wait ends with it, well within 2 s.
    request = DialRequest(
        str(uuid.uuid4()),
        "+15550108",
        ring_timeout_ms=300,
        detect_machine=False,
        audiosocket="127.0.0.1:9",
    )
    assert (await gateway.place_call(request)).answered
    beats = []
    started = time.monotonic()
    with pytest.raises(ChannelGone) as gone:
        await wait_for_media(
            audiosocket, gateway, request.attempt_id, 30, heartbeat=lambda: beats.append(1)
        )
    assert time.monotonic() - started < 2.0
    assert gone.value.cause == 38
    assert beats


async def test_the_wait_heartbeats_until_the_media_comes(gateway, audiosocket):
    request = DialRequest(str(uuid.uuid4()), "+15550108", ring_timeout_ms=300, detect_machine=False)
    beats = []
    assert (await gateway.place_call(request)).answered
    session = await wait_for_media(
        audiosocket,
        gateway,
        request.attempt_id,
        30,
        heartbeat=lambda: beats.append(time.monotonic()),
        heartbeat_every=0.01,
    )
    assert session.call_id == request.attempt_id and beats
    await session.hangup()


async def test_without_a_gateway_only_the_timeout_ends_the_wait(audiosocket):
    with pytest.raises(TimeoutError):
        await wait_for_media(audiosocket, None, str(uuid.uuid4()), 0.2)
