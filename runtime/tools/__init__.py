"""Tools the agent may call: the registry, the built-ins, HTTP tools and the runner."""

from runtime.tools.builtins import BUILTINS
from runtime.tools.registry import Registry, ToolContext, ToolDef, ToolError
from runtime.tools.runner import ToolRunner
from runtime.tools.specs import tool_specs

__all__ = [
    "BUILTINS",
    "Registry",
    "ToolContext",
    "ToolDef",
    "ToolError",
    "ToolRunner",
    "tool_specs",
]
