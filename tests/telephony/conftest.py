import asyncio

import pytest
import uvloop

from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.sim import SimPBX, parse_scenarios

SCENARIOS = {
    "ring_ms": 30,
    "max_concurrent": 3,
    "default": {"script": [{"listen": True}]},
    "numbers": {
        "+15550100": {"result": "busy"},
        "+15550101": {"result": "no_answer"},
        "+15550102": {"result": "congestion"},
        "+15550103": {"result": "rejected"},
        "+15550104": {"result": "failed"},
        "+15550105": {"amd": "machine", "greeting": "You reached Sam. Leave a message."},
        "+15550106": {"amd": "machine"},
        # People say a short "Hello?" as they pick up (AMD() hears it, the agent does not);
        # one who waits in silence is a machine to a real AMD (see +15550121).
        "+15550107": {
            "answer_after_rings": 2,
            "script": [
                {"say": "Hello?", "wait_for_agent": False},
                {"say": "Hello, who is this?"},
                {"dtmf": "42"},
                {"say": "Please stop calling me."},
                {"hangup": True},
            ],
        },
        "+15550108": {"script": [{"say": "Hello?", "wait_for_agent": False}, {"wait_ms": 100000}]},
        "+15550109": {"result": "no_answer"},
        "+15550110": {"silence_suppression": True, "script": [{"wait_ms": 100000}]},
        "+15550111": {"amd": "hangup"},
        # AMD decided from the callee's audio, as app_amd does
        "+15550120": {"amd": "audio", "script": [{"say": "Hello?", "wait_for_agent": False}]},
        "+15550121": {"amd": "audio", "script": [{"say": "Hello?"}]},  # waits for the agent
        "+15550122": {"amd": "audio", "greeting": "You reached Sam. Leave a message."},
        "+15550123": {"amd": "audio", "script": [{"wait_ms": 600}, {"hangup": True}]},
    },
}


def pytest_asyncio_loop_factories(config, item):
    """Every telephony test runs on both event loops a worker may run on (VOXFLOW_EVENT_LOOP)."""
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}


@pytest.fixture
async def pbx(tmp_path):
    async with SimPBX(
        parse_scenarios(SCENARIOS),
        log_path=tmp_path / "sim.jsonl",
        secret="s3cret",
        trace_media=True,
    ) as sim:
        yield sim


@pytest.fixture
async def audiosocket():
    async with AudioSocketServer(trace=True) as server:
        yield server


@pytest.fixture
def ami_settings(pbx):
    host, port = pbx.ami_address
    return AmiSettings(
        host=host,
        port=port,
        username="voxflow",
        secret="s3cret",
        ping_interval=0.5,
        ping_timeout=0.5,
        backoff_initial=0.05,
        backoff_max=0.2,
    )


@pytest.fixture
async def gateway(ami_settings, audiosocket):
    gw = await AsteriskGateway.connect(ami_settings, audiosocket.address_text, amd_wait=2.0)
    yield gw
    await gw.close()
