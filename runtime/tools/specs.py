"""What the model is offered of a flow's tools: their specs, derived from the flow alone.

Pure: no I/O, no network client. The engine is given these specs (``Engine(tools=...)``); the
runner (``runtime.tools.runner``) is what executes the tools. Kept once per flow object and
read-only, so every call of a flow shares them (``runtime.engine.plan``).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from dsl.ir import Flow, HttpTool
from runtime.engine.events import ToolSpec
from runtime.engine.flowcache import FlowCache
from runtime.tools.builtins import BUILTINS
from runtime.tools.registry import Registry
from runtime.tools.schema import fields_schema


def http_tools(flow: Flow) -> dict[str, HttpTool]:
    return {t.name: t for t in flow.agent.tools if isinstance(t, HttpTool)}


_SPECS: FlowCache[Mapping[str, ToolSpec]] = FlowCache()


def tool_specs(flow: Flow, registry: Registry = BUILTINS) -> Mapping[str, ToolSpec]:
    """Every tool a node of ``flow`` may offer the model, by name (built-ins and HTTP tools):
    the same read-only mapping for every call of ``flow`` with ``registry``."""
    return _SPECS.get(flow, lambda: _build(flow, registry), registry)


def _build(flow: Flow, registry: Registry) -> Mapping[str, ToolSpec]:
    specs = {d.name: d.spec for d in registry}
    for tool in http_tools(flow).values():
        specs[tool.name] = ToolSpec(tool.name, tool.description, fields_schema(tool.params))
    return MappingProxyType(specs)
