"""The tool registry: one typed async function per tool, its schema derived from its signature.

A tool handler is ``async def name(ctx: ToolContext, <typed params>) -> dict``. ``ToolDef``
carries the handler, its description (the docstring's first paragraph) and the JSON Schema of
its parameters (``runtime.tools.schema.signature_schema``), so the OpenAI and Ultravox shapes
come from the one ``ToolSpec`` (``runtime.engine.events``).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from dsl.builtins import BuiltinTool
from dsl.ir import Flow, KnowledgeTool
from dsl.outcomes import BUILTIN_OUTCOMES, TELEPHONY_OUTCOMES
from runtime.engine.events import ToolSpec
from runtime.knowledge import KnowledgeBase
from runtime.persistence import Persistence
from runtime.tools.schema import signature_schema


class ToolError(Exception):
    """A tool failed in a way the agent may tell the caller about (message is log-safe)."""


@dataclass
class ToolContext:
    """What a tool may use besides its arguments. Built by ``ToolRunner`` for each call."""

    call_id: str
    flow: Flow
    contact: Mapping[str, Any]
    now: datetime
    tz: str
    persistence: Persistence
    campaign: Mapping[str, Any] = field(default_factory=dict)
    knowledge: KnowledgeBase | None = None
    closed_dates: tuple[str, ...] = ()
    """Holiday dates (``YYYY-MM-DD``) on which no calling window opens."""

    @property
    def outcomes(self) -> frozenset[str]:
        """Every outcome this call may end in."""
        return frozenset(self.flow.agent.outcomes) | BUILTIN_OUTCOMES | TELEPHONY_OUTCOMES

    @property
    def knowledge_tool(self) -> KnowledgeTool | None:
        for t in self.flow.agent.tools:
            if isinstance(t, KnowledgeTool):
                return t
        return None


Handler = Callable[..., Awaitable[dict[str, Any]]]


@dataclass(frozen=True)
class ToolDef:
    name: str
    handler: Handler
    description: str
    parameters: dict[str, Any]

    @property
    def spec(self) -> ToolSpec:
        return ToolSpec(self.name, self.description, self.parameters)


def _description(func: Callable[..., Any]) -> str:
    doc = inspect.getdoc(func) or ""
    return doc.split("\n\n", 1)[0].replace("\n", " ").strip()


class Registry:
    """Tools by name.

    Args:
        declared: signatures the handlers must implement (``dsl.builtins.BUILTINS`` for the
            built-ins): a handler whose name or parameters differ from its declaration is
            refused at registration, so what the compiler checks is what runs.
    """

    def __init__(self, declared: Mapping[str, BuiltinTool] | None = None) -> None:
        self._tools: dict[str, ToolDef] = {}
        self._declared = declared

    def tool(self, func: Handler) -> Handler:
        """Decorator: register ``func`` under its own name."""
        if not inspect.iscoroutinefunction(func):
            raise TypeError(f"tool {func.__name__} must be an async function")
        description = _description(func)
        if self._declared is not None:
            description = _check_declared(func, self._declared).description
        self._tools[func.__name__] = ToolDef(
            func.__name__, func, description, signature_schema(func)
        )
        return func

    def get(self, name: str) -> ToolDef | None:
        return self._tools.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self):
        return iter(self._tools.values())

    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)


def _check_declared(func: Handler, declared: Mapping[str, BuiltinTool]) -> BuiltinTool:
    decl = declared.get(func.__name__)
    if decl is None:
        raise TypeError(f"tool {func.__name__} is not declared in dsl.builtins")
    params = list(inspect.signature(func).parameters.values())[1:]
    found = [(p.name, p.default is inspect.Parameter.empty) for p in params]
    wanted = [(f.name, f.required) for f in decl.params]
    if found != wanted:
        raise TypeError(
            f"tool {func.__name__} takes {found} but dsl.builtins declares {wanted} "
            "(name, required)"
        )
    return decl
