"""AMD decided from the callee's audio, as Asterisk's app_amd does with amd.conf's defaults."""

import asyncio
import uuid
from pathlib import Path

import pytest

from dsl.outcomes import BuiltinOutcome as B
from dsl.outcomes import TelephonyOutcome as T
from telephony.audio.simspeech import encode
from telephony.gateway import DialRequest
from telephony.sim import load_scenarios
from telephony.sim.amd import AmdAnalyser
from telephony.sim.callee import greeting_audio

DEMO = Path(__file__).resolve().parents[3] / "flows" / "demo" / "scenarios.yaml"


def _analyse(pcm: bytes, then_silence_ms: int = 6000):
    analyser = AmdAnalyser()
    pcm += bytes(16 * then_silence_ms)
    for start in range(0, len(pcm) - 319, 320):
        if (result := analyser.feed(pcm[start : start + 320])) is not None:
            return result
    raise AssertionError("no verdict")


def test_a_callee_waiting_in_silence_is_a_machine():
    result = _analyse(b"")
    assert (result.status, result.cause) == ("MACHINE", "INITIALSILENCE-2500-2500")


def test_a_short_hello_then_silence_is_a_human():
    result = _analyse(encode("Hello?"))
    assert (result.status, result.cause) == ("HUMAN", "HUMAN-800-800")


def test_a_greeting_longer_than_1500ms_is_a_machine():
    result = _analyse(greeting_audio("Hi, you have reached Sam.", 3000))
    assert (result.status, result.cause) == ("MACHINE", "LONGGREETING-1500-1500")


def test_a_line_that_sends_nothing_is_not_sure_with_no_audio_data():
    analyser = AmdAnalyser()
    results = [analyser.idle(20) for _ in range(250)]
    assert results[-2] is None
    assert (results[-1].status, results[-1].cause) == ("NOTSURE", "NOAUDIODATA-0")


def test_a_line_that_goes_quiet_after_a_frame_is_not_sure_with_the_time_frames_carried():
    analyser = AmdAnalyser()
    analyser.feed(encode("Hi!")[:320])
    results = [analyser.idle(20) for _ in range(249)]
    assert (results[-1].status, results[-1].cause) == ("NOTSURE", "TOOLONG-20")


def _request(number):
    return DialRequest(str(uuid.uuid4()), number, ring_timeout_ms=300)


@pytest.mark.parametrize(
    ("number", "outcome", "cause_kind"),
    [
        ("+15550120", None, "HUMAN"),
        ("+15550121", T.MACHINE, "INITIALSILENCE"),
        ("+15550122", T.VOICEMAIL, "LONGGREETING"),
    ],
)
async def test_the_simulated_amd_listens_to_the_callee(
    ami_settings, audiosocket, number, outcome, cause_kind
):
    from telephony.ami.gateway import AsteriskGateway

    gw = await AsteriskGateway.connect(ami_settings, audiosocket.address_text, amd_wait=6.0)
    try:
        request = _request(number)
        result = await gw.place_call(request)
        assert result.answered and result.outcome == outcome
        assert f"AMDCAUSE={cause_kind}" in result.detail
        session = await audiosocket.accept(request.attempt_id, timeout=2)  # only after AMD
        await session.hangup()
    finally:
        await gw.close()


async def test_a_callee_who_hangs_up_while_amd_listens_gives_amdstatus_hangup(
    ami_settings, pbx, audiosocket
):
    from telephony.ami.gateway import AsteriskGateway

    gw = await AsteriskGateway.connect(ami_settings, audiosocket.address_text, amd_wait=6.0)
    try:
        request = _request("+15550123")
        result = await gw.place_call(request)
        assert (result.answered, result.outcome) == (True, B.HUNG_UP)
        assert "AMDSTATUS=HANGUP" in result.detail
        await asyncio.sleep(0.2)
        assert audiosocket.active() == {}  # AudioSocket() never ran
        assert pbx.calls[request.attempt_id].ended.is_set()
    finally:
        await gw.close()


def test_demo_callees_speak_first_and_real_amd_would_agree():
    """Every answering demo callee: a person says a short line at once (HUMAN), a voicemail
    box plays a greeting over 1.5 s (MACHINE, LONGGREETING), as a real AMD() decides."""
    scenarios = load_scenarios(DEMO)
    assert scenarios.amd == "audio"
    for number, callee in scenarios.numbers.items():
        if callee.result != "answer":
            continue
        if callee.greeting is not None:
            assert callee.greeting_ms > 1500
            result = _analyse(greeting_audio(callee.greeting, callee.greeting_ms))
            assert result.status == "MACHINE", number
            assert result.cause.startswith("LONGGREETING"), number
            continue
        first = callee.script[0]
        assert first.kind == "say" and not first.wait_for_agent, number
        assert _analyse(encode(first.text)).status == "HUMAN", number
