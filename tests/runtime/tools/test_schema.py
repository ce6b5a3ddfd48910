"""Every tool's JSON schema is derived from, and agrees with, its handler's signature."""

from __future__ import annotations

import inspect
import typing

import pytest

from dsl.ir import Field, Slot
from runtime.engine.events import ToolSpec
from runtime.tools import BUILTINS
from runtime.tools.registry import Registry
from runtime.tools.schema import fields_schema, slots_schema, type_schema

_JSON_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}


@pytest.mark.parametrize("tool", list(BUILTINS), ids=lambda t: t.name)
def test_builtin_schema_matches_handler_signature(tool):
    params = list(inspect.signature(tool.handler).parameters.values())[1:]
    hints = typing.get_type_hints(tool.handler)
    schema = tool.parameters
    assert schema["type"] == "object"
    assert list(schema["properties"]) == [p.name for p in params]
    required = [p.name for p in params if p.default is inspect.Parameter.empty]
    assert schema["required"] == required
    for p in params:
        prop = schema["properties"][p.name]
        hint = hints[p.name]
        args = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
        expected = {_JSON_TYPES[a] for a in args}
        found = {prop["type"]} if "type" in prop else {x["type"] for x in prop["anyOf"]} - {"null"}
        assert found == expected, p.name
        assert prop["description"]
        if p.default is not inspect.Parameter.empty:
            assert prop["default"] == p.default


def test_every_ir_builtin_has_a_registered_handler():
    from dsl.ir import BUILTIN_TOOLS

    assert set(BUILTIN_TOOLS) == set(BUILTINS.names())


@pytest.mark.parametrize("tool", list(BUILTINS), ids=lambda t: t.name)
def test_builtin_spec_has_openai_and_ultravox_shapes(tool):
    spec = tool.spec
    oa = spec.openai()
    assert oa == {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
    }
    uv = spec.ultravox()["temporaryTool"]
    assert uv["modelToolName"] == tool.name
    assert uv["client"] == {}
    assert [p["name"] for p in uv["dynamicParameters"]] == list(tool.parameters["properties"])
    assert {p["name"] for p in uv["dynamicParameters"] if p["required"]} == set(
        tool.parameters["required"]
    )


def test_registry_rejects_a_sync_handler():
    reg = Registry()
    with pytest.raises(TypeError):

        @reg.tool
        def not_async(ctx, x: int) -> dict:  # pragma: no cover - never registered
            return {}


def test_ir_type_names_map_to_json_schema():
    assert type_schema("int") == {"type": "integer"}
    assert type_schema("list[date]") == {
        "type": "array",
        "items": {"type": "string", "format": "date"},
    }
    assert type_schema("enum[yes|no]") == {"type": "string", "enum": ["yes", "no"]}


def test_flow_fields_give_required_list_and_descriptions():
    schema = fields_schema(
        [Field("day", "date", description="d"), Field("n", "int", required=False)]
    )
    assert schema["required"] == ["day"]
    assert schema["properties"]["day"]["description"] == "d"


def test_slot_schema_makes_every_slot_optional():
    assert slots_schema([Slot("amount", "money")])["required"] == []


def test_ultravox_shape_of_a_flow_tool():
    spec = ToolSpec("book", "Book it", fields_schema([Field("day", "date")]))
    assert spec.ultravox()["temporaryTool"]["dynamicParameters"] == [
        {
            "name": "day",
            "location": "PARAMETER_LOCATION_BODY",
            "schema": {"type": "string", "format": "date"},
            "required": True,
        }
    ]
