"""A local stand-in for OpenAI chat completions (``POST /v1/chat/completions``, HTTP JSON).

Answers are scripted per test: each request takes the next reply of ``replies`` — a
``{"content": ...}`` and/or ``{"tool_calls": [(name, arguments), ...]}`` — and is answered with
a ``chat.completion`` object of the documented shape (``choices[0].message``, ``finish_reason``,
``usage``). Requests are recorded in ``requests``.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.standins.harness import LocalServer


class OpenAIChatStandin:
    def __init__(self, replies: list[dict[str, Any]], *, api_key: str = "sk-standin") -> None:
        self.replies = list(replies)
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._server = LocalServer(
            Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.port}/v1"

    async def __aenter__(self) -> OpenAIChatStandin:
        await self._server.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._server.__aexit__(*exc)

    async def _complete(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return JSONResponse({"error": {"message": "Incorrect API key provided.", "type": "invalid_request_error",
                                           "code": "invalid_api_key", "param": None}}, status_code=401)  # fmt: skip
        body = await request.json()
        self.requests.append(body)
        if not isinstance(body.get("messages"), list) or not body.get("model"):
            return JSONResponse({"error": {"message": "messages and model are required",
                                           "type": "invalid_request_error", "code": None, "param": None}},
                                status_code=400)  # fmt: skip
        reply = self.replies.pop(0) if self.replies else {"content": "..."}
        calls = [
            {"id": f"call_{next(self._ids)}", "type": "function",
             "function": {"name": name, "arguments": json.dumps(args)}}
            for name, args in reply.get("tool_calls", [])
        ]  # fmt: skip
        message: dict[str, Any] = {
            "role": "assistant",
            "content": reply.get("content"),
            "refusal": None,
        }
        if calls:
            message["tool_calls"] = calls
        return JSONResponse({
            "id": f"chatcmpl-{next(self._ids)}", "object": "chat.completion", "created": 1763769600,
            "model": body["model"],
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
        })  # fmt: skip
