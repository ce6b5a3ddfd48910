"""The simulated PBX's AMD (``amd: audio``, its default) and a real Asterisk's ``AMD()`` decide
alike on the same callee audio: a short "Hello?", a 3 s voicemail greeting, a silent phone."""

from __future__ import annotations

import uuid

import pytest

from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, parse_scenarios
from tests.asterisk.callee import GREETING

# The simulated callees send what the rig's callees (tests/asterisk/callee.py) send.
SIMULATED = {
    "3001": {"script": [{"say": "Hello?", "wait_for_agent": False}]},
    "3002": {"greeting": GREETING, "greeting_ms": 3000},
    "3003": {},
}


def _amd(detail: str) -> tuple[str, str]:
    """``(AMDSTATUS, kind of AMDCAUSE)`` from a dial result's detail."""
    fields = dict(part.split("=", 1) for part in detail.split() if "=" in part)
    return fields["AMDSTATUS"], fields["AMDCAUSE"].split("-", 1)[0]


async def _verdict(settings: AmiSettings, number: str) -> tuple[str, str]:
    async with AudioSocketServer() as audiosocket:
        gw = await AsteriskGateway.connect(settings, audiosocket.address_text, amd_wait=8.0)
        try:
            request = DialRequest(str(uuid.uuid4()), number, ring_timeout_ms=5000)
            result = await gw.place_call(request)
            assert result.answered, result.detail
            await gw.hangup(request.attempt_id)
            return _amd(result.detail)
        finally:
            await gw.close()


@pytest.mark.parametrize(
    ("number", "expected"),
    [("3001", ("HUMAN", "HUMAN")), ("3002", ("MACHINE", "LONGGREETING")),
     ("3003", ("MACHINE", "INITIALSILENCE"))],
)  # fmt: skip
async def test_simulated_and_real_amd_agree_on_the_same_audio(
    ami_settings, tmp_path, number, expected
):
    real = await _verdict(ami_settings, number)
    scenarios = parse_scenarios({"ring_ms": 20, "numbers": {number: SIMULATED[number]}})
    async with SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", secret="s3cret") as pbx:
        host, port = pbx.ami_address
        simulated = await _verdict(
            AmiSettings(host=host, port=port, username="voxflow", secret="s3cret"), number
        )
    assert real == simulated == expected
