"""JSON values nobody can change: what every call of a flow shares (``runtime.engine.plan``).

A JSON Schema that every call of a flow offers the model is built once for the flow; a call
that could change it would change it for every other call. ``freeze`` turns objects into
``MappingProxyType`` and arrays into tuples, so an attempt raises ``TypeError`` (or
``AttributeError``); ``thaw`` gives a payload its own plain copy, once per send.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


def freeze(value: Any) -> Any:
    """A read-only deep copy of the JSON value ``value``: mappings become ``MappingProxyType``
    over a dict nothing else holds, lists and tuples become tuples; scalars stay."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """A plain, mutable deep copy of the frozen JSON value ``value`` (dicts and lists), as
    ``json.dumps`` and the providers' SDK models take it.

    Runs at every ``session.update`` for each tool offered, so it tests exact types, not the
    ``Mapping`` ABC (three times slower); a value ``freeze`` made holds no other containers.
    """
    kind = type(value)
    if kind is MappingProxyType or kind is dict:
        return {k: thaw(v) for k, v in value.items()}
    if kind is tuple or kind is list:
        return [thaw(v) for v in value]
    return value
