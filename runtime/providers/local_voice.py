"""The local provider over audio: offline, deterministic, honest.

It hears by decoding simulated speech (``telephony.audio.simspeech``) and understands with the
local text provider (intent scoring and slot reading by rule). Audio that is not simulated
speech decodes to nothing, so it stays not understood: the provider never invents a
transcript. It speaks by encoding simulated speech at 8 kHz, the AudioSocket line rate.

Barge-in: the decoder's ``speaking`` flag turns true as soon as a caller utterance begins;
the provider reports that as :class:`~runtime.providers.base.CallerSpeechStarted`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from runtime.engine import Engine
from runtime.engine.events import UpdateSession
from runtime.engine.turn import TextProvider, TurnRequest, turn_request
from runtime.providers.base import (
    AgentAudio,
    AgentAudioDone,
    AgentTranscript,
    CallerSpeechStarted,
    CallerTranscript,
    CallSetup,
    FunctionCall,
    ProviderEvent,
    ResponseDone,
    Usage,
)
from runtime.providers.local import LocalProvider
from telephony.audio.frames import AudioFrame
from telephony.audio.simspeech import SimSpeechDecoder, encode

RATE = 8000


def engine_request(
    engine: Engine, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> TurnRequestBuilder:
    """A ``TurnRequest`` builder reading the engine's current node, intents and slots."""
    return lambda text, tool_result: turn_request(
        engine, text, tool_result=tool_result, now=clock()
    )


TurnRequestBuilder = Callable[[str | None, object], TurnRequest]
"""``(caller text or None, last tool result) -> TurnRequest``."""


class LocalVoiceProvider:
    """The local provider as a :class:`~runtime.providers.base.VoiceProvider`.

    Args:
        request: builds the text provider's ``TurnRequest`` from the call's state (see
            :func:`engine_request`).
        understanding: the text provider (``LocalProvider`` by default).
    """

    name = "local"
    input_rate = RATE

    def __init__(
        self,
        request: TurnRequestBuilder,
        understanding: TextProvider | None = None,
    ) -> None:
        self._request = request
        self._understanding = understanding or LocalProvider()
        self._decoder = SimSpeechDecoder(RATE)
        self._events: asyncio.Queue[ProviderEvent | None] = asyncio.Queue()
        self._items = itertools.count(1)
        self._usage = Usage(provider=self.name, model="simspeech+rules")
        self._last_result: Any = None
        self._caller_speaking = False
        self._finished = False

    @classmethod
    def for_engine(cls, engine: Engine) -> LocalVoiceProvider:
        """The local provider for the call of ``engine``."""
        return cls(engine_request(engine))

    async def start(self, setup: CallSetup) -> None:
        """Always available: nothing to connect to."""

    async def events(self) -> AsyncIterator[ProviderEvent]:
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def send_audio(self, frame: AudioFrame) -> None:
        if frame.rate != RATE:
            raise ValueError(f"the local provider expects {RATE} Hz audio, got {frame.rate} Hz")
        self._usage.audio_in_ms += int(frame.duration_ms)
        utterances = self._decoder.feed(frame.pcm)
        if self._decoder.speaking and not self._caller_speaking:
            self._emit(CallerSpeechStarted())
        self._caller_speaking = self._decoder.speaking
        for text in utterances:
            self._emit(CallerTranscript(text, final=True))
            # Understand after the bridge has handed the transcript to the engine.
            await asyncio.sleep(0)
            await self._take_turn(text)

    async def update_session(self, update: UpdateSession) -> None:
        """The local provider reads the node from the engine at each turn."""

    async def say(self, text: str) -> None:
        self._speak(text, verbatim=True)

    async def respond(self) -> None:
        result, self._last_result = self._last_result, None
        await self._take_turn(None, result)

    async def function_result(
        self, call_id: str, output: Any, *, update: UpdateSession | None = None
    ) -> None:
        self._last_result = output

    async def interrupted(self, item_id: str | None, played_ms: int) -> None:
        """Nothing to tell: the local provider keeps no model-side conversation."""

    async def flush(self) -> None:
        """Nothing is held back."""

    async def hangup(self, farewell: str | None = None) -> None:
        if not self._finished:
            self._finished = True
            self._events.put_nowait(None)

    @property
    def usage(self) -> Usage:
        return self._usage

    async def _take_turn(self, text: str | None, tool_result: Any = None) -> None:
        turn = await self._understanding.turn(self._request(text, tool_result))
        for call in turn.calls:
            self._emit(FunctionCall(call.call_id, call.name, dict(call.arguments)))
        if turn.reply:
            self._speak(turn.reply, verbatim=False)

    def _speak(self, text: str, *, verbatim: bool) -> None:
        item = f"local-{next(self._items)}"
        pcm = encode(text, RATE)
        self._usage.audio_out_ms += len(pcm) * 1000 // (RATE * 2)
        self._emit(AgentAudio(AudioFrame(pcm, RATE), item))
        self._emit(AgentAudioDone(item))
        self._emit(AgentTranscript(text, item, verbatim=verbatim))
        self._emit(ResponseDone("completed"))

    def _emit(self, event: ProviderEvent) -> None:
        if not self._finished:
            self._events.put_nowait(event)
