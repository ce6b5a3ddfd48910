"""``ToolRunner``: executes the engine's ``CallTool`` commands and answers ``ToolResult``.

Built-ins come from ``runtime.tools.builtins``; HTTP tools from the flow's ``tools``. A failing
tool never raises out of ``run``: the failure becomes ``ToolResult(ok=False, error=...)`` with a
log-safe message, which the engine routes (``on_error`` node, fallback, or back to the model).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

from dsl.ir import Flow
from runtime.engine.events import CallTool, ToolResult
from runtime.knowledge import KnowledgeBase
from runtime.persistence import Persistence
from runtime.tools.builtins import BUILTINS
from runtime.tools.http import call_http_tool
from runtime.tools.registry import Registry, ToolContext, ToolError
from runtime.tools.specs import http_tools

log = logging.getLogger(__name__)


class ToolRunner:
    """Runs tools for one call."""

    def __init__(
        self,
        flow: Flow,
        *,
        call_id: str,
        contact: Mapping[str, Any],
        tz: str,
        persistence: Persistence,
        campaign: Mapping[str, Any] | None = None,
        knowledge: KnowledgeBase | None = None,
        closed_dates: tuple[str, ...] = (),
        client: httpx.AsyncClient | None = None,
        environ: Mapping[str, str] | None = None,
        registry: Registry = BUILTINS,
    ) -> None:
        self.flow = flow
        self.call_id = call_id
        self.contact = contact
        self.tz = tz
        self.persistence = persistence
        self.campaign = campaign or {}
        self.knowledge = knowledge
        self.closed_dates = closed_dates
        self._client = client
        self._environ = os.environ if environ is None else environ
        self._registry = registry
        self._http = http_tools(flow)

    async def run(
        self, call: CallTool, *, now: datetime, values: Mapping[str, Any] | None = None
    ) -> ToolResult:
        """Execute ``call``; ``values`` is the engine's template scope (for HTTP tools)."""
        try:
            result = await self._dispatch(call, now, values or {})
        except ToolError as exc:
            log.info("tool %s failed on call %s: %s", call.name, self.call_id, exc)
            return ToolResult(call.call_id, ok=False, error=str(exc))
        except Exception as exc:  # a bug in a tool must not take the call down
            log.exception("tool %s crashed on call %s", call.name, self.call_id)
            return ToolResult(
                call.call_id, ok=False, error=f"{call.name}: internal error ({type(exc).__name__})"
            )
        return ToolResult(call.call_id, ok=True, result=result)

    async def _dispatch(
        self, call: CallTool, now: datetime, values: Mapping[str, Any]
    ) -> dict[str, Any]:
        if (http := self._http.get(call.name)) is not None:
            if self._client is None:
                async with httpx.AsyncClient() as client:
                    return await call_http_tool(
                        http,
                        call.arguments,
                        values,
                        client=client,
                        environ=self._environ,
                        tz=self.tz,
                    )
            return await call_http_tool(
                http, call.arguments, values, client=self._client, environ=self._environ, tz=self.tz
            )
        tool = self._registry.get(call.name)
        if tool is None:
            raise ToolError(f"unknown tool {call.name!r}")
        ctx = ToolContext(
            call_id=self.call_id,
            flow=self.flow,
            contact=self.contact,
            now=now,
            tz=self.tz,
            persistence=self.persistence,
            campaign=self.campaign,
            knowledge=self.knowledge,
            closed_dates=self.closed_dates,
        )
        try:
            return await tool.handler(ctx, **call.arguments)
        except TypeError as exc:
            # Wrong or missing arguments from the model: tell it, don't crash.
            raise ToolError(f"{call.name}: bad arguments ({exc})") from None
