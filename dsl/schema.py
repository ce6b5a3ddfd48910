"""JSON Schema (draft 2020-12) of ``*.flow.yaml`` documents, for editor completion.

``voxflow schema`` prints it; point an editor's YAML extension at it, e.g. with a first line
``# yaml-language-server: $schema=flow.schema.json``. The compiler does not need it (it checks
more than a schema can), but the two describe the same keys: a test validates every example
flow against it.
"""

from __future__ import annotations

from typing import Any

from dsl.ir import BUILTIN_TOOLS
from dsl.providers import PROVIDER_NAMES

_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_DURATION = {
    "type": "string",
    "pattern": r"^(\d+(\.\d+)?(ms|s|m|h|d))+$",
    "examples": ["30s", "15m", "2h"],
}
_TEMPLATE = {"type": "string", "description": "Jinja2 template ({{ contact.first_name }})"}
_ON_CHANGE = {
    "enum": ["rerun", "keep"],
    "description": "what a correction of a filled slot does: rerun what reads it, or keep going",
}
_REPAIR_HEAD = {
    "anyOf": [_TEMPLATE, {"type": ["boolean", "null"]}],
    "description": "the wording, true or nothing for the built-in one, false to turn it off",
}
_EXPR = {"type": ["string", "number", "boolean"], "description": "expression (contact.age >= 18)"}
_TYPE = {
    "type": "string",
    "description": "str, int, float, bool, date, time, datetime, duration, tz, phone, email, money, digits, list[t], enum[a|b]; a trailing ? makes it optional",
}

_TURN = {
    "turn_detection": {"enum": ["server_vad", "semantic_vad"]},
    "vad_threshold": {"type": "number", "minimum": 0, "maximum": 1},
    "eagerness": {"enum": ["low", "medium", "high", "auto"]},
    "silence": _DURATION,
    "prefix_padding": _DURATION,
}
"""The turn detection keys: the agent's (in ``provider``) and a node's own (``turn``)."""


