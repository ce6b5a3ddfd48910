"""A cancelled call whose bridge does not wind down after the hang-up: the call's row ends all
the same, with what is known and why, and the stuck provider session is torn down.

The callee and its line are the simulated PBX's (AMI originate, AudioSocket over loopback); the
provider is the local voice provider behind a socket that stopped being read, as a realtime
provider's is when its peer stalls: each send waits for the socket to drain
(``runtime/providers/realtime_socket.py``, ``drain``) until the keepalive gives up, 20 to 40 s
later (``PING_INTERVAL_S``, ``PING_TIMEOUT_S``), and a hang-up sends the held-back audio first
(``runtime/providers/openai_realtime/adapter.py``, ``hangup``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from temporalio.testing import ActivityEnvironment

from activities import converse
from activities.converse import WIND_DOWN_S, ConverseActivities
from runtime.db import calls
from runtime.db.flows import save_flow
from runtime.engine import Engine
from runtime.providers.base import VoiceProvider
from runtime.providers.registry import Providers
from runtime.settings import load_settings
from runtime.workflows.messages import ConverseInput
from telephony.ami import AmiSettings, AsteriskGateway
from telephony.audio import AudioFrame
from telephony.audiosocket import AudioSocketServer
from telephony.gateway import DialRequest
from telephony.sim import SimPBX, parse_scenarios
from tests.activities.test_converse import pool  # noqa: F401
from tests.call.conftest import CONTACT, reminder
from tests.workflows.test_terminated_call import _poll


class StalledSocket:
    """A provider session whose socket stopped being read once ``stalled`` is set: sends wait
    to drain, for good (the keepalive's 40 s are longer than anything here)."""

    def __init__(self, inner: VoiceProvider, stalled: asyncio.Event) -> None:
        self._inner = inner
        self._stalled = stalled
        self.sends_cancelled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def _drain(self) -> None:
        if self._stalled.is_set():
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.sends_cancelled += 1
                raise

    async def send_audio(self, frame: AudioFrame) -> None:
        await self._drain()
        await self._inner.send_audio(frame)

    async def hangup(self, farewell: str | None = None) -> None:
        await self._drain()  # the audio held back goes first
        await self._inner.hangup(farewell)


class StallingProviders(Providers):
    """The deployment's providers, each session behind a :class:`StalledSocket`."""

    def __init__(self, settings: Any, stalled: asyncio.Event) -> None:
        super().__init__(settings)
        self.stalled = stalled
        self.sessions: list[StalledSocket] = []

    def voice(self, name: str, engine: Engine) -> VoiceProvider:
        session = StalledSocket(super().voice(name, engine), self.stalled)
        self.sessions.append(session)
        return session  # type: ignore[return-value]


async def test_a_cancelled_call_that_does_not_wind_down_ends_its_row_and_its_session(
    pool,  # noqa: F811
    tmp_path,
) -> None:
    settings = load_settings({"VOXFLOW_RECORDINGS_DIR": str(tmp_path / "recordings")})
    flow_hash = await save_flow(pool, reminder())
    script = [{"listen": True}, {"wait_ms": 60_000}, {"hangup": True}]
    scenarios = parse_scenarios({"ring_ms": 20, "default": {"script": script}})
    stalled = asyncio.Event()
    async with (
        SimPBX(scenarios, log_path=tmp_path / "sim.jsonl") as pbx,
        AudioSocketServer() as server,
    ):
        host, port = pbx.ami_address
        gateway = await AsteriskGateway.connect(
            AmiSettings(host=host, port=port, secret="voxflow"), server.address_text
        )
        try:
            acts = ConverseActivities(
                media=server, pool=pool, gateway=gateway, settings=settings, media_wait_s=5
            )
            providers = acts.providers = StallingProviders(settings, stalled)
            env = ActivityEnvironment()
            attempt = str(uuid.uuid4())
            server.expect(attempt)
            dial = DialRequest(attempt, "+15551234567", detect_machine=False)
            assert (await gateway.place_call(dial)).answered
            running = env.run(acts.converse, ConverseInput(attempt, flow_hash, "nov", CONTACT))
            task = asyncio.create_task(running)
            await _poll(lambda: calls.get_call(pool, attempt))  # the call is up
            await asyncio.sleep(1.5)  # the greeting is under way
            stalled.set()
            await asyncio.sleep(0.2)  # the bridge's media loop is stuck in a send
            cancelled_at = time.monotonic()
            env.cancel()
            try:
                await task
                raised = False
            except asyncio.CancelledError:
                raised = True
            took = time.monotonic() - cancelled_at
            callee = pbx.calls[attempt].media
        finally:
            await gateway.close()

    assert raised  # the cancellation was re-raised
    assert callee.ended_by == "agent"  # the AudioSocket hang-up reached the PBX at once
    # The bridge was given its wind-down time, then cancelled: its stuck sends were cut (the
    # activity returned, though the provider's sends would have waited for good).
    assert took >= WIND_DOWN_S
    [session] = providers.sessions
    assert session.sends_cancelled >= 1
    # The row ends with what is known: how far the call got, who hung up, and why it is
    # not the bridge's own account.
    detail = await calls.get_call(pool, attempt)
    assert detail is not None
    row = detail.call
    assert row.ended_at is not None and row.duration_ms is not None
    assert (row.outcome, row.ended_by) == ("hung_up", "cancelled")
    assert row.node_path == ["greet"] and row.visits[0]["node"] == "greet"
    assert row.error is not None and "did not wind down" in row.error
    assert row.recording == f"{attempt}.wav"
    assert detail.transcript[0].text == "entered greet"


async def test_a_bridge_that_outlives_its_cancellations_is_held_until_it_ends(
    monkeypatch,
) -> None:
    """Its result, coming late, is not the call's: the row was ended without it."""
    monkeypatch.setattr(converse, "WIND_DOWN_S", 0.05)
    monkeypatch.setattr(converse, "CANCEL_WAIT_S", 0.01)
    release = asyncio.Event()
    refused = 0

    async def deaf_bridge() -> Any:
        nonlocal refused
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:  # a clean-up that swallows its cancellation
                refused += 1
        return "late"

    run = asyncio.create_task(deaf_bridge())
    result, why = await converse._wind_down(run)
    assert result is None and "did not wind down" in why
    assert refused == converse.CANCEL_TRIES
    assert run in converse._LINGERING
    release.set()
    await asyncio.wait({run})
    await asyncio.sleep(0)  # its done callbacks run
    assert run not in converse._LINGERING
