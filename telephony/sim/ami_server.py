"""A minimal AMI server: banner, Login/Logoff, Ping, Events, and action dispatch.

The simulated PBX subclasses it and adds the call actions. Messages are framed with
``telephony.ami.wire`` (``Key: Value`` lines, blank-line terminated), as real Asterisk does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from panoramisk.message import Message

from telephony.ami.wire import TERMINATOR, format_message, parse_message

log = logging.getLogger(__name__)

AMI_VERSION = "9.0.0"
"""Banner version of Asterisk 20."""

ActionHandler = Callable[["Connection", Message], None]


class Connection:
    """One AMI client connection: logged in or not, events on or off."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer
        self.authenticated = False
        self.events = True

    def send(self, fields: dict[str, object] | list[tuple[str, object]]) -> None:
        if not self.writer.is_closing():
            self.writer.write(format_message(fields))


class AmiServer:
    """Serve AMI on ``host:port`` (port 0 picks a free one; see :attr:`ami_address`)."""

    def __init__(self, host: str, port: int, username: str, secret: str) -> None:
        self.host = host
        self.port = port
        self.username = username
        self._secret = secret
        self._connections: set[Connection] = set()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_connect, self.host, self.port)

    @property
    def ami_address(self) -> tuple[str, int]:
        assert self._server is not None, "start() has not been awaited"
        host, port = self._server.sockets[0].getsockname()[:2]
        return host, port

    def _actions(self) -> dict[str, ActionHandler]:
        """Handlers of the actions beyond Login, Logoff, Ping and Events, by lower-case name."""
        return {}

    async def _stop_serving(self) -> None:
        """Close the listener and every connection, and cancel every task spawned."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections):
            conn.writer.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)

    def _spawn(self, coro: object) -> asyncio.Task[None]:
        task = asyncio.create_task(coro)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._spawn(self._serve(reader, writer))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Connection(writer)
        self._connections.add(conn)
        writer.write(f"Asterisk Call Manager/{AMI_VERSION}\r\n".encode())
        try:
            while True:
                try:
                    block = await reader.readuntil(TERMINATOR)
                except asyncio.LimitOverrunError:
                    log.warning("AMI client sent an over-long action; closing its connection")
                    return
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                message = parse_message(block)
                if message is None:
                    continue
                if not self._handle(conn, message):
                    return
                await writer.drain()
        finally:
            self._connections.discard(conn)
            writer.close()

    def _broadcast(self, fields: list[tuple[str, object]]) -> None:
        for conn in list(self._connections):
            if conn.authenticated and conn.events:
                conn.send(fields)

    def _reply(
        self, conn: Connection, message: Message, response: str, text: str, **extra: object
    ) -> None:
        fields: list[tuple[str, object]] = [("Response", response)]
        if message.action_id:
            fields.append(("ActionID", message.action_id))
        fields.append(("Message", text))
        fields.extend(extra.items())
        conn.send(fields)

    def _handle(self, conn: Connection, message: Message) -> bool:
        """Answer one action; ``False`` ends the connection."""
        action = str(message.get("Action", "")).lower()
        if action == "login":
            if message.get("Username") == self.username and message.get("Secret") == self._secret:
                conn.authenticated = True
                conn.events = str(message.get("Events", "on")).lower() != "off"
                self._reply(conn, message, "Success", "Authentication accepted")
                if conn.events:
                    conn.send(
                        [
                            ("Event", "FullyBooted"),
                            ("Privilege", "system,all"),
                            ("Status", "Fully Booted"),
                        ]
                    )
            else:
                self._reply(conn, message, "Error", "Authentication failed")
            return True
        if action == "logoff":
            self._reply(conn, message, "Goodbye", "Thanks for all the fish.")
            return False
        if not conn.authenticated:
            self._reply(conn, message, "Error", "Permission denied")
            return True
        handler = {"ping": self._ping, "events": self._events, **self._actions()}.get(action)
        if handler is None:
            self._reply(conn, message, "Error", "Invalid/unknown command")
            return True
        handler(conn, message)
        return True

    def _ping(self, conn: Connection, message: Message) -> None:
        fields: list[tuple[str, object]] = [("Response", "Success")]
        if message.action_id:
            fields.append(("ActionID", message.action_id))
        fields += [("Ping", "Pong"), ("Timestamp", f"{time.time():.6f}")]
        conn.send(fields)

    def _events(self, conn: Connection, message: Message) -> None:
        conn.events = str(message.get("EventMask", "on")).lower() != "off"
        self._reply(conn, message, "Success", "Events " + ("On" if conn.events else "Off"))
