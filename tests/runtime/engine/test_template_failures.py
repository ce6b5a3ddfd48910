"""A template that does not render is an explicit ``TemplateFailed``, never a silent gap."""

from __future__ import annotations

from datetime import UTC, datetime

from dsl.ir import Agent, EndAction, Flow, IntentTransition, Node, Template, TransferAction
from runtime.call.assemble import text_call
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import TextSession
from runtime.convtest.model import Expect
from runtime.convtest.runner import check
from runtime.engine.events import Say, TemplateFailed, TransitionCalled
from runtime.persistence import InMemoryPersistence
from runtime.providers.local import LocalProvider
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
BROKEN = "You owe {{ contact.balance / 0 }} dollars."


def flow(*, transfer_to: str = "+15550001111") -> Flow:
    return Flow(
        Agent(
            name="t",
            persona=Template("p"),
            start="greet",
            fallback="sorry",
            nodes=(
                Node(
                    "greet",
                    say=(Template("Hello."), Template(BROKEN)),
                    task=Template("Ask if they will pay."),
                    transitions=(IntentTransition("human", "wants a person", "human"),),
                ),
                Node("human", on_enter=(TransferAction(Template(transfer_to)),)),
                Node("sorry", say=(Template("Sorry."),), on_enter=(EndAction(),)),
            ),
        )
    )


def chat() -> TextSession:
    return text_call(
        CallSpec(flow(), call_id="c", now=NOW, contact={"balance": "12"}),
        CallServices(InMemoryPersistence()),
        LocalProvider(),
    )


def test_a_say_line_that_does_not_render_is_reported_with_its_node_and_template() -> None:
    engine = new_engine(flow(), contact={"balance": "12"}, call_id="c", now=NOW)

    commands = engine.start()

    assert [c.text for c in commands if isinstance(c, Say)] == ["Hello."]
    (failed,) = [c for c in commands if isinstance(c, TemplateFailed)]
    assert failed.node == "greet" and failed.template == BROKEN
    assert "unsupported operand" in failed.error
    assert any(BROKEN in e for e in engine.state.errors)


def test_a_transfer_target_that_does_not_render_goes_to_the_fallback_instead_of_raising() -> None:
    engine = new_engine(
        flow(transfer_to="{{ contact.desk / 0 }}"), contact={"desk": "1"}, call_id="c", now=NOW
    )
    engine.start()

    commands = engine.handle(TransitionCalled("human", {}, "x"))

    assert any(isinstance(c, TemplateFailed) for c in commands)
    assert engine.state.path[-1] == "sorry" and engine.state.ended


async def test_the_text_session_reports_say_lines_that_fail_while_asking_the_model() -> None:
    session = chat()
    start = await session.start()
    assert [f.template for f in start.template_errors] == [BROKEN]

    # Building the model's request renders the node's say lines again: reported, not dropped.
    step = await session.caller_says("what was that?")

    assert [f.template for f in step.template_errors] == [BROKEN]


async def test_a_conversation_test_fails_on_a_template_that_does_not_render() -> None:
    session = chat()
    step = await session.start()

    failures = check(step, Expect(node="greet"), session, 0, "start")

    assert [f.field for f in failures] == ["template"]
