"""What the model is offered of a flow's tools: their specs, derived from the flow alone.

Pure: no I/O, no network client. The engine is given these specs (``Engine(tools=...)``); the
runner (``runtime.tools.runner``) is what executes the tools.
"""

from __future__ import annotations

from dsl.ir import Flow, HttpTool
from runtime.engine.events import ToolSpec
from runtime.tools.builtins import BUILTINS
from runtime.tools.registry import Registry
from runtime.tools.schema import fields_schema


def http_tools(flow: Flow) -> dict[str, HttpTool]:
    return {t.name: t for t in flow.agent.tools if isinstance(t, HttpTool)}


def tool_specs(flow: Flow, registry: Registry = BUILTINS) -> dict[str, ToolSpec]:
    """Every tool a node of ``flow`` may offer the model, by name (built-ins and HTTP tools)."""
    specs = {d.name: d.spec for d in registry}
    for tool in http_tools(flow).values():
        specs[tool.name] = ToolSpec(tool.name, tool.description, fields_schema(tool.params))
    return specs
