"""A text model as the engine's ``TextProvider``: OpenAI chat completions with tools.

Used by ``voxflow chat --provider openai`` and the studio's test chat. One turn is one
``chat.completions.create`` call: the node's instructions as the system message, the call's
history, the caller's words (or the last tool result when the engine asked the model to go on),
and the node's transitions and tools as function tools. Function calls come back as
``TransitionCalled`` (the engine decides what they do); text comes back as the reply.
"""

from __future__ import annotations

import json
from typing import Any

from openai import AsyncOpenAI

from runtime.engine.events import TransitionCalled
from runtime.engine.turn import ProviderTurn, TurnRequest

DEFAULT_MODEL = "gpt-4.1-mini"


def chat_tools(request: TurnRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": t.plain_parameters(),
            },
        }
        for t in request.tools
    ]


def chat_messages(request: TurnRequest) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": request.instructions}]
    for role, text in request.history:
        messages.append({"role": "user" if role == "caller" else "assistant", "content": text})
    if request.text is not None:
        if not request.history or request.history[-1] != ("caller", request.text):
            messages.append({"role": "user", "content": request.text})
    elif request.tool_result is not None:
        result = json.dumps(request.tool_result, default=str)
        messages.append({"role": "system", "content": f"Result of the last tool call: {result}"})
    return messages


class OpenAITextProvider:
    """Chat completions with function tools.

    Built by ``runtime.providers.registry.Providers.text`` from the settings.

    Args:
        api_key / base_url: ``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``.
        model: a chat model with tool calling.
    """

    def __init__(
        self, *, api_key: str, base_url: str | None = None, model: str = DEFAULT_MODEL
    ) -> None:
        self.model = model
        self._client = AsyncOpenAI(api_key=api_key, base_url=base_url, max_retries=1)
        self.usage = {"input_tokens": 0, "output_tokens": 0}

    async def turn(self, request: TurnRequest) -> ProviderTurn:
        kwargs: dict[str, Any] = {"model": self.model, "messages": chat_messages(request)}
        tools = chat_tools(request)
        if tools:
            kwargs["tools"] = tools
            kwargs["tool_choice"] = "auto"
        completion = await self._client.chat.completions.create(**kwargs)
        if completion.usage is not None:
            self.usage["input_tokens"] += completion.usage.prompt_tokens
            self.usage["output_tokens"] += completion.usage.completion_tokens
        message = completion.choices[0].message
        calls = []
        for call in message.tool_calls or ():
            try:
                args = json.loads(call.function.arguments or "{}")
            except json.JSONDecodeError:
                args = {}
            calls.append(
                TransitionCalled(
                    call.function.name, args if isinstance(args, dict) else {}, call.id
                )
            )
        return ProviderTurn(calls=tuple(calls), reply=message.content or None,
                            explanation=f"{self.model}: {len(calls)} call(s)")  # fmt: skip
