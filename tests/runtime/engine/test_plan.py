"""One plan per flow: every call of a flow shares its tables and node tools, and none can
change them (``runtime.engine.plan``, ``runtime.engine.frozen``)."""

from __future__ import annotations

import dataclasses
import gc
import json
import weakref
from datetime import UTC, datetime

import pytest

from runtime.engine import Engine
from runtime.engine import plan as plan_module
from runtime.engine.events import (
    PROVIDE_SLOTS,
    CallerSaid,
    NodeEntered,
    ToolSpec,
    TransitionCalled,
)
from runtime.engine.plan import flow_plan
from runtime.tools import specs as specs_module
from runtime.tools import tool_specs
from tests.engines import new_engine

from .flows import T, reminder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def call(flow, call_id: str, **contact: str) -> Engine:
    e = new_engine(flow, contact=contact, call_id=call_id, now=NOW)
    e.start()
    return e


def test_two_calls_of_one_flow_share_its_plan_tool_specs_and_node_sessions():
    flow = reminder()
    a, b = call(flow, "a"), call(flow, "b")

    assert tool_specs(flow) is tool_specs(flow)
    assert flow_plan(flow, tool_specs(flow)) is flow_plan(flow, tool_specs(flow))
    # greet's persona and task are plain text: its whole session is the flow's.
    assert a.session() is b.session()
    assert a.session().tools is b.session().tools
    for x, y in zip(a.session().tools, b.session().tools, strict=True):
        assert x is y
        assert x.parameters is y.parameters
    assert a.session().tools[0].name == "confirms"


def test_a_templated_persona_is_rendered_per_call_around_the_shared_tools():
    base = reminder()
    persona = T("You are Ava, calling {{ contact.first_name }}.")
    flow = dataclasses.replace(base, agent=dataclasses.replace(base.agent, persona=persona))
    ada, bob = call(flow, "a", first_name="Ada"), call(flow, "b", first_name="Bob")

    assert ada.session().instructions.startswith("You are Ava, calling Ada.")
    assert bob.session().instructions.startswith("You are Ava, calling Bob.")
    assert ada.session().tools is bob.session().tools


def test_a_call_cannot_change_what_another_call_of_its_flow_sees():
    flow = reminder()
    a = call(flow, "a")
    session = a.session()
    confirms = session.tools[0]
    before = confirms.openai()

    with pytest.raises(TypeError):
        confirms.parameters["type"] = "string"  # type: ignore[index]
    with pytest.raises(TypeError):
        confirms.parameters["properties"]["extra"] = {}
    with pytest.raises(AttributeError):
        confirms.parameters["required"].append("extra")
    with pytest.raises(dataclasses.FrozenInstanceError):
        confirms.description = "changed"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        session.tools = ()  # type: ignore[misc]
    with pytest.raises(AttributeError):
        session.tools.append(confirms)  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        tool_specs(flow)["confirms"] = confirms  # type: ignore[index]
    plan = flow_plan(flow, tool_specs(flow))
    with pytest.raises(TypeError):
        plan.nodes["greet"] = plan.nodes["goodbye"]  # type: ignore[index]
    with pytest.raises(TypeError):
        plan.node_intents["greet"]["confirms"] = plan.global_intents["opt_out_request"]  # type: ignore[index]
    with pytest.raises(TypeError):
        plan.sessions["greet"] = session  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.global_when = True  # type: ignore[misc]

    b = call(flow, "b")
    assert b.session().tools[0] is confirms
    assert b.session().tools[0].openai() == before


def test_a_payload_gets_its_own_plain_copy_of_a_schema():
    spec = ToolSpec(
        PROVIDE_SLOTS,
        "slots",
        {
            "type": "object",
            "properties": {"day": {"type": "string", "enum": ["mon", "tue"]}},
            "required": ["day"],
        },
    )
    sent = spec.openai()
    assert sent["parameters"] == {
        "type": "object",
        "properties": {"day": {"type": "string", "enum": ["mon", "tue"]}},
        "required": ["day"],
    }
    assert type(sent["parameters"]["properties"]["day"]["enum"]) is list
    json.dumps(sent)  # what the adapter does with it
    sent["parameters"]["required"].append("hour")
    sent["parameters"]["properties"]["day"]["enum"].clear()
    (param,) = spec.ultravox()["temporaryTool"]["dynamicParameters"]
    assert param["schema"] == {"type": "string", "enum": ["mon", "tue"]}
    param["schema"]["enum"].append("wed")
    assert spec.plain_parameters()["required"] == ["day"]
    assert spec.openai()["parameters"]["properties"]["day"]["enum"] == ["mon", "tue"]


def test_a_spec_built_from_a_dict_does_not_see_later_changes_to_it():
    schema = {"type": "object", "properties": {}, "required": []}
    spec = ToolSpec("lookup", "Look up", schema)
    schema["properties"]["id"] = {"type": "string"}
    assert spec.plain_parameters() == {"type": "object", "properties": {}, "required": []}


def test_tools_given_as_a_dict_get_a_plan_of_their_own_and_the_same_behaviour():
    flow = reminder()
    mine = dict(tool_specs(flow))
    a = Engine(flow, contact={}, call_id="a", now=NOW, tools=mine)
    b = Engine(flow, contact={}, call_id="b", now=NOW, tools=mine)
    shared = new_engine(flow, contact={}, call_id="c", now=NOW)
    out = [e.start() for e in (a, b, shared)]

    assert a._plan is not b._plan
    assert out[0] == out[1] == out[2]
    assert a.session() == shared.session()
    mine.clear()  # the owner's dict is theirs; the plans took a copy
    assert a.session() == shared.session()


def test_a_flow_nobody_holds_is_freed_with_its_plan_and_specs():
    flow = reminder()
    plans, specs = len(plan_module._PLANS), len(specs_module._SPECS)
    e = call(flow, "a")
    out = e.handle(CallerSaid("yes"))
    assert len(plan_module._PLANS) == plans + 1
    assert len(specs_module._SPECS) == specs + 1
    gone = weakref.ref(flow)
    del flow, e, out
    gc.collect()

    assert gone() is None
    assert len(plan_module._PLANS) == plans
    assert len(specs_module._SPECS) == specs


def test_a_new_flow_object_gets_its_own_plan_even_when_equal():
    flow = reminder()
    again = reminder()
    assert again == flow
    a, b = call(flow, "a"), call(again, "b")

    assert a.session() == b.session()
    assert a.session() is not b.session()
    assert [s.name for s in a.session().tools] == [s.name for s in b.session().tools]


def test_calls_of_a_shared_plan_still_run_their_own_course():
    flow = reminder()
    a, b = call(flow, "a"), call(flow, "b")
    a.handle(TransitionCalled("confirms"))

    assert a.state.path == ["greet", "confirmed"]
    assert a.state.ended and a.state.outcome == "confirmed"
    assert b.state.path == ["greet"] and not b.state.ended
    assert b.handle(TransitionCalled("declines"))[0] == NodeEntered("declined", "intent:declines")
    assert b.state.outcome == "declined"