def _obj(props: dict[str, Any], required: list[str] | None = None, **more: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    out.update(more)
    return out


def _field(with_default: bool = False) -> dict[str, Any]:
    props = {"type": _TYPE, "required": {"type": "boolean"}, "description": {"type": "string"}}
    if with_default:
        props["default"] = _EXPR
    return {"anyOf": [_TYPE, _obj(props, ["type"])]}


def _fields(with_default: bool = False) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": _field(with_default)}


def flow_schema() -> dict[str, Any]:
    """The JSON Schema of a ``*.flow.yaml`` document."""
    action = {
        "oneOf": [
            _obj({"set": {"type": "string"}, "value": _EXPR}, ["set", "value"]),
            _obj(
                {
                    "call": _NAME,
                    "args": {"type": "object", "additionalProperties": _EXPR},
                    "into": _NAME,
                    "to": _NAME,
                },
                ["call"],
            ),
            _obj(
                {"return": {"anyOf": [{"const": True}, {"type": "object"}]}},
                ["return"],
            ),
            _obj({"say": _TEMPLATE}, ["say"]),
            _obj({"outcome": _NAME}, ["outcome"]),
            _obj({"transfer": _TEMPLATE}, ["transfer"]),
            _obj({"end": {"anyOf": [_NAME, {"const": True}, {"type": "null"}]}}, ["end"]),
        ]
    }
    common = {"to": _NAME, "do": {"type": "array", "items": {"$ref": "#/$defs/action"}}}
    transition = {
        "oneOf": [
            _obj(
                {
                    "intent": _NAME,
                    "description": {"type": "string"},
                    "examples": {"type": "array", "items": {"type": "string"}},
                    "params": _fields(),
                    **common,
                },
                ["intent", "description"],
            ),
            _obj({"when": _EXPR, **common}, ["when"]),
            _obj({"dtmf": {"type": "string", "pattern": r"^([0-9*#]+|any)$"}, **common}, ["dtmf"]),
            _obj(
                {
                    "silence": _DURATION,
                    "reprompt": _TEMPLATE,
                    "max": {"type": "integer", "minimum": 0},
                    **common,
                },
                ["silence"],
            ),
            _obj(
                {
                    "no_match": {"const": True},
                    "reprompt": _TEMPLATE,
                    "max": {"type": "integer", "minimum": 0},
                    **common,
                },
                ["no_match"],
            ),
            _obj({"tool_error": {"anyOf": [_NAME, {"const": True}]}, **common}, ["tool_error"]),
            _obj({"failures": {"type": "integer", "minimum": 1}, **common}, ["failures"]),
            _obj({"clarify": _REPAIR_HEAD, **common}, ["clarify"]),
            _obj({"chitchat": _REPAIR_HEAD, **common}, ["chitchat"]),
        ]
    }
    slot = {
        "anyOf": [
            _TYPE,
            _obj(
                {
                    "type": _TYPE,
                    "prompt": _TEMPLATE,
                    "validate": _EXPR,
                    "invalid": _TEMPLATE,
                    "max_asks": {"type": "integer", "minimum": 1},
                    "required": {"type": "boolean"},
                    "description": {"type": "string"},
                    "on_change": _ON_CHANGE,
                },
                ["type"],
            ),
        ]
    }
    node = {
        "anyOf": [
            {"type": "null"},
            _obj(
                {
                    "description": {"type": "string"},
                    "say": {"anyOf": [_TEMPLATE, {"type": "array", "items": _TEMPLATE}]},
                    "task": _TEMPLATE,
                    "collect": {"type": "object", "additionalProperties": slot},
                    "tools": {"anyOf": [_NAME, {"type": "array", "items": _NAME}]},
                    "enter": {"type": "array", "items": {"$ref": "#/$defs/action"}},
                    "on": {"type": "array", "items": {"$ref": "#/$defs/transition"}},
                    "turn": _obj(_TURN),
                }
            ),
        ]
    }
    http_tool = _obj(
        {
            "method": {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "url": _TEMPLATE,
            "description": {"type": "string"},
            "params": _fields(),
            "headers": {"type": "object", "additionalProperties": _TEMPLATE},
            "body": _TEMPLATE,
            "timeout": _DURATION,
            "retries": {"type": "integer", "minimum": 0},
            "response": {"type": "object", "additionalProperties": {"type": "string"}},
            "on_error": _NAME,
        },
        ["url"],
    )
    agent = _obj(
        {
            "name": _NAME,
            "persona": _TEMPLATE,
            "timezone": {"type": "string", "description": "IANA time zone, e.g. Europe/Paris"},
            "context": _obj({"contact": _fields(), "campaign": _fields()}),
            "variables": _fields(with_default=True),
            "outcomes": {"type": "array", "items": _NAME, "uniqueItems": True},
            "start": _NAME,
            "fallback": _NAME,
            "on_change": _ON_CHANGE,
            "provider": _obj(
                {
                    "voice": {
                        "oneOf": [
                            {"type": "string"},
                            _obj({"openai": {"type": "string"}, "ultravox": {"type": "string"}}),
                        ]
                    },
                    "language": {"type": "string"},
                    **_TURN,
                    "fallback": {
                        "type": "array",
                        "items": {"enum": list(PROVIDER_NAMES)},
                    },
                    "apology": _TEMPLATE,
                }
            ),
            "knowledge": {
                "anyOf": [
                    {"type": "string"},
                    _obj(
                        {
                            "collection": {"type": "string"},
                            "top_k": {"type": "integer", "minimum": 1},
                        },
                        ["collection"],
                    ),
                ]
            },
            "tools": {
                "type": "object",
                "propertyNames": {"not": {"enum": list(BUILTIN_TOOLS)}},
                "additionalProperties": http_tool,
            },
            "global": {"type": "array", "items": {"$ref": "#/$defs/transition"}},
            "nodes": {"type": "object", "additionalProperties": node, "minProperties": 1},
            "imports": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": _NAME},
            },
            "flows": {
                "type": "object",
                "additionalProperties": _obj(
                    {
                        "description": {"type": "string"},
                        "params": _fields(),
                        "results": _fields(),
                        "start": _NAME,
                        "nodes": {
                            "type": "object",
                            "additionalProperties": node,
                            "minProperties": 1,
                        },
                    },
                    ["nodes"],
                ),
            },
        },
        ["name", "persona", "nodes"],
    )
    column = {"type": ["string", "null"]}
    rule = {
        "anyOf": [
            {"enum": ["final", "dnc", "callback"]},
            _obj({"retry": _DURATION, "max": {"type": "integer", "minimum": 1}}, ["retry", "max"]),
        ]
    }
    campaign = _obj(
        {
            "name": _NAME,
            "contacts": _obj(
                {
                    "csv": {"type": "string"},
                    "xlsx": {"type": "string"},
                    "postgres": {"type": "string"},
                    "phone": {"type": "string"},
                    "timezone": column,
                    "id": column,
                    "name": column,
                    "region": {"type": "string", "pattern": "^[A-Z]{2}$"},
                },
                oneOf=[{"required": ["csv"]}, {"required": ["xlsx"]}, {"required": ["postgres"]}],
            ),
            "windows": {
                "type": "array",
                "minItems": 1,
                "items": _obj(
                    {
                        "days": {"type": "string", "examples": ["mon-fri", "sat", "mon,wed,fri"]},
                        "hours": {"type": "string", "pattern": r"^\d{1,2}:\d{2}-\d{1,2}:\d{2}$"},
                    },
                    ["days", "hours"],
                ),
            },
            "holidays": _obj(
                {
                    "countries": {"type": "array", "items": {"type": "string"}},
                    "dates": {"type": "array", "items": {"type": "string", "format": "date"}},
                }
            ),
            "pacing": _obj(
                {
                    "concurrent": {"type": "integer", "minimum": 1},
                    "per_minute": {"type": "integer", "minimum": 1},
                    "ramp": _obj(
                        {
                            "start": {"type": "integer", "minimum": 1},
                            "step": {"type": "integer", "minimum": 1},
                            "every": _DURATION,
                        },
                        ["start"],
                    ),
                }
            ),
            "amd": {"enum": ["hangup", "leave_message", "continue"]},
            "amd_node": _NAME,
            "caller_id": {"type": "string", "description": "E.164 phone number"},
            "max_attempts": {"type": "integer", "minimum": 1},
            "ring_timeout": _DURATION,
            "rules": {"type": "object", "additionalProperties": rule},
        },
        ["name", "contacts", "windows"],
    )
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://voxflow.dev/schema/flow.schema.json",
        "title": "voxflow flow (*.flow.yaml)",
        "type": "object",
        "properties": {"agent": agent, "campaign": campaign},
        "required": ["agent"],
        "additionalProperties": False,
        "$defs": {"action": action, "transition": transition},
    }
