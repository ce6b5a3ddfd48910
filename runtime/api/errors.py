"""The API's one error model, ``{"code", "message", ...}``, for every error it answers.

Routes raise ``HTTPException`` with ``detail={"code": ..., "message": ...}``; the handler here
sends that object as the body itself (not wrapped in ``detail``), which is what the OpenAPI
document's ``Problem`` says. A dependency that is down (PostgreSQL, Temporal, the embedding
provider) is a 503 with ``Retry-After``: the request was fine and may be sent again; any other
unexpected exception is a 500 ``internal_error`` whose body holds no traceback.
"""

from __future__ import annotations

import logging
import socket
from typing import Any

import asyncpg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from runtime.api import models

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
"""What a 503 asks the client to wait before trying again."""

_RETRY_HEADER = {
    "Retry-After": {
        "description": "Seconds to wait before sending the request again",
        "schema": {"type": "integer"},
    }
}

COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": models.Problem, "description": "A malformed body (e.g. broken multipart)"},
    413: {"model": models.Problem, "description": "The request body is too large"},
    422: {"model": models.Problem, "description": "Invalid request, text, JSON or flow"},
    503: {
        "model": models.Problem,
        "description": "A dependency (PostgreSQL, Temporal, embeddings) is unavailable",
        "headers": _RETRY_HEADER,
    },
}
"""Responses every route can give."""

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": models.Problem, "description": "No API key, or an unknown one"},
    403: {"model": models.Problem, "description": "The key's role may not call this route"},
    404: {
        "model": models.Problem,
        "description": "Not found: the tenant X-Voxflow-Tenant names, or the route's object",
    },
    422: {"model": models.Problem, "description": "Invalid request (or X-Voxflow-Tenant)"},
}
"""Responses of every route that needs an API key."""

_DATABASE_DOWN = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
)
"""What asyncpg raises when PostgreSQL cannot be reached or the pool is closed."""


def problem(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return JSONResponse({"code": code, "message": message, **extra}, status, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers of this module on ``app``."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if isinstance(detail, dict) and "code" in detail:
            body = dict(detail)
        else:
            body = {"code": _CODES.get(exc.status_code, "http_error"), "message": str(detail)}
        headers = dict(exc.headers or {})
        if exc.status_code == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        return JSONResponse(body, exc.status_code, headers=headers or None)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "invalid_request",
            "the request does not match the API schema",
            errors=[
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()
            ],
        )

    async def _down(request: Request, exc: Exception) -> JSONResponse:
        down = _dependency_down(exc)
        if down is None:
            log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
            return problem(500, "internal_error", "the server failed; the error is logged")
        log.warning(
            "%s %s: %s is unavailable (%s)",
            request.method,
            request.url.path,
            down,
            type(exc).__name__,
        )
        return problem(503, f"{down}_unavailable", f"{down} is unavailable; try again later")

    for kind in _dependency_errors():
        app.add_exception_handler(kind, _down)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises after sending this, so the server still logs the traceback.
        return problem(500, "internal_error", "the server failed; the error is logged")


_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden"}


def _dependency_errors() -> tuple[type[Exception], ...]:
    import openai
    from temporalio.service import RPCError

    return (
        *_DATABASE_DOWN,
        RPCError,
        openai.APIConnectionError,
        openai.RateLimitError,
        openai.InternalServerError,
    )


def _dependency_down(exc: BaseException) -> str | None:
    """Which dependency ``exc`` says is down: ``database``, ``temporal``, ``embeddings``."""
    if isinstance(exc, _DATABASE_DOWN):
        return "database"
    import openai
    from temporalio.service import RPCError, RPCStatusCode

    if isinstance(exc, RPCError):
        if exc.status in (
            RPCStatusCode.UNAVAILABLE,
            RPCStatusCode.DEADLINE_EXCEEDED,
            RPCStatusCode.RESOURCE_EXHAUSTED,
            RPCStatusCode.CANCELLED,
        ):
            return "temporal"
        return None
    if isinstance(
        exc, openai.APIConnectionError | openai.RateLimitError | openai.InternalServerError
    ):
        return "embeddings"
    return None
