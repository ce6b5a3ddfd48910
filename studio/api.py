"""The studio's REST client: every page that shows campaigns, calls or knowledge goes through it.

The studio is a client like any other; it never reads the database. When the API cannot be
reached, calls raise ``ApiUnavailable`` naming the URL, and the page says so instead of
showing anything made up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from studio.config import StudioConfig


class ApiUnavailable(Exception):
    """The API did not answer (not started, wrong address, network down)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"API not reachable at {url}: {reason}")


class ApiError(Exception):
    """The API answered with an error status; ``detail`` is its explanation."""

    def __init__(self, method: str, path: str, status: int, detail: str, body: Any = None) -> None:
        self.status = status
        self.detail = detail
        self.body = body
        """The parsed JSON error body (``code``, ``message``, maybe ``diagnostics``)."""
        super().__init__(f"{method} {path} failed with HTTP {status}: {detail}")


@dataclass
class ApiClient:
    base_url: str
    api_key: str | None = None
    timeout_s: float = 10.0

    @classmethod
    def from_config(cls, config: StudioConfig, api_key: str | None = None) -> ApiClient:
        """A client of the configured API acting with ``api_key`` (the signed-in person's)."""
        return cls(config.api_url, api_key)

    def get(self, path: str, **params: Any) -> Any:
        return self._request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, json: Any = None, files: Any = None, data: Any = None) -> Any:
        return self._request("POST", path, json=json, files=files, data=data)

    def delete(self, path: str) -> Any:
        return self._request("DELETE", path)

    def raw(self, path: str) -> bytes:
        """The body of a GET as bytes (recordings)."""
        response = self._send("GET", path)
        return response.content

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._send(method, path, **kwargs)
        if not response.content:
            return None
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-API-Key": self.api_key} if self.api_key else {}
        try:
            response = httpx.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=self.timeout_s,
                **kwargs,
            )
        except httpx.TransportError as exc:
            raise ApiUnavailable(self.base_url, type(exc).__name__ + ": " + str(exc)) from None
        if response.status_code >= 400:
            raise ApiError(method, path, response.status_code, *_problem(response))
        return response


def _problem(response: httpx.Response) -> tuple[str, Any]:
    """The error's sentence and its JSON body; voxflow errors are ``{code, message}``."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500], None
    problem = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(problem, dict) and "message" in problem:
        return f"{problem['message']} ({problem.get('code', '?')})", body
    return str(problem)[:500], body
