"""The engine's seam to the expression, template and type libraries of ``dsl``.

The engine never evaluates an expression or renders a template itself: it goes through
``dsl.expr``, ``dsl.templates`` and ``dsl.types``. Compiled expressions are cached by source
text; a template without any Jinja2 markup is its own rendering (no need to start the sandbox
for plain text, which is most ``say`` lines).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

_MARKUP = ("{{", "{%", "{#")


@lru_cache(maxsize=8192)
def is_plain(src: str) -> bool:
    return not any(m in src for m in _MARKUP)


def render(src: str, values: Mapping[str, Any], *, tz: str, locale: str = "en-US") -> str:
    """``src`` rendered with ``values`` by ``dsl.templates`` (sandboxed, strict).

    Callers skip this for plain text (``is_plain``): rendering it would give it back as is.
    """
    from dsl.templates import render as render_template

    return render_template(src, values, tz=tz, locale=locale)


@lru_cache(maxsize=4096)
def compile_condition(src: str) -> Callable[[Mapping[str, Any]], Any]:
    from dsl.expr import compile_expr

    return compile_expr(src)


def evaluate(src: str, values: Mapping[str, Any]) -> Any:
    """The value of expression ``src`` over ``values``."""
    return compile_condition(src)(values)


@lru_cache(maxsize=256)
def _type(type_name: str) -> Any:
    from dsl.types import parse_type

    return parse_type(type_name)


def coerce(value: Any, type_name: str, *, tz: str) -> Any:
    """``value`` converted to ``type_name`` by ``dsl.types`` (raises ``ValueError`` if it can't,
    and for an absent value: a slot is never filled with nothing)."""
    from dsl.types import coerce as coerce_value

    result = coerce_value(value, _type(type_name), tz=tz)
    if result is None:
        raise ValueError(f"no {type_name} value in {value!r}")
    return result


def jsonable(value: Any) -> Any:
    """``value`` as JSON data for a ``CallTool``: dates and times as ISO 8601 text, decimals
    and other scalars as text, lists and dicts item by item."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
