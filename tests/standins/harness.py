"""Run an ASGI app on 127.0.0.1 with uvicorn inside the test's event loop."""

from __future__ import annotations

import asyncio
import base64
import math
import warnings
from typing import Any

import numpy as np
import uvicorn

with warnings.catch_warnings():  # deprecated in 3.11, not removed (telephony/audio/g711.py)
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


class LocalServer:
    """``async with LocalServer(app) as srv``: ``srv.port`` is bound on 127.0.0.1, stops on exit."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws="websockets-sansio",
            ws_max_size=16 * 1024 * 1024,
        )
        self._server = uvicorn.Server(config)
        self._server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        self._task: asyncio.Task[None] | None = None
        self.port = 0

    async def __aenter__(self) -> LocalServer:
        self._task = asyncio.create_task(self._server.serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._server.force_exit = True
        if self._task is not None:
            await asyncio.wait_for(self._task, 10)


def tone(ms: int, rate: int, freq: float = 440.0, amplitude: int = 8000) -> bytes:
    """``ms`` of a sine tone as s16le mono at ``rate``."""
    n = rate * ms // 1000
    t = np.arange(n) / rate
    return (amplitude * np.sin(2 * math.pi * freq * t)).astype("<i2").tobytes()


def louder_than(pcm: bytes, level: float) -> bool:
    """Whether the RMS of s16le ``pcm`` is above ``level``: :func:`rms` ``> level``, decided
    by ``audioop.rms`` (C, but it rounds down to an integer) unless that is ``level``'s own
    integer part, where only the exact figure can tell."""
    floor = audioop.rms(pcm[: len(pcm) - len(pcm) % 2], 2)
    if floor != int(level):
        return floor > level
    return rms(pcm) > level


def rms(pcm: bytes) -> float:
    """Root mean square of s16le samples (``np.dot``: the stand-ins call it per audio message,
    and ``np.mean``'s Python layers cost more than the arithmetic)."""
    samples = np.frombuffer(pcm, dtype="<i2", count=len(pcm) // 2).astype(np.float64)
    return math.sqrt(float(samples.dot(samples)) / len(samples)) if len(samples) else 0.0


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
