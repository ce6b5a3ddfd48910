"""A tool failure is an explicit event of the call: ``on tool_error`` or the outcome
``tool_error``, never a silent fallback with ``completed``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dsl import compile_source
from runtime.engine.events import CallTool, End, NodeEntered, Say, SetOutcome, Tick, ToolResult
from runtime.tools.builtins import BUILTINS
from runtime.tools.registry import Registry
from tests.engines import new_engine

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)

SRC = """\
agent t
  persona "p"
  context contact(due: datetime)
  outcomes booked
  fallback goodbye

  node book
    call schedule_callback(when = contact.due, reason = 'asked') into cb
    say "Booked for {{ cb.at }}."
    end booked
HANDLER
  node sorry
    say "Sorry, the {{ tool_error.tool }} step failed."
    end

  node goodbye
    say "Goodbye."
    end
"""


def engine(handler: str = ""):
    flow = compile_source(SRC.replace("HANDLER", handler), file="t.flow").unwrap()
    e = new_engine(flow, contact={"due": "2026-11-24T10:00:00-05:00"}, call_id="c", now=NOW)
    out = e.start()
    call = next(c for c in out if isinstance(c, CallTool))
    return e, call


def test_a_datetime_argument_reaches_the_tool_as_iso_text():
    _, call = engine()
    assert call.arguments == {"when": "2026-11-24T15:00:00+00:00", "reason": "asked"}


def test_a_failed_call_action_without_handler_sets_the_outcome_tool_error():
    e, call = engine()
    out = e.handle(ToolResult(call.call_id, ok=False, error="could not read a date"))
    assert out[0] == SetOutcome("tool_error")
    assert NodeEntered("goodbye", "fallback") in out
    assert out[-1] == End("tool_error")
    events = [x["text"] for x in e.state.transcript if x["role"] == "event"]
    assert "tool_error: schedule_callback" in events


@pytest.mark.parametrize(
    "handler", ["    on tool_error schedule_callback -> sorry\n", "    on tool_error -> sorry\n"]
)
def test_on_tool_error_in_the_node_is_taken_and_reads_what_failed(handler):
    e, call = engine(handler)
    out = e.handle(ToolResult(call.call_id, ok=False, error="boom"))
    assert (
        NodeEntered(
            "sorry", "tool_error:schedule_callback" if "callback ->" in handler else "tool_error"
        )
        in out
    )
    assert Say("Sorry, the schedule_callback step failed.") in out
    assert e.state.results["tool_error"] == {"tool": "schedule_callback", "message": "boom"}
    assert e.state.outcome == "completed"


def test_a_global_on_tool_error_catches_a_tool_that_never_answers():
    src_global = "  global\n    on tool_error -> sorry\n"
    flow = compile_source(
        SRC.replace("HANDLER", "").replace(
            "  fallback goodbye\n", "  fallback goodbye\n" + src_global
        ),
        file="t.flow",
    ).unwrap()
    e = new_engine(flow, contact={"due": "2026-11-24T10:00:00-05:00"}, call_id="c", now=NOW)
    e.start()
    out = e.handle(Tick(NOW + timedelta(seconds=60)))
    assert NodeEntered("sorry", "global:tool_error") in out
    assert e.state.results["tool_error"]["tool"] == "schedule_callback"


def test_the_registry_refuses_a_builtin_whose_signature_differs_from_its_declaration():
    from dsl.builtins import BUILTINS as DECLARED

    registry = Registry(declared=DECLARED)

    async def schedule_callback(ctx, at=None, reason=""):  # 'at' is not declared
        return {}

    with pytest.raises(TypeError, match="dsl.builtins declares"):
        registry.tool(schedule_callback)


def test_every_runtime_builtin_implements_its_declaration():
    from dsl.builtins import BUILTINS as DECLARED

    assert {t.name for t in BUILTINS} == set(DECLARED)
    for tool in BUILTINS:
        assert tool.description == DECLARED[tool.name].description
