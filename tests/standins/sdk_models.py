"""Every OpenAI Realtime event that crosses a stand-in's socket, checked against the official
``openai`` SDK's GA models, with unknown fields forbidden.

The SDK's models accept unknown fields (they keep them as extras, so a newer server does not
break an older client). A stand-in must not rely on that: a field the SDK does not know is
either a typo or a beta-era name the service refuses. :func:`server_event_problems` and
:func:`client_event_problems` validate one event with the model its ``type`` names, then walk
the validated model and report every extra field, at any depth.

``COUNTS`` keeps how many events were checked in this process (``tests/standins/conftest.py``
prints it at the end of the run).
"""

from __future__ import annotations

import typing
from collections import Counter
from typing import Any

import pydantic
from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent

COUNTS: Counter[str] = Counter()
"""``server``/``client`` → events checked; ``invalid`` → events that failed."""


def _by_type(union: Any) -> dict[str, type[pydantic.BaseModel]]:
    members = typing.get_args(typing.get_args(union)[0])
    out: dict[str, type[pydantic.BaseModel]] = {}
    for model in members:
        literal = model.model_fields["type"].annotation
        for name in typing.get_args(literal):
            out[name] = model
    return out


SERVER_EVENTS = _by_type(RealtimeServerEvent)
CLIENT_EVENTS = _by_type(RealtimeClientEvent)


def _extras(value: Any, path: str) -> list[str]:
    problems: list[str] = []
    if isinstance(value, pydantic.BaseModel):
        for key in value.model_extra or {}:
            problems.append(f"{path}.{key}: not a field of {type(value).__name__}")
        for name in type(value).model_fields:
            problems += _extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            problems += _extras(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            problems += _extras(item, f"{path}.{key}")
    return problems


def _problems(event: dict[str, Any], models: dict[str, type[pydantic.BaseModel]]) -> list[str]:
    kind = event.get("type")
    model = models.get(kind) if isinstance(kind, str) else None
    if model is None:
        return [f"type {kind!r} is not a GA event of this direction"]
    try:
        parsed = model.model_validate(event)
    except pydantic.ValidationError as exc:
        return [f"{kind}: {e['loc']}: {e['msg']}" for e in exc.errors()]
    return _extras(parsed, kind)


def server_event_problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with ``event`` as a server event (empty when it is valid)."""
    COUNTS["server"] += 1
    problems = _problems(event, SERVER_EVENTS)
    COUNTS["invalid"] += bool(problems)
    return problems


def client_event_problems(event: dict[str, Any]) -> list[str]:
    """What is wrong with ``event`` as a client event (empty when it is valid)."""
    COUNTS["client"] += 1
    problems = _problems(event, CLIENT_EVENTS)
    COUNTS["invalid"] += bool(problems)
    return problems
