"""AMI client on panoramisk 1.4, with its pitfalls handled (docs/protocols.md, "AMI through
panoramisk").

* One panoramisk ``Manager`` per TCP connection. panoramisk would reconnect the *same*
  manager and then re-send every action that had no reply yet (on ``FullyBooted``) -- which
  for ``Originate`` means dialling a contact twice. Here a lost connection fails the pending
  actions (:class:`AmiConnectionLost`) and the supervisor builds a fresh manager, with
  exponential backoff, so nothing is ever re-sent.
* panoramisk's pinger never checks the Pong; the supervisor sends ``Ping`` itself every
  ``ping_interval`` seconds and reconnects when no reply comes within ``ping_timeout``.
* A refused login only sets ``authenticated=False`` in panoramisk; here it is logged (user
  name only, never the secret) and retried with backoff.
* panoramisk 1.4 treats any reply whose message ends in "successfully queued" as the start of
  a multi-message reply and then reads ``action['Async']``, which raises ``KeyError`` for
  actions without that header (e.g. ``PlayDTMF`` → "DTMF successfully queued") and kills the
  connection. Every action but an async ``Originate`` is therefore sent with ``as_list=False``.
* Managers are created and connected inside the running loop (the 1.4 ``Future()`` calls rely
  on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from panoramisk import Manager
from panoramisk.message import Message

log = logging.getLogger(__name__)


class _WireLog(logging.LoggerAdapter):
    """panoramisk's logger. One AMI connection carries every call's events, so the lines it
    logs about a message say which call it belongs to: ``extra["attempt_id"]``, the channel's
    ``Uniqueid`` (voxflow originates with ``ChannelId`` = the attempt id), when it is a UUID.
    """

    def log(self, level: int, msg: object, *args: object, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        for arg in args:
            if isinstance(arg, Message):
                uniqueid = str(arg.get("Uniqueid") or "")
                if len(uniqueid) == 36 and uniqueid.count("-") == 4:
                    kwargs.setdefault("extra", {}).setdefault("attempt_id", uniqueid)
                break
        self.logger.log(level, msg, *args, **kwargs)

    def process(self, msg: object, kwargs: Any) -> tuple[object, Any]:
        return msg, kwargs


EventListener = Callable[[Message], None]


class AmiError(RuntimeError):
    """Base class for AMI client errors."""


class AmiNotConnected(AmiError):
    """No logged-in AMI connection: the action was not sent (safe to retry)."""


class AmiConnectionLost(AmiError):
    """The connection dropped after the action was sent: its effect is unknown."""


@dataclass(frozen=True)
class AmiSettings:
    host: str = "127.0.0.1"
    port: int = 5038
    username: str = "voxflow"
    secret: str = field(default="", repr=False)
    connect_timeout: float = 5.0
    ping_interval: float = 10.0
    ping_timeout: float = 5.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0


class _Manager(Manager):
    """A panoramisk manager that never reconnects itself; it reports the loss instead."""

    def __init__(self, lost: asyncio.Future[None], **config: object) -> None:
        super().__init__(**config)
        self.lost = lost

    def connection_made(self, f: asyncio.Future) -> None:  # type: ignore[override]
        if f.cancelled() or f.exception() is not None:
            if not self.lost.done():
                self.lost.set_result(None)
            return
        super().connection_made(f)

    def connection_lost(self, exc: BaseException | None) -> None:
        self._connected = False
        if self.pinger:
            self.pinger.cancel()
            self.pinger = None
        if not self.lost.done():
            self.lost.set_result(None)


class AmiClient:
    """A supervised, logged-in AMI connection.

    Usage::

        client = AmiClient(AmiSettings(host=..., port=..., username=..., secret=...))
        await client.start()              # returns once logged in (or raises TimeoutError)
        reply = await client.send({"Action": "Ping"})
        client.add_listener(callback)     # every event, as a panoramisk Message
        await client.close()
    """

    def __init__(self, settings: AmiSettings) -> None:
        self.settings = settings
        self.connected = asyncio.Event()
        self.connections = 0
        """How many times a login succeeded (1 + reconnects)."""
        self._manager: _Manager | None = None
        self._listeners: list[EventListener] = []
        self._disconnect_listeners: list[Callable[[], None]] = []
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = False

    def add_listener(self, listener: EventListener) -> None:
        self._listeners.append(listener)

    def add_disconnect_listener(self, listener: Callable[[], None]) -> None:
        self._disconnect_listeners.append(listener)

    async def start(self, wait: float | None = 10.0) -> None:
        """Start the supervisor; wait up to ``wait`` seconds for the first login."""
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="ami-supervisor")
        if wait is not None:
            await asyncio.wait_for(self.connected.wait(), wait)

    async def send(self, action: dict[str, object]) -> Message | list[Message]:
        """Send one action and wait for its complete reply.

        Raises:
            AmiNotConnected: nothing was sent.
            AmiConnectionLost: sent, but the connection dropped before the reply.
        """
        manager = self._manager
        if manager is None or not self.connected.is_set():
            raise AmiNotConnected(f"no AMI connection to {self.settings.host}:{self.settings.port}")
        is_async_originate = (
            str(action.get("Action", "")).lower() == "originate"
            and str(action.get("Async", "")).lower() == "true"
        )
        future = manager.send_action(dict(action), as_list=None if is_async_originate else False)
        await asyncio.wait({future, manager.lost}, return_when=asyncio.FIRST_COMPLETED)
        if future.done():
            return future.result()
        future.cancel()
        raise AmiConnectionLost(f"AMI connection lost while waiting for {action.get('Action')}")

    async def close(self) -> None:
        self._closing = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._manager is not None:
            self._manager.close()
            self._manager = None

    # ---- supervision --------------------------------------------------------------------

    def _dispatch(self, _manager: Manager, message: Message) -> None:
        for listener in list(self._listeners):
            try:
                listener(message)
            except Exception:
                log.exception("AMI event listener failed on %s", message.get("Event"))

    async def _supervise(self) -> None:
        s = self.settings
        backoff = s.backoff_initial
        while not self._closing:
            loop = asyncio.get_running_loop()
            lost: asyncio.Future[None] = loop.create_future()
            manager = _Manager(
                lost,
                host=s.host,
                port=s.port,
                username=s.username,
                secret=s.secret,
                events="on",
                loop=loop,
                ping_delay=10**6,  # panoramisk's unchecked pinger is replaced below
                ping_interval=10**6,
                reconnect_timeout=10**6,
                log=_WireLog(log),
            )
            manager.register_event("*", self._dispatch)
            try:
                await self._login(manager)
                self._manager = manager
                self.connections += 1
                self.connected.set()
                backoff = s.backoff_initial
                log.info("AMI logged in to %s:%s as %s", s.host, s.port, s.username)
                await self._watch(manager)
            except (OSError, TimeoutError, AmiError) as exc:
                log.warning("AMI %s:%s: %s", s.host, s.port, exc or type(exc).__name__)
            finally:
                self.connected.clear()
                self._manager = None
                manager.close()
                if not lost.done():
                    lost.set_result(None)
                for listener in list(self._disconnect_listeners):
                    listener()
            if self._closing:
                return
            delay = backoff * (0.5 + random.random() / 2)
            backoff = min(backoff * 2, s.backoff_max)
            await asyncio.sleep(delay)

    async def _login(self, manager: _Manager) -> None:
        s = self.settings
        await asyncio.wait_for(manager.connect(), s.connect_timeout)
        if manager.lost.done():
            raise AmiConnectionLost("connection refused or lost")
        while manager.authenticated_future is None and not manager.authenticated:
            await asyncio.sleep(0)
            if manager.lost.done():
                raise AmiConnectionLost("connection lost before login")
        future = manager.authenticated_future
        if future is not None:
            await asyncio.wait(
                {future, manager.lost},
                timeout=s.connect_timeout,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if not future.done():
                raise AmiConnectionLost("no reply to Login")
            reply = future.result()
            if not reply.success:
                raise AmiError(f"login refused for user {s.username!r}: {reply.get('Message', '')}")

    async def _watch(self, manager: _Manager) -> None:
        """Return when the connection is lost or stops answering Ping."""
        s = self.settings
        while True:
            done, _ = await asyncio.wait({manager.lost}, timeout=s.ping_interval)
            if done:
                return
            ping = manager.send_action({"Action": "Ping"})
            done, _ = await asyncio.wait(
                {ping, manager.lost}, timeout=s.ping_timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if manager.lost.done():
                return
            if not ping.done():
                ping.cancel()
                log.warning(
                    "AMI %s:%s did not answer Ping within %ss; reconnecting",
                    s.host,
                    s.port,
                    s.ping_timeout,
                )
                return
