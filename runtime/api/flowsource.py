"""Flows sent to the API: compiled from source text, or looked up by the hash they are stored
under. Campaigns and test calls accept both the same way."""

from __future__ import annotations

from fastapi import HTTPException
from fastapi.responses import JSONResponse

from dsl.compiler import compile_source
from dsl.ir import Flow
from runtime.api import models
from runtime.db import flows
from runtime.db.types import Db


class FlowInvalid(Exception):
    """The source does not compile; ``response`` is the 422 listing every diagnostic."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__("flow_invalid")
        self.response = response


def compile_or_raise(source: str, syntax: str) -> Flow:
    """The compiled flow, or ``FlowInvalid`` carrying the diagnostics (file, line, col, code)."""
    result = compile_source(source, file=f"<api>.{syntax}", syntax=syntax)
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
        HTTPException: 404 for an unknown hash, 422 when neither or both are given.
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
    flow = compile_or_raise(source, syntax)
    await flows.save_flow(db, flow, source_name=source_name)
    return flow
