"""The ``converse`` activity: one live call, from media session to outcome.

The contact workflow calls ``converse`` on the task queue of the worker whose AudioSocket server
the call's media lands on (Temporal's worker-specific task queue pattern). The activity waits
for the media session of ``attempt_id``, runs the call bridge (media session, engine, provider,
tools), heartbeats while the call lasts, hangs up when cancelled, and returns a
``ConverseResult``. Both dataclasses are plain JSON-serialisable values so the workflow and the
activity agree through Temporal's default data converter.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from dsl.outcomes import TelephonyOutcome

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConverseInput:
    attempt_id: str
    """Canonical 36-char UUID of the attempt; also the AudioSocket UUID of the call's media."""
    flow_hash: str
    """``sha256:<hex>`` of the IR the campaign was started with (looked up in the flow store)."""
    contact: dict[str, Any]
    """The contact's columns, readable by the flow as ``contact.<name>``."""
    campaign: dict[str, Any] = field(default_factory=dict)
    """Campaign values readable as ``campaign.<name>``."""
    provider: str | None = None
    """Force a provider (``openai``, ``ultravox``, ``local``); ``None`` = the flow's choice."""


@dataclass(frozen=True)
class ConverseResult:
    outcome: str
    """An agent outcome, a ``BuiltinOutcome`` or a ``TelephonyOutcome`` value."""
    callback_at: str | None = None
    """ISO 8601 aware datetime the callee asked to be called back at, when they did."""
    opted_out: bool = False
    node_path: list[str] = field(default_factory=list)
    """Nodes entered, in order (the start node first)."""
    turns: int = 0
    """Caller turns (utterances or DTMF) handled by the engine."""
    duration_ms: int = 0
    """From the media session's start to hang-up."""
    usage: dict[str, Any] = field(default_factory=dict)
    """Provider usage: ``{"provider": ..., "input_tokens": ..., "output_tokens": ..., "cost_usd": ...}``."""
    error: str | None = None
    """Why the call ended abnormally (provider failure, media timeout), ``None`` otherwise."""


# --- the activity ------------------------------------------------------------------------------

HEARTBEAT_EVERY_S = 5.0
MEDIA_WAIT_S = 30.0


