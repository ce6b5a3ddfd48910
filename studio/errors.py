"""API errors in plain language: what went wrong and what to do, never a bare HTTP status.

The API answers ``{code, message}`` (and, for a request that does not match its schema, the
fields at fault); the studio turns that into a sentence an operator can act on. The status and
code stay available under the sentence for a bug report.
"""

from __future__ import annotations

from typing import Any

from studio.api import ApiError

FIELD_HINTS = {
    "name": "a name may use letters, digits, '.', '_' and '-', starts with a letter or digit,"
    " and is at most 100 characters",
    "file": "choose a CSV or XLSX file to upload",
    "source": "the flow file's text is missing",
}

BY_STATUS = {
    401: "The studio's API key was refused: set VOXFLOW_STUDIO_API_KEY to a valid key.",
    403: "Your API key's role may not do this: ask an admin for an operator or designer key.",
    404: "It no longer exists: it may have been deleted in the meantime. Reload the page.",
    409: "That conflicts with the current state: reload the page and try again.",
    413: "The file is too large for the API: split it into smaller files.",
    503: "A service the API needs is not reachable (Temporal or PostgreSQL): start it with"
    " `voxflow dev`, then try again.",
}


def plain(exc: ApiError) -> str:
    """One or more sentences saying what happened and what to do."""
    body: Any = exc.body if isinstance(exc.body, dict) else {}
    problem = body.get("detail", body) if isinstance(body.get("detail", body), dict) else body
    errors = problem.get("errors") if isinstance(problem, dict) else None
    if errors:
        return "Some values were not accepted: " + "; ".join(_field(e) for e in errors) + "."
    message = problem.get("message") if isinstance(problem, dict) else None
    if message:
        sentence = message[0].upper() + message[1:]
        return sentence if sentence.endswith(".") else sentence + "."
    return BY_STATUS.get(exc.status, "The API refused the request: " + exc.detail)


def reference(exc: ApiError) -> str:
    """The technical reference, shown small under the sentence."""
    body: Any = exc.body if isinstance(exc.body, dict) else {}
    problem = body.get("detail", body) if isinstance(body.get("detail", body), dict) else body
    code = problem.get("code") if isinstance(problem, dict) else None
    return (f"code {code} · " if code else "") + f"status {exc.status}"


def _field(error: dict[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", []) if part not in ("body", "query", "path")]
    name = loc[-1] if loc else "request"
    hint = FIELD_HINTS.get(name)
    return f"{name}: {hint}" if hint else f"{name}: {str(error.get('msg', 'invalid')).lower()}"
