"""HTTP tools declared in a flow file: templated request, bounded retries, mapped response.

URL, headers and body are Jinja2 templates rendered by ``dsl.templates`` with the tool's
arguments, the call's context and ``env`` (the process environment). Secret values read through
``env`` never reach a log, a transcript or an error message: every message this module produces
is passed through ``Redactor``. Retries happen only for idempotent methods (GET, PUT, DELETE),
on transport errors and 5xx replies.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from dsl.ir import HttpTool
from runtime.engine.values import render
from runtime.tools.registry import ToolError

IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})
REDACTED = "[redacted]"


class SecretEnv(Mapping[str, str]):
    """The environment as templates see it (``env.NAME``); remembers every value read."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> str:
        value = self._environ[key]
        if value:
            self.read.add(value)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


class Redactor:
    def __init__(self, secrets: set[str]) -> None:
        # Longest first so a secret containing another is replaced whole.
        self._secrets = sorted(secrets, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text


def extract(body: Any, path: str) -> Any:
    """The value at dotted ``path`` (``data.items.0.name``; a leading ``$.`` is allowed)."""
    node = body
    path = path.removeprefix("$").removeprefix(".")
    for part in path.split(".") if path else ():
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif (
            isinstance(node, list)
            and part.lstrip("-").isdigit()
            and -len(node) <= int(part) < len(node)
        ):
            node = node[int(part)]
        else:
            raise KeyError(path)
    return node


async def call_http_tool(
    tool: HttpTool,
    arguments: Mapping[str, Any],
    values: Mapping[str, Any],
    *,
    client: httpx.AsyncClient,
    environ: Mapping[str, str],
    tz: str,
) -> dict[str, Any]:
    """Make the request of ``tool`` and map its response.

    Returns the mapped fields (or the whole JSON body when the tool maps none).

    Raises:
        ToolError: rendering failed, the endpoint failed after the allowed attempts, or the
            response lacks a mapped field. The message is redacted.
    """
    env = SecretEnv(environ)
    scope = {**values, **arguments, "env": env}
    redact = Redactor(env.read)
    try:
        url = render(tool.url.src, scope, tz=tz)
        headers = {name: render(t.src, scope, tz=tz) for name, t in tool.headers}
        body = None if tool.body is None else render(tool.body.src, scope, tz=tz)
    except Exception as exc:  # a template error: the flow's problem, reported, not raised
        redact = Redactor(env.read)
        raise ToolError(redact(f"{tool.name}: could not build the request: {exc}")) from None
    redact = Redactor(env.read)
    content: bytes | None = None
    if body is not None:
        content = body.encode()
        if not any(h.lower() == "content-type" for h in headers):
            try:
                json.loads(body)
                headers["Content-Type"] = "application/json"
            except ValueError:
                headers["Content-Type"] = "text/plain; charset=utf-8"
    attempts = 1 + (max(tool.retries, 0) if tool.method in IDEMPOTENT else 0)
    timeout = httpx.Timeout(tool.timeout_ms / 1000)
    last_error = ""
    response: httpx.Response | None = None
    for _ in range(attempts):
        try:
            response = await client.request(
                tool.method, url, headers=headers, content=content, timeout=timeout
            )
        except httpx.TimeoutException:
            last_error = f"timed out after {tool.timeout_ms} ms"
            response = None
            continue
        except httpx.HTTPError as exc:
            last_error = f"{type(exc).__name__}: {exc}"
            response = None
            continue
        if response.status_code >= 500:
            last_error = f"HTTP {response.status_code}"
            continue
        break
    if response is None or response.status_code >= 500:
        raise ToolError(redact(f"{tool.name}: {last_error} ({attempts} attempt(s))"))
    if response.status_code >= 400:
        raise ToolError(redact(f"{tool.name}: HTTP {response.status_code}"))
    try:
        data = response.json() if response.content else {}
    except ValueError:
        data = {"text": response.text}
    if not tool.response:
        return data if isinstance(data, dict) else {"value": data}
    mapped = {}
    for name, path in tool.response:
        try:
            mapped[name] = extract(data, path)
        except KeyError:
            raise ToolError(f"{tool.name}: response has no {path!r}") from None
    return mapped
