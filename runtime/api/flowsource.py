"""Flows sent to the API: compiled from source text, or looked up by the hash they are stored
under. Campaigns and test calls accept both the same way.

A compile runs in a worker thread, never on the event loop, and at most ``COMPILE_SLOTS`` at
once: the source limits of ``dsl.limits`` (checked before parsing) bound each compile's time
and memory, and the slots bound how many run together, so a hostile flow costs only its own
request while ``/health`` and every other request keep being served.
"""

from __future__ import annotations

import asyncio
import threading

from fastapi import HTTPException
from fastapi.responses import JSONResponse

from dsl.compiler import CompileResult, compile_source
from dsl.ir import Flow
from dsl.limits import MAX_SOURCE_BYTES
from runtime.api import models
from runtime.db import flows
from runtime.db.types import Db


class FlowInvalid(Exception):
    """The source does not compile; ``response`` is the 422 listing every diagnostic."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("flow_invalid")
        self.response = response


COMPILE_SLOTS = 2
"""Compiles running at once in one API process; more wait their turn."""

_slots = threading.BoundedSemaphore(COMPILE_SLOTS)


def _compile_in_slot(source: str, syntax: str) -> CompileResult:
    with _slots:  # waits in the worker thread, never on the event loop
        return compile_source(source, file=f"<api>.{syntax}", syntax=syntax)


async def compile_or_raise(source: str, syntax: str) -> Flow:
    """The compiled flow, or ``FlowInvalid`` carrying the diagnostics (file, line, col, code).

    Raises:
        HTTPException: 413 ``flow_too_large`` for a source over ``MAX_SOURCE_BYTES``.
        FlowInvalid: the source does not compile (422).
    """
    size = len(source.encode("utf-8", "surrogatepass"))
    if size > MAX_SOURCE_BYTES:
        raise HTTPException(
            413,
            detail={
                "code": "flow_too_large",
                "message": f"the flow source is {size} bytes; at most {MAX_SOURCE_BYTES}",
            },
        )
    result = await asyncio.to_thread(_compile_in_slot, source, syntax)
    if result.flow is not None:
        return result.flow
    raise FlowInvalid(
        JSONResponse(
            status_code=422,
            content={
                "code": "flow_invalid",
                "message": f"the flow has {len(result.errors)} error(s)",
                "diagnostics": [
                    models.DiagnosticOut(
                        file=d.file,
                        line=d.line,
                        col=d.col,
                        code=d.code,
                        severity=d.severity.value,
                        message=d.message,
                        hint=d.hint,
                    ).model_dump()
                    for d in result.diagnostics
                ],
            },
        )
    )


async def stored_or_compiled(
    db: Db,
    *,
    flow_hash: str | None,
    source: str | None,
    syntax: str,
    source_name: str | None = None,
) -> Flow:
    """The flow stored under ``flow_hash``, or ``source`` compiled and stored.

    Raises:
        HTTPException: 404 for an unknown hash, 422 when neither or both are given, 413 for a
            source over the size limit.
        FlowInvalid: the source does not compile.
    """
    if (flow_hash is None) == (source is None):
        raise HTTPException(
            422,
            detail={"code": "flow_missing", "message": "send either flow_hash or source"},
        )
    if flow_hash is not None:
        flow = await flows.load_flow(db, flow_hash)
        if flow is None:
            raise HTTPException(
                404, detail={"code": "flow_not_found", "message": f"no flow version {flow_hash}"}
            )
        return flow
    assert source is not None
    flow = await compile_or_raise(source, syntax)
    await flows.save_flow(db, flow, source_name=source_name)
    return flow
