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


def is_plain(src: str) -> bool:
    return not any(m in src for m in _MARKUP)


def render(src: str, values: Mapping[str, Any], *, tz: str) -> str:
    """``src`` rendered with ``values`` by ``dsl.templates`` (sandboxed, strict)."""
    if is_plain(src):
        return src
    from dsl.templates import render as render_template

    return render_template(src, dict(values), tz=tz)


@lru_cache(maxsize=4096)
def compile_condition(src: str) -> Callable[[Mapping[str, Any]], Any]:
    from dsl.expr import compile_expr

    return compile_expr(src)


def evaluate(src: str, values: Mapping[str, Any]) -> Any:
    """The value of expression ``src`` over ``values``."""
    return compile_condition(src)(values)


def coerce(value: Any, type_name: str, *, tz: str) -> Any:
    """``value`` converted to ``type_name`` by ``dsl.types`` (raises ``ValueError`` if it can't)."""
    from dsl.types import coerce as coerce_value

    return coerce_value(value, type_name, tz=tz)
