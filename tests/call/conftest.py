"""A live loopback call: simulated PBX → AudioSocket server → bridge → provider stand-in."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dsl.compiler import load_flow
from dsl.ir import Flow
from runtime.call import CallBridge, CallResult
from runtime.persistence import InMemoryPersistence
from runtime.providers.base import VoiceProvider
from runtime.providers.fallback import Breaker, ProviderChain
from runtime.providers.local_voice import LocalVoiceProvider, engine_request
from runtime.tools.runner import ToolRunner
from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, parse_scenarios
from telephony.sim.callee import CallMedia
from tests.engines import new_engine

ROOT = Path(__file__).resolve().parents[2]
CONTACT = {
    "id": "c-1",
    "first_name": "Ann",
    "phone": "+15551234567",
    "appointment_at": "2026-11-24T10:00:00-05:00",
    "timezone": "America/New_York",
}


def reminder() -> Flow:
    return load_flow(ROOT / "flows" / "reminder.flow")


@dataclass
class LoopbackCall:
    result: CallResult
    callee: CallMedia
    persistence: InMemoryPersistence


@asynccontextmanager
async def pbx_call(script: list[dict[str, Any]], tmp_path: Path) -> AsyncIterator[Any]:
    scenarios = parse_scenarios({"ring_ms": 20, "default": {"script": script}})
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl", trace_media=True) as pbx,
        AudioSocketServer() as server,
    ):
        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        try:
            attempt = str(uuid.uuid4())
            server.expect(attempt)
            dialled = await gateway.place_call(
                DialRequest(attempt, "+15551234567", detect_machine=False)
            )
            assert dialled.answered
            session = await server.accept(attempt, timeout=5)
            yield pbx, session, attempt
        finally:
            await gateway.close()


async def run_call(
    flow: Flow,
    script: list[dict[str, Any]],
    tmp_path: Path,
    names: list[str],
    factory: Callable[[str], VoiceProvider] | None = None,
    breaker: Breaker | None = None,
    *,
    contact: dict[str, Any] | None = None,
    transfers: list[str] | None = None,
    heard_at_transfer: list[list[str]] | None = None,
) -> LoopbackCall:
    """Dial the simulated callee running ``script`` and bridge the call with ``names``.

    ``factory`` builds providers by name; ``None`` gives the local voice provider.
    """
    persistence = InMemoryPersistence()
    async with pbx_call(script, tmp_path) as (pbx, session, attempt):
        now = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
        engine = new_engine(
            flow, contact=CONTACT if contact is None else contact, call_id=attempt, now=now
        )
        if factory is None:
            factory = lambda name: LocalVoiceProvider(engine_request(engine, lambda: now))  # noqa: E731

        async def transfer(to: str) -> None:
            if transfers is not None:
                transfers.append(to)
            if heard_at_transfer is not None:  # what the callee had heard when it was moved
                callee_media = pbx.calls[attempt].media
                heard_at_transfer.append(list(callee_media.heard) if callee_media else [])

        tools = ToolRunner(flow, call_id=attempt, contact=engine.contact, tz=engine.tz,
                           persistence=persistence)  # fmt: skip
        bridge = CallBridge(engine=engine, media=session, chain=ProviderChain(names, factory, breaker),
                            tools=tools, clock=lambda: now, transfer=transfer)  # fmt: skip
        result = await bridge.run()
        await pbx.calls[attempt].ended.wait() if hasattr(pbx.calls[attempt], "ended") else None
        callee = pbx.calls[attempt].media
    assert callee is not None
    return LoopbackCall(result, callee, persistence)
