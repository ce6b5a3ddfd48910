"""The engine, one behaviour per test: every event kind, entry order, guards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from runtime.engine import Engine, Limits, all_transitions
from runtime.engine.events import (
    CHITCHAT,
    CLARIFY,
    NO_MATCH,
    AgentSaid,
    CallerSaid,
    CallTool,
    DtmfPressed,
    End,
    HungUp,
    NodeEntered,
    ProviderFailed,
    Respond,
    Say,
    SetOutcome,
    Silence,
    SpeechFinished,
    Tick,
    ToolResult,
    Transfer,
    TransitionCalled,
    UpdateSession,
)
from tests.engines import new_engine

from .flows import looping, reminder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def engine(flow=None, **kw) -> Engine:
    e = new_engine(flow or reminder(), contact={"phone": "+15550100"}, call_id="c1", now=NOW, **kw)
    e.start()
    return e


def kinds(commands) -> list[str]:
    return [type(c).__name__ for c in commands]


def says(commands) -> list[str]:
    return [c.text for c in commands if isinstance(c, Say)]


def test_start_enters_the_start_node_then_updates_the_session_then_speaks():
    e = new_engine(reminder(), contact={}, call_id="c1", now=NOW)
    out = e.start()
    assert out[0] == NodeEntered("greet", "start")
    assert isinstance(out[1], UpdateSession)
    assert says(out) == ["Hi, this is Ava about your appointment."]
    assert e.state.path == ["greet"]


def test_session_offers_node_intents_node_tools_global_intents_and_the_pseudo_tools():
    e = engine()
    names = [t.name for t in e.session().tools]
    assert names == [
        "confirms",
        "declines",
        "knowledge_search",
        "lookup",
        "opt_out_request",
        NO_MATCH,
        CLARIFY,
        CHITCHAT,
    ]
    assert "Ask whether they can make it." in e.session().instructions


def test_engine_refuses_a_naive_clock():
    with pytest.raises(ValueError):
        new_engine(reminder(), contact={}, call_id="c", now=datetime(2026, 1, 1))


def test_intent_transition_enters_target_and_runs_its_end_action_after_say():
    e = engine()
    out = e.handle(TransitionCalled("confirms", {}, "fc1"))
    assert kinds(out) == ["NodeEntered", "UpdateSession", "Say", "SetOutcome", "End"]
    assert out[-1] == End("confirmed")
    assert e.state.ended and e.state.outcome == "confirmed"
    assert e.handle(CallerSaid("hello?")) == []


def test_caller_said_is_recorded_and_counts_a_turn_but_interim_text_is_not():
    e = engine()
    assert e.handle(CallerSaid("uh", final=False)) == []
    assert e.handle(CallerSaid("I am not sure")) == []
    callers = [t["text"] for t in e.state.transcript if t["role"] == "caller"]
    assert callers == ["I am not sure"]
    assert e.state.turns == 1


def test_agent_said_is_recorded_in_the_transcript():
    e = engine()
    e.handle(AgentSaid("Can you make it?"))
    assert e.state.transcript[-1]["role"] == "agent"
    assert e.state.transcript[-1]["text"] == "Can you make it?"


def test_dtmf_single_key_takes_its_transition():
    e = engine()
    out = e.handle(DtmfPressed("1"))
    assert out[0] == NodeEntered("confirmed", "dtmf:1")


def test_dtmf_sequence_waits_for_the_whole_sequence():
    e = engine()
    assert e.handle(DtmfPressed("*")) == []
    out = e.handle(DtmfPressed("9"))
    assert out[0] == NodeEntered("declined", "dtmf:*9")


def test_global_dtmf_transfers_from_any_node():
    e = engine()
    out = e.handle(DtmfPressed("0"))
    assert out[0] == NodeEntered("human", "global:dtmf:0")
    assert Transfer("+15550001111") in out
    assert out[-1] == End("transferred")


def test_unmatched_key_counts_as_no_match():
    e = engine()
    out = e.handle(DtmfPressed("7"))
    assert says(out) == ["Please say yes or no."]


def test_silence_reprompts_up_to_max_then_leaves():
    e = engine()
    assert says(e.handle(Silence(6500))) == ["Are you still there?"]
    assert says(e.handle(Silence(6500))) == ["Are you still there?"]
    out = e.handle(Silence(6500))
    assert out[0] == NodeEntered("goodbye", "silence:6000")
    assert out[-1] == End("completed")


def test_silence_shorter_than_the_threshold_does_nothing():
    e = engine()
    assert e.handle(Silence(3000)) == []


def test_caller_speech_resets_the_silence_reprompt_count():
    e = engine()
    e.handle(Silence(6500))
    e.handle(Silence(6500))
    e.handle(CallerSaid("hmm"))
    assert says(e.handle(Silence(6500))) == ["Are you still there?"]


def test_no_match_reprompts_then_takes_the_no_match_transition():
    e = engine()
    assert says(e.handle(TransitionCalled(NO_MATCH))) == ["Please say yes or no."]
    out = e.handle(TransitionCalled(NO_MATCH))
    assert out[0] == NodeEntered("goodbye", "no_match")


def test_a_function_the_node_does_not_offer_counts_as_no_match():
    e = engine()
    out = e.handle(TransitionCalled("launch_rockets"))
    assert says(out) == ["Please say yes or no."]
    assert any("launch_rockets" in err for err in e.state.errors)


def test_global_intent_works_in_any_node_and_on_enter_call_waits_for_its_result():
    e = engine()
    out = e.handle(TransitionCalled("opt_out_request"))
    assert out[0] == NodeEntered("opted_out", "global:intent:opt_out_request")
    call = out[-1]
    assert isinstance(call, CallTool) and call.name == "opt_out"
    assert says(out) == []  # the confirmation waits for the stored opt-out
    out = e.handle(ToolResult(call.call_id, ok=True, result={"opted_out": True}))
    assert out == [SetOutcome("opted_out"), Say("You won't hear from us again.")]
    assert e.state.results["opt"] == {"opted_out": True}
    assert e.state.opted_out


def test_node_tool_called_by_the_model_becomes_call_tool_and_result_asks_for_a_reply():
    e = engine()
    out = e.handle(TransitionCalled("knowledge_search", {"query": "parking"}, "fc9"))
    assert out == [CallTool("fc9", "knowledge_search", {"query": "parking"})]
    out = e.handle(ToolResult("fc9", ok=True, result={"passages": []}))
    assert out == [Respond()]


def test_failed_http_tool_goes_to_its_on_error_node():
    e = engine()
    e.handle(TransitionCalled("lookup", {}, "fc2"))
    out = e.handle(ToolResult("fc2", ok=False, error="lookup: HTTP 503"))
    assert out[0] == NodeEntered("fallback", "on_error:lookup")


def test_result_for_an_unknown_call_is_ignored_and_recorded():
    e = engine()
    assert e.handle(ToolResult("nope", ok=True, result={})) == []
    assert any("nope" in err for err in e.state.errors)


def test_hang_up_ends_with_hung_up_and_silences_the_engine():
    e = engine()
    assert e.handle(HungUp()) == [End("hung_up")]
    assert e.handle(Silence(10_000)) == []


def test_hang_up_keeps_an_outcome_already_set():
    e = engine()
    e.handle(TransitionCalled("declines"))
    assert e.handle(HungUp()) == [End("declined")]


def test_provider_failure_apologises_and_ends_with_provider_error():
    e = engine()
    out = e.handle(ProviderFailed("websocket closed"))
    assert out == [Say("Sorry, we have a technical problem."), End("provider_error")]


def test_speech_finished_restarts_the_idle_clock():
    e = engine(limits=Limits(idle_ms=10_000))
    e.handle(Tick(NOW + timedelta(seconds=8)))
    e.handle(SpeechFinished())
    assert e.handle(Tick(NOW + timedelta(seconds=15))) == []
    out = e.handle(Tick(NOW + timedelta(seconds=19)))
    assert out[0] == NodeEntered("fallback", "fallback")


def test_guard_pending_tool_without_result_goes_to_fallback():
    e = engine()
    e.handle(TransitionCalled("knowledge_search", {"query": "x"}, "fc3"))
    assert e.handle(Tick(NOW + timedelta(seconds=10))) == []
    out = e.handle(Tick(NOW + timedelta(seconds=16)))
    # Never a silent fallback: the outcome says a tool failed.
    assert out[:2] == [SetOutcome("tool_error"), NodeEntered("fallback", "fallback")]
    assert e.state.pending == {}


def test_guard_http_tool_deadline_follows_its_timeout_and_retries():
    e = engine()
    e.handle(TransitionCalled("lookup", {}, "fc4"))
    # 1000 ms x 2 attempts + 5000 ms slack
    assert e.handle(Tick(NOW + timedelta(milliseconds=6900))) == []
    out = e.handle(Tick(NOW + timedelta(milliseconds=7100)))
    assert out[0] == NodeEntered("fallback", "on_error:lookup")


def test_guard_model_that_never_replies_leads_to_fallback():
    e = engine(limits=Limits(reply_timeout_ms=5000))
    out = e.handle(TransitionCalled("knowledge_search", {"query": "x"}, "fc5"))
    e.handle(ToolResult("fc5", ok=True, result={}))
    assert e.state.awaiting_reply_since == NOW
    out = e.handle(Tick(NOW + timedelta(seconds=6)))
    assert out[0] == NodeEntered("fallback", "fallback")


def test_guard_node_without_input_for_too_long_leads_to_fallback():
    e = engine(limits=Limits(idle_ms=30_000))
    assert e.handle(Tick(NOW + timedelta(seconds=29))) == []
    out = e.handle(Tick(NOW + timedelta(seconds=31)))
    assert out[0] == NodeEntered("fallback", "fallback")
    assert out[-1] == End("completed")


def test_guard_without_fallback_says_goodbye_and_ends():
    e = engine(reminder(fallback=None), limits=Limits(idle_ms=1000))
    out = e.handle(Tick(NOW + timedelta(seconds=2)))
    assert out == [Say(Limits().goodbye), End("unknown")]


def test_guard_loop_through_the_same_nodes_leads_to_fallback():
    e = engine(looping(), limits=Limits(max_visits=3))
    nodes = []
    for _ in range(10):
        out = e.handle(TransitionCalled("next"))
        nodes += [c.name for c in out if isinstance(c, NodeEntered)]
        if e.state.ended:
            break
    assert nodes == ["b", "a", "b", "a", "b", "fb"]
    assert e.state.ended


def test_snapshot_is_plain_json_with_path_and_taken_transitions():
    import json

    e = engine()
    e.handle(CallerSaid("no"))
    e.handle(TransitionCalled("declines"))
    snap = e.state.snapshot()
    json.dumps(snap)
    assert snap["path"] == ["greet", "declined"]
    assert snap["taken"] == [["greet", "intent:declines", "declined"]]
    assert snap["outcome"] == "declined"


def test_all_transitions_names_node_and_global_transitions():
    keys = all_transitions(reminder())
    assert ("greet", "dtmf:*9") in keys
    assert ("*", "intent:opt_out_request") in keys
    assert ("greet", "silence:6000") in keys


def test_http_tool_called_by_the_model_maps_its_result_under_its_name():
    e = engine()
    e.handle(TransitionCalled("lookup", {}, "fc6"))
    assert e.handle(ToolResult("fc6", ok=True, result={"day": "Friday"})) == [Respond()]
    assert e.values()["lookup"] == {"day": "Friday"}


def test_no_match_counts_misses_in_a_row_only():
    from dsl.ir import Agent, Flow, IntentTransition, Node, NoMatchTransition, Template

    flow = Flow(
        Agent(
            name="a",
            persona=Template("p"),
            start="n",
            nodes=(
                Node(
                    "n",
                    transitions=(
                        IntentTransition("noted", "noted", None),
                        NoMatchTransition("out", Template("Again?"), 1),
                    ),
                ),
                Node("out", say=(Template("Bye."),)),
            ),
        )
    )
    e = new_engine(flow, contact={}, call_id="c", now=NOW)
    e.start()
    assert says(e.handle(TransitionCalled(NO_MATCH))) == ["Again?"]
    e.handle(TransitionCalled("noted"))
    assert says(e.handle(TransitionCalled(NO_MATCH))) == ["Again?"]
    assert e.handle(TransitionCalled(NO_MATCH))[0] == NodeEntered("out", "no_match")
