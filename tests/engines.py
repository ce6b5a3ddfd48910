"""An engine for a test, with the tools its flow offers (``Engine`` takes them injected)."""

from __future__ import annotations

from typing import Any

from dsl.ir import Flow
from runtime.engine import Engine
from runtime.tools import tool_specs


def new_engine(flow: Flow, **kwargs: Any) -> Engine:
    return Engine(flow, tools=tool_specs(flow), **kwargs)
