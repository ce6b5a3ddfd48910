"""The one place a call is put together: engine, tools, provider chain, recorder and bridge.

Every entry point calls these functions with a :class:`~runtime.call.spec.CallSpec`:

* :func:`voice_call` builds a live call over a media session: the ``converse`` activity (an
  AudioSocket session from Asterisk or the simulated PBX) and the studio's browser voice call
  (a loopback AudioSocket line);
* :func:`text_call` builds a call in text: ``voxflow chat``, the conversation tests and the
  studio's test chat.

Both build the engine and the tool runner the same way (:func:`call_engine`,
:func:`call_tools`), so a flow behaves alike in a test, in the studio and on the phone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime.call.bridge import CallBridge
from runtime.call.recording import StereoRecorder
from runtime.call.result import CallResult
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import TextSession
from runtime.engine import Engine
from runtime.engine.turn import TextProvider
from runtime.providers.fallback import Breaker, ProviderChain
from runtime.providers.registry import Providers
from runtime.tools import ToolRunner, tool_specs
from telephony.audiosocket.session import MediaSession

log = logging.getLogger(__name__)


def call_engine(spec: CallSpec) -> Engine:
    """A fresh engine for the call (not started)."""
    return Engine(
        spec.flow,
        contact=spec.contact,
        call_id=spec.call_id,
        now=spec.now,
        campaign=spec.campaign,
        tz=spec.tz,
        tools=tool_specs(spec.flow),
        limits=spec.limits,
    )


def call_tools(spec: CallSpec, engine: Engine, services: CallServices) -> ToolRunner:
    """The runner of the call's tools, seeing the contact as the engine coerced it."""
    return ToolRunner(
        spec.flow,
        call_id=spec.call_id,
        contact=engine.contact,
        tz=engine.tz,
        persistence=services.persistence,
        campaign=engine.campaign,
        knowledge=services.knowledge,
        closed_dates=spec.closed_dates,
        environ=services.environ,
    )


def text_call(
    spec: CallSpec,
    services: CallServices,
    provider: TextProvider,
    *,
    canned: Mapping[str, object] | None = None,
) -> TextSession:
    """A call in text; start it with ``await session.start(spec.start_node)``.

    Args:
        provider: plays the model's side (``Providers.text(name)``).
        canned: tool results given instead of running the tools (conversation tests).
    """
    engine = call_engine(spec)
    return TextSession(engine, call_tools(spec, engine, services), provider, canned=canned)


@dataclass
class LiveCall:
    """An assembled live call: ``await run()``, then ``await close_recording()``."""

    bridge: CallBridge
    recorder: StereoRecorder | None
    """Both legs of the call, when it is recorded."""

    @property
    def engine(self) -> Engine:
        return self.bridge.engine

    async def run(self) -> CallResult:
        return await self.bridge.run()

    async def close_recording(self) -> str | None:
        """Write the recording's WAV; its file name, or ``None`` when there is none.

        A full disk loses the recording (logged), never the call's outcome.
        """
        if self.recorder is None:
            return None
        try:
            return (await asyncio.to_thread(self.recorder.close)).name
        except OSError as exc:
            log.warning("call %s: recording not written: %s", self.engine.call_id, exc)
            return None


def voice_call(
    spec: CallSpec,
    services: CallServices,
    *,
    media: MediaSession,
    providers: Providers,
    chain: Sequence[str],
    breaker: Breaker | None = None,
    transfer: Callable[[str], Awaitable[None]] | None = None,
    recordings: Path | None = None,
    healthy_after_s: float = 10.0,
) -> LiveCall:
    """A live call over ``media``.

    Args:
        media: the call's media session (answered, not yet read).
        providers: the deployment's providers (``Providers(settings)``).
        chain: provider names in the order the call tries them (``Providers.chain``).
        breaker: the shared circuit breaker (``PgBreaker``); ``None`` for a test call.
        transfer: carries out the flow's transfers (the gateway's), when the line can.
        recordings: record both legs to ``<recordings>/<call id>.wav``; ``None``: no
            recording. A directory that cannot be written costs the recording, not the call.
        healthy_after_s: how long a provider session must live to count as a success for
            the breaker (``VOXFLOW_PROVIDER_HEALTHY_AFTER``).
    """
    engine = call_engine(spec)
    recorder = None
    if recordings is not None:
        try:
            recorder = StereoRecorder(recordings, spec.call_id, rate=media.wire_rate)
        except OSError as exc:
            log.warning("call %s: not recorded: %s", spec.call_id, exc)
        else:
            media.tap = recorder
    bridge = CallBridge(
        engine=engine,
        media=media,
        chain=ProviderChain(
            chain, providers.voice_factory(engine), breaker, healthy_after_s=healthy_after_s
        ),
        tools=call_tools(spec, engine, services),
        transfer=transfer,
        start_node=spec.start_node,
    )
    return LiveCall(bridge, recorder)
