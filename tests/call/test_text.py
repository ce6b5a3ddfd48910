"""``TextSession``: engine + tools + a text provider, step by step, as ``text_call`` assembles it."""

from __future__ import annotations

from datetime import UTC, datetime

from runtime.call.assemble import text_call
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import TextSession
from runtime.engine.events import TransitionCalled
from runtime.engine.turn import ProviderTurn, TurnRequest
from runtime.knowledge import InMemoryKnowledgeBase
from runtime.persistence import InMemoryPersistence
from runtime.providers.local import LocalProvider
from tests.runtime.engine.flows import reminder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


class Scripted:
    """A provider that answers with the turns it is given, and keeps the requests."""

    def __init__(self, *turns: ProviderTurn) -> None:
        self.turns = list(turns)
        self.requests: list[TurnRequest] = []

    async def turn(self, request: TurnRequest) -> ProviderTurn:
        self.requests.append(request)
        return self.turns.pop(0) if self.turns else ProviderTurn()


def session(provider, *, canned=None, persistence=None, knowledge=None) -> TextSession:
    return text_call(
        CallSpec(reminder(), call_id="chat", now=NOW, contact={"phone": "+1555"}),
        CallServices(persistence or InMemoryPersistence(), knowledge=knowledge),
        provider,
        canned=canned,
    )


async def test_start_reports_node_and_speech():
    step = await session(Scripted()).start()
    assert step.nodes == ["greet"]
    assert step.said == ["Hi, this is Ava about your appointment."]
    assert step.node == "greet" and not step.ended


async def test_caller_text_goes_to_the_provider_with_the_node_context():
    provider = Scripted(ProviderTurn(calls=(TransitionCalled("confirms", {}, "x"),)))
    s = session(provider)
    await s.start()
    step = await s.caller_says("yes")
    (request,) = provider.requests
    assert request.text == "yes"
    assert [i.name for i in request.intents] == ["confirms", "declines", "opt_out_request"]
    assert request.say == ("Hi, this is Ava about your appointment.",)
    assert step.nodes == ["confirmed"] and step.outcome == "confirmed" and step.ended


async def test_tool_result_is_fed_back_and_the_model_reply_is_spoken():
    kb = InMemoryKnowledgeBase({"faq": ["Parking is free."]})
    provider = Scripted(
        ProviderTurn(calls=(TransitionCalled("knowledge_search", {"query": "parking"}, "k1"),)),
        ProviderTurn(reply="Parking is free."),
    )
    s = session(provider, knowledge=kb)
    await s.start()
    step = await s.caller_says("where do I park?")
    # reminder() has no KnowledgeTool, so the real built-in fails cleanly; the model answers
    assert [c.name for c in step.tool_calls] == ["knowledge_search"]
    assert step.tool_results[0].ok is False
    assert provider.requests[1].text is None
    assert provider.requests[1].tool_result == {"error": "this agent has no knowledge base"}
    assert step.replies == ["Parking is free."]
    assert s.state.transcript[-1]["text"] == "Parking is free."


async def test_opt_out_is_persisted_before_the_confirmation_is_spoken():
    store = InMemoryPersistence()
    s = session(LocalProvider(), persistence=store)
    await s.start()
    step = await s.caller_says("stop calling me")
    assert len(store.opt_outs) == 1
    assert [c.name for c in step.tool_calls] == ["opt_out"]
    assert step.said == ["You won't hear from us again."]


async def test_keys_silence_and_hang_up():
    s = session(LocalProvider())
    await s.start()
    assert (await s.silence(6500)).said == ["Are you still there?"]
    assert s.now == datetime(2026, 11, 23, 15, 0, 6, 500000, tzinfo=UTC)
    assert (await s.press("*9")).nodes == ["declined"]
    step = await s.hang_up()
    assert step.ended and step.outcome == "declined"


async def test_canned_tool_results_replace_the_tool():
    s = session(LocalProvider(), canned={"opt_out": {"error": "database down"}})
    await s.start()
    step = await s.caller_says("stop calling me")
    assert step.tool_results[0].error == "database down"
    assert step.nodes == ["opted_out", "fallback"]