class ConverseActivities:
    """The ``converse`` activity with the worker's resources.

    Args:
        server: the worker's ``AudioSocketServer`` (the call's media lands there).
        pool: the PostgreSQL pool (flows, persistence, provider breakers).
        gateway: the telephony gateway (transfers).
        settings: provider keys and endpoints.
        breaker: shared provider circuit breaker (``PgBreaker`` on ``pool`` by default).
        media_wait_s: how long to wait for the call's AudioSocket connection.
    """

    def __init__(
        self,
        *,
        server: Any,
        pool: Any,
        gateway: Any,
        settings: Any,
        breaker: Any = None,
        media_wait_s: float = MEDIA_WAIT_S,
        openai_audio_format: str = "pcmu",
    ) -> None:
        from runtime.providers.breaker import PgBreaker

        self.server = server
        self.pool = pool
        self.gateway = gateway
        self.settings = settings
        self.breaker = breaker if breaker is not None else PgBreaker(pool)
        self.media_wait_s = media_wait_s
        self.openai_audio_format = openai_audio_format

    @classmethod
    def for_worker(cls, *, server: Any, pool: Any, gateway: Any) -> ConverseActivities:
        from runtime.settings import load_settings

        return cls(server=server, pool=pool, gateway=gateway, settings=load_settings())

    def default_provider(self) -> str:
        """OpenAI when its key is set, else Ultravox when its key is set, else local."""
        if self.settings.openai_api_key is not None:
            return "openai"
        if self.settings.ultravox_api_key is not None:
            return "ultravox"
        return "local"

    def provider_factory(self, engine: Any) -> Any:
        """Builds providers by name for one call; unconfigured ones are unavailable."""
        from runtime.providers.base import ProviderUnavailable
        from runtime.providers.local_voice import LocalVoiceProvider, engine_request
        from runtime.providers.openai_realtime import OpenAIRealtimeProvider
        from runtime.providers.ultravox import UltravoxProvider

        s = self.settings

        def make(name: str) -> Any:
            if name == "openai":
                if s.openai_api_key is None:
                    raise ProviderUnavailable(name, "OPENAI_API_KEY is not set")
                return OpenAIRealtimeProvider(
                    api_key=s.openai_api_key.get_secret_value(),
                    base_url=s.openai_base_url,
                    model=s.openai_realtime_model,
                    audio_format=self.openai_audio_format,  # type: ignore[arg-type]
                )
            if name == "ultravox":
                if s.ultravox_api_key is None:
                    raise ProviderUnavailable(name, "ULTRAVOX_API_KEY is not set")
                return UltravoxProvider(
                    api_key=s.ultravox_api_key.get_secret_value(), base_url=s.ultravox_base_url
                )
            if name == "local":
                return LocalVoiceProvider(engine_request(engine))
            raise ProviderUnavailable(name, "unknown provider (use openai, ultravox or local)")

        return make

    @activity.defn(name="converse")
    async def converse(self, inp: ConverseInput) -> ConverseResult:
        """Run the call of ``inp.attempt_id`` to its end; heartbeats while it lasts.

        Cancellation (the workflow's hang-up, an operator, a timeout) hangs the call up and
        re-raises. A missing flow is a non-retryable ``FlowNotFound`` error.
        """
        from runtime.call import CallBridge
        from runtime.db.flows import load_flow
        from runtime.db.persistence import PgPersistence
        from runtime.engine import Engine
        from runtime.persistence import TranscriptEntry
        from runtime.providers.fallback import ProviderChain, provider_order
        from runtime.tools.runner import ToolRunner

        flow = await load_flow(self.pool, inp.flow_hash)
        if flow is None:
            raise ApplicationError(
                f"flow {inp.flow_hash} is not stored; the campaign cannot run it",
                type="FlowNotFound",
                non_retryable=True,
            )
        try:
            media = await self.server.accept(inp.attempt_id, timeout=self.media_wait_s)
        except TimeoutError:
            return ConverseResult(
                outcome=TelephonyOutcome.FAILED.value,
                error=f"call {inp.attempt_id}: no AudioSocket media within {self.media_wait_s:g} s",
            )
        engine = Engine(
            flow,
            contact=inp.contact,
            call_id=inp.attempt_id,
            now=datetime.now(UTC),
            campaign=inp.campaign,
        )
        persistence = PgPersistence(self.pool, campaign=inp.campaign.get("name"))
        tools = ToolRunner(
            flow,
            call_id=inp.attempt_id,
            contact=engine.contact,
            tz=engine.tz,
            persistence=persistence,
            campaign=inp.campaign,
        )
        names = provider_order(
            inp.provider or self.default_provider(), flow.agent.provider.fallback
        )
        chain = ProviderChain(names, self.provider_factory(engine), self.breaker)

        async def transfer(to: str) -> None:
            await self.gateway.transfer(inp.attempt_id, to)

        bridge = CallBridge(
            engine=engine,
            media=media,
            chain=chain,
            tools=tools,
            transfer=transfer,
            start_node=inp.campaign.get("start_node"),
        )
        run = asyncio.create_task(bridge.run(), name=f"call-{inp.attempt_id}")
        try:
            while not run.done():
                activity.heartbeat(engine.state.node)
                await asyncio.wait({run}, timeout=HEARTBEAT_EVERY_S)
        except asyncio.CancelledError:
            await media.hangup()
            await asyncio.wait({run}, timeout=10)
            raise
        result = run.result()
        try:
            await persistence.append_transcript(
                [
                    TranscriptEntry(
                        inp.attempt_id, i, e["role"], e["text"], e.get("node"), e.get("data", {})
                    )
                    for i, e in enumerate(result.transcript)
                ]
            )
        except Exception as exc:  # the outcome matters more than the transcript
            log.warning("call %s: transcript not stored: %s", inp.attempt_id, exc)
        return ConverseResult(
            outcome=result.outcome,
            callback_at=result.callback_at,
            opted_out=result.opted_out,
            node_path=result.node_path,
            turns=result.turns,
            duration_ms=result.duration_ms,
            usage=result.usage,
            error=result.error,
        )
