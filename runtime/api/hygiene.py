"""Requests are checked before any route sees them: what no route could store is refused.

PostgreSQL's ``text`` and ``jsonb`` cannot hold NUL (U+0000), and UTF-8 has no lone
surrogates (U+D800-U+DFFF, which JSON's ``\\ud800`` escapes can still produce); a value holding
either would fail deep inside a query as a 500. Nesting beyond ``MAX_JSON_DEPTH`` only ever
comes from an attacker and would exhaust the recursion of every later step. So the middleware
answers, in the API's error model:

- 413 ``body_too_large`` for a body over ``MAX_JSON_BODY`` (``MAX_UPLOAD_BODY`` for uploads),
  counted as it arrives, before it is parsed;
- 422 ``invalid_text`` for NUL, a lone surrogate or invalid UTF-8 in the path, the query, a
  JSON body's strings or keys (the message names the JSON path of the first one);
- 422 ``json_too_deep`` for a JSON body nested deeper than ``MAX_JSON_DEPTH``.

Uploads (multipart) are size-checked here; their content is checked by the contacts reader.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_JSON_BODY = 8 * 1024 * 1024
MAX_UPLOAD_BODY = 51 * 1024 * 1024
"""The contacts upload limit (50 MiB) plus room for the multipart envelope."""
MAX_JSON_DEPTH = 32

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class _Refused(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


class InputHygiene:
    """ASGI middleware applying the checks of this module to every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_url(scope)
            body = await _read_body(scope, receive)
        except _Refused as refused:
            await _answer(send, refused)
            return
        if body is None:  # the client went away
            return
        if body and not _is_multipart(scope):
            try:
                _check_json(body)
            except _Refused as refused:
                await _answer(send, refused)
                return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _header(scope: Scope, name: bytes) -> bytes:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return b""


def _is_multipart(scope: Scope) -> bool:
    return _header(scope, b"content-type").lower().startswith(b"multipart/")


def _check_url(scope: Scope) -> None:
    raw_path = scope.get("raw_path") or scope["path"].encode("utf-8", "surrogateescape")
    for where, raw in (("path", unquote_to_bytes(raw_path)), ("query", _query(scope))):
        if b"\x00" in raw:
            raise _Refused(422, "invalid_text", f"the {where} holds a NUL character (%00)")
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Refused(
                422,
                "invalid_text",
                f"the {where} is not valid UTF-8 (byte {exc.start}); percent-encode UTF-8 text",
            ) from None


def _query(scope: Scope) -> bytes:
    query: bytes = scope.get("query_string", b"")
    return unquote_to_bytes(query.replace(b"+", b" "))


async def _read_body(scope: Scope, receive: Receive) -> bytes | None:
    limit = MAX_UPLOAD_BODY if _is_multipart(scope) else MAX_JSON_BODY
    declared = _header(scope, b"content-length")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        if len(body) > limit:
            raise _too_large(limit)
        if not message.get("more_body", False):
            return bytes(body)


def _too_large(limit: int) -> _Refused:
    return _Refused(413, "body_too_large", f"the request body exceeds {limit} bytes")


def _check_json(body: bytes) -> None:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Refused(
            422, "invalid_text", f"the body is not valid UTF-8 (byte {exc.start})"
        ) from None
    try:
        value = json.loads(text)
    except RecursionError:
        raise _Refused(
            422, "json_too_deep", f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    except ValueError:
        return  # not JSON: the route's own validation answers
    _check_value(value)


def _check_value(value: Any) -> None:
    """Walk the parsed body without recursion: depth first, with each value's JSON path."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        v, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _Refused(
                422,
                "json_too_deep",
                f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels (at {path[:200]})",
            )
        if isinstance(v, str):
            _check_text(v, path)
        elif isinstance(v, dict):
            for k, item in v.items():
                _check_text(k, f"{path} (a key)")
                stack.append((item, f"{path}.{k}", depth + 1))
        elif isinstance(v, list):
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(v))


def _check_text(text: str, path: str) -> None:
    m = _UNSTORABLE.search(text)
    if m is None:
        return
    char = m.group()
    what = "a NUL character" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"
    raise _Refused(
        422,
        "invalid_text",
        f"{path[:200]} holds {what}, which cannot be stored; remove it or send valid UTF-8 text",
    )


async def _answer(send: Send, refused: _Refused) -> None:
    body = json.dumps({"code": refused.code, "message": refused.message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": refused.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
