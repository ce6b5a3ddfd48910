"""The callee's side of an answered simulated call, over a real AudioSocket connection.

Like Asterisk on a live channel, the callee sends a 20 ms slin frame every 20 ms for the whole
call: its speech when it is talking, digital silence otherwise ("comfort silence"). That keeps
the agent's decoders and resamplers fed exactly as a real call would. A callee with
``silence_suppression`` sends only its speech, as a line with voice activity detection does.

As ``AudioSocket()`` in Asterisk (apps/app_audiosocket.c, ``MAX_WAIT_TIMEOUT_MSEC``), the call
is cut after :data:`INACTIVITY_S` with no frame in either direction; the socket is then closed
without a hang-up message, as Asterisk always does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from telephony.audio.frames import AudioFrame
from telephony.audio.simspeech import SimSpeechDecoder, encode
from telephony.audiosocket import codec
from telephony.audiosocket.client import AudioSocketClient
from telephony.sim.scenarios import Callee

log = logging.getLogger(__name__)

FRAME_BYTES = 320
FRAME_S = 0.020
INACTIVITY_S = 2.0
"""``MAX_WAIT_TIMEOUT_MSEC`` of app_audiosocket.c: no frame either way this long ends the call."""
VOICE_FILL_HZ = 220.0
"""A low tone standing for the spoken part of a greeting beyond its simulated-speech text
(loud enough for AMD's silence test, no tone the simulated-speech decoder listens for)."""


def greeting_audio(text: str, total_ms: int) -> bytes:
    """A voicemail greeting: ``text`` as simulated speech, then voice up to ``total_ms``."""
    speech = encode(text)
    fill = max(0, total_ms * 16 - len(speech)) // 2
    tone = 6000 * np.sin(2 * np.pi * VOICE_FILL_HZ * np.arange(fill) / 8000)
    return speech + tone.astype("<i2").tobytes()


BEEP = (8000 * np.sin(2 * np.pi * 1400 * np.arange(2400) / 8000)).astype("<i2").tobytes()
"""300 ms voicemail beep at 1400 Hz (not a simulated-speech sync tone)."""


@dataclass
class CallMedia:
    """What happened on the media of one simulated call (inspected by tests)."""

    heard: list[str] = field(default_factory=list)
    """Agent utterances the callee decoded, in order."""
    said: list[str] = field(default_factory=list)
    """Lines the callee spoke."""
    received: list[tuple[float, bytes]] = field(default_factory=list)
    """``(time.monotonic(), payload)`` of each audio frame from the agent (when traced)."""
    sent: list[bytes] = field(default_factory=list)
    """Payload of each audio frame the callee sent, in order (when traced)."""
    ended_by: str = ""
    """``callee`` (script hang-up or max_call_ms), ``agent`` (AudioSocket hang-up), ``pbx``
    or ``inactivity`` (2 s without a frame either way, as AudioSocket() in Asterisk)."""


class CalleeMedia:
    def __init__(
        self,
        client: AudioSocketClient | None,
        callee: Callee,
        *,
        trace: bool = False,
        on_dtmf: Callable[[str], None] | None = None,
    ) -> None:
        self.client = client
        self.before_media: Callable[[bytes | None], None] | None = None
        """Where the callee's frames go before :meth:`attach` (``AMD()`` listening); ``None``
        is called for each 20 ms in which a silence-suppressing line sent nothing."""
        self._attached = asyncio.Event()
        if client is not None:
            self._attached.set()
        self._on_dtmf = on_dtmf
        self.callee = callee
        self.media = CallMedia()
        self._trace = trace
        self._outgoing: deque[bytes] = deque()
        self._drained = asyncio.Event()
        self._drained.set()
        self._utterances: asyncio.Queue[str] = asyncio.Queue()
        self._agent_gone = asyncio.Event()
        self._stop = asyncio.Event()
        self._last_frame = asyncio.get_running_loop().time()

    def attach(self, client: AudioSocketClient) -> None:
        """The call reached ``AudioSocket()``: from now on the agent hears the callee."""
        self.client = client
        self._last_frame = asyncio.get_running_loop().time()
        self._attached.set()

    def stop(self, ended_by: str = "pbx") -> None:
        if not self.media.ended_by:
            self.media.ended_by = ended_by
        self._stop.set()

    async def run(self) -> CallMedia:
        """Run the callee until someone hangs up; always closes the AudioSocket.

        May start before :meth:`attach`: the callee then speaks to ``before_media`` only.
        """
        tasks = [
            asyncio.create_task(self._send_loop()),
            asyncio.create_task(self._receive_loop()),
            asyncio.create_task(self._script()),
            asyncio.create_task(self._inactivity()),
        ]
        try:
            stop = asyncio.create_task(self._stop.wait())
            gone = asyncio.create_task(self._agent_gone.wait())
            await asyncio.wait(
                {stop, gone, tasks[2]},
                timeout=self.callee.max_call_ms / 1000,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if self._agent_gone.is_set():
                self.stop("agent")
            elif tasks[2].done() and self._stop.is_set():
                pass
            else:
                self.stop("callee")
            stop.cancel()
            gone.cancel()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            if self.client is not None:
                await self.client.close()
        return self.media

    def _speak(self, pcm: bytes) -> None:
        for start in range(0, len(pcm), FRAME_BYTES):
            chunk = pcm[start : start + FRAME_BYTES]
            self._outgoing.append(chunk + bytes(FRAME_BYTES - len(chunk)))
        self._drained.clear()

    async def _say(self, text: str) -> None:
        self.media.said.append(text)
        self._speak(encode(text))
        await self._drained.wait()

    async def _script(self) -> None:
        if self.callee.greeting is not None:
            self.media.said.append(self.callee.greeting)
            self._speak(greeting_audio(self.callee.greeting, self.callee.greeting_ms))
            self._speak(BEEP)
            await self._drained.wait()
        for step in self.callee.script:
            match step.kind:
                case "say":
                    if step.wait_for_agent:
                        await self._utterances.get()
                    await self._say(step.text)
                case "listen":
                    await self._utterances.get()
                case "dtmf":
                    for digit in step.text:
                        if self.client is not None:
                            self.client.send_dtmf(digit)
                        if self._on_dtmf is not None:
                            self._on_dtmf(digit)
                        await asyncio.sleep(0.1)
                case "wait":
                    await asyncio.sleep(step.ms / 1000)
                case "hangup":
                    self.stop("callee")
                    return
        await self._stop.wait()

    async def _send_loop(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time()
        silence = bytes(FRAME_BYTES)
        while True:
            frame: bytes | None
            if self._outgoing:
                frame = self._outgoing.popleft()
            else:
                frame = None if self.callee.silence_suppression else silence
                self._drained.set()
            client = self.client
            if client is None:
                if self.before_media is not None:
                    self.before_media(frame)
            elif frame is not None:
                client.send_audio(AudioFrame(frame, 8000))
                self._last_frame = loop.time()
                if self._trace:
                    self.media.sent.append(frame)
            if not self._outgoing:
                self._drained.set()
            deadline += FRAME_S
            now = loop.time()
            if now - deadline > 0.2:
                deadline = now  # the loop stalled: resume instead of bursting
            if client is not None:
                await client.drain()
            await asyncio.sleep(max(0.0, deadline - loop.time()))

    async def _inactivity(self) -> None:
        await self._attached.wait()
        loop = asyncio.get_running_loop()
        while True:  # the deadline moves with every frame: re-check it when it comes
            idle = loop.time() - self._last_frame
            if idle >= INACTIVITY_S:
                break
            await asyncio.sleep(INACTIVITY_S - idle)
        log.info(
            "call %s: no frame either way for %g s, hanging up", self.client.call_id, INACTIVITY_S
        )
        self.stop("inactivity")

    async def _receive_loop(self) -> None:
        await self._attached.wait()
        assert self.client is not None
        decoder = SimSpeechDecoder(8000)
        try:
            while True:
                messages = await self.client.receive()
                for message in messages:
                    if isinstance(message, codec.Audio):
                        self._last_frame = asyncio.get_running_loop().time()
                        pcm = message.frame.pcm
                        if message.frame.rate != 8000:
                            decoder = (
                                decoder
                                if decoder.rate == message.frame.rate
                                else SimSpeechDecoder(message.frame.rate)
                            )
                        if self._trace:
                            self.media.received.append((time.monotonic(), pcm))
                        for text in decoder.feed(pcm):
                            self.media.heard.append(text)
                            self._utterances.put_nowait(text)
                if self.client.remote_hangup:
                    self._agent_gone.set()
                    return
        except (ConnectionError, OSError, codec.ProtocolError) as exc:
            log.info("call %s: AudioSocket ended: %s", self.client.call_id, exc)
            with contextlib.suppress(Exception):
                self._agent_gone.set()
