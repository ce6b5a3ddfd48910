"""JSON Schemas derived from types, never written twice.

Two sources of tool parameters exist: Python tools (built-ins), whose schema comes from the
handler's typed signature through pydantic, and flow-declared parameters (intent ``params``,
HTTP tool ``params``, ``collect`` slots), whose schema comes from their ``dsl.types`` type name.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, get_type_hints

from pydantic import create_model

from dsl.ir import Field, Slot

_SCALARS: dict[str, dict[str, Any]] = {
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "float": {"type": "number"},
    "bool": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "pattern": r"^\d{2}:\d{2}$"},
    "datetime": {"type": "string", "format": "date-time"},
    "duration": {"type": "string", "description": "e.g. 15m, 2h, 30s"},
    "tz": {"type": "string", "description": "IANA time zone, e.g. Europe/Paris"},
    "phone": {"type": "string", "description": "phone number, E.164 preferred"},
    "email": {"type": "string", "format": "email"},
    "money": {"type": "string", "description": "amount with currency, e.g. 12.50 USD"},
    "digits": {"type": "string", "pattern": r"^[0-9]+$"},
}

_LIST = re.compile(r"^list\[(.+)\]$")
_ENUM = re.compile(r"^enum\[(.+)\]$")


def type_schema(type_name: str) -> dict[str, Any]:
    """The JSON Schema of a ``dsl.types`` type name (``str``, ``list[int]``, ``enum[a|b]``...).

    Unknown names give ``{"type": "string"}``: the compiler rejects them before a flow runs.
    """
    type_name = type_name.strip()
    if m := _LIST.match(type_name):
        return {"type": "array", "items": type_schema(m.group(1))}
    if m := _ENUM.match(type_name):
        return {"type": "string", "enum": [v.strip() for v in m.group(1).split("|")]}
    return dict(_SCALARS.get(type_name, {"type": "string"}))


def object_schema(properties: dict[str, dict[str, Any]], required: Iterable[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required)}


def fields_schema(fields: Iterable[Field]) -> dict[str, Any]:
    """The object schema of flow-declared parameters."""
    props: dict[str, dict[str, Any]] = {}
    required = []
    for f in fields:
        schema = type_schema(f.type)
        if f.description:
            schema["description"] = f.description
        props[f.name] = schema
        if f.required:
            required.append(f.name)
    return object_schema(props, required)


def slots_schema(slots: Iterable[Slot]) -> dict[str, Any]:
    """The object schema of ``provide_slots``: every slot optional (the caller gives some)."""
    props = {}
    for s in slots:
        schema = type_schema(s.type)
        if s.description:
            schema["description"] = s.description
        props[s.name] = schema
    return object_schema(props, ())


def signature_schema(func: Callable[..., Any], *, skip: int = 1) -> dict[str, Any]:
    """The object schema of ``func``'s parameters after the first ``skip`` (the context).

    Types and defaults come from the signature; descriptions from ``Annotated[..., Field(
    description=...)]``. pydantic does the type-to-schema work.
    """
    sig = inspect.signature(func)
    hints = get_type_hints(func, include_extras=True)
    params = list(sig.parameters.values())[skip:]
    model = create_model(
        f"{func.__name__}_args",
        **{
            p.name: (hints[p.name], ... if p.default is inspect.Parameter.empty else p.default)
            for p in params
        },
    )
    raw = model.model_json_schema()
    props = {}
    for name, prop in raw.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        props[name] = prop
    return object_schema(props, raw.get("required", []))
