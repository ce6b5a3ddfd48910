"""Where a realtime session connects and what its handshake carries, derived from an
``AsyncOpenAI`` client as the SDK's ``client.realtime.connect(model=...)`` derives them
(``openai/resources/realtime/realtime.py``, ``AsyncRealtimeConnectionManager._connect_ws``;
the facts are in ``docs/protocols.md``, "Connection and session").

The adapter opens the socket itself (``runtime/providers/realtime_socket.py``) so each message
costs a frame and a write rather than the SDK's send path; the URL and headers stay the SDK's,
which ``tests/providers/test_openai_endpoint.py`` checks against a handshake the SDK makes.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from openai import AsyncOpenAI, Omit


def realtime_url(client: AsyncOpenAI, model: str) -> str:
    """``<base>/realtime?model=<model>``: the client's ``websocket_base_url``, else its
    ``base_url`` with ``http`` → ``ws`` and anything else → ``wss``; the base's own query
    and the client's default query are kept, ``model`` replaces any given there."""
    if client.websocket_base_url is not None:
        parts = urlsplit(str(client.websocket_base_url))
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    else:
        parts = urlsplit(str(client.base_url))
        scheme = "ws" if parts.scheme == "http" else "wss"
    query = [
        *parse_qsl(parts.query, keep_blank_values=True),
        *((k, str(v)) for k, v in client.default_query.items()),
    ]
    query = [(k, v) for k, v in query if k != "model"] + [("model", model)]
    path = parts.path.rstrip("/") + "/realtime"
    return urlunsplit((scheme, parts.netloc, path, urlencode(query), ""))


def realtime_headers(client: AsyncOpenAI) -> dict[str, str]:
    """The handshake's headers: ``Authorization: Bearer <key>`` and the client's default
    headers (``User-Agent``, ``OpenAI-Organization`` and ``OpenAI-Project`` when set, the
    SDK's platform headers, any the deployment added), as the SDK sends them.

    The result holds the API key: never log it.
    """
    headers: dict[str, tuple[str, str]] = {}  # by lower-case name: a later one replaces
    for source in (client.auth_headers, client.default_headers):
        for name, value in source.items():
            if not isinstance(value, Omit):
                headers[name.lower()] = (name, str(value))
    return dict(headers.values())
