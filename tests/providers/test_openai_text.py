"""The OpenAI text provider against the chat-completions stand-in (not the live service)."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.call.assemble import text_call
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import TextSession
from runtime.persistence import InMemoryPersistence
from runtime.providers.openai_text import OpenAITextProvider
from tests.call.conftest import CONTACT, reminder
from tests.standins.openai_chat import OpenAIChatStandin


async def test_chat_turn_sends_node_tools_and_maps_tool_calls_to_transitions() -> None:
    replies = [{"tool_calls": [("reschedule", {})]}]
    async with OpenAIChatStandin(replies) as standin:
        provider = OpenAITextProvider(api_key="sk-standin", base_url=standin.base_url)
        session = chat(provider)
        await session.start()
        step = await session.caller_says("I can't make it")
    request = standin.requests[0]
    assert request["messages"][0]["role"] == "system"
    assert request["messages"][-1] == {"role": "user", "content": "I can't make it"}
    names = {t["function"]["name"] for t in request["tools"]}
    assert {"confirms", "reschedule", "cancel", "opt_out"} <= names
    assert step.node == "reschedule" and [t.name for t in step.transitions] == ["reschedule"]
    assert provider.usage == {"input_tokens": 120, "output_tokens": 12}


async def test_text_reply_is_returned_as_the_models_words() -> None:
    async with OpenAIChatStandin([{"content": "Could you repeat that?"}]) as standin:
        provider = OpenAITextProvider(api_key="sk-standin", base_url=standin.base_url)
        session = chat(provider)
        await session.start()
        step = await session.caller_says("hmm")
    assert step.replies == ["Could you repeat that?"] and step.node == "greet"


def chat(provider: OpenAITextProvider) -> TextSession:
    spec = CallSpec(reminder(), call_id="chat", now=datetime(2026, 11, 23, 15, tzinfo=UTC),
                    contact=CONTACT)  # fmt: skip
    return text_call(spec, CallServices(InMemoryPersistence()), provider)
