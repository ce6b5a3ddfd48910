"""The API answers what its OpenAPI document says, and never a 500, under generated requests.

A seeded, bounded schemathesis run against the API served by uvicorn on loopback, with the
module's PostgreSQL and no Temporal (routes that need it answer 503 with ``Retry-After``, as
documented). Positive and negative cases are generated for every operation; each response is
checked for a documented status code, content type, headers and body schema.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from runtime.api import create_app
from runtime.settings import load_settings

from .conftest import KEYS

SEED = 15
EXAMPLES_PER_OPERATION = 12
"""Per operation and generation mode: bounded so the run takes seconds, not minutes."""


@pytest.fixture
def served(pg_url: str) -> Iterator[str]:
    """The API on 127.0.0.1 (an ephemeral port), its own pool on the module's database."""
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "DATABASE_URL": pg_url,
        }
    )
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=0, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def test_generated_requests_get_documented_answers_and_no_server_error(served: str) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/openapi.json")
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    checks = [
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
    ]
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                database=None,
                deadline=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @seed(SEED)
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case) -> None:
                try:
                    # The key overrides whatever the security scheme had generated.
                    case.headers = {**(case.headers or {}), "X-API-Key": KEYS["admin"]}
                    response = case.call(base_url=served)
                except Exception as exc:  # a request the client could not even send
                    failures.append(f"{case.method} {case.formatted_path}: {_first_line(exc)}")
                    return
                statuses[response.status_code] += 1
                label = f"{case.method} {case.formatted_path} -> {response.status_code}"
                if response.status_code >= 500 and not (
                    response.status_code == 503
                    and "retry-after" in {k.lower() for k in response.headers}
                ):
                    failures.append(f"server error: {label}: {response.text[:200]}")
                try:
                    case.validate_response(response, checks=checks)
                except (Exception, BaseExceptionGroup) as exc:  # a FailureGroup
                    failures.append(f"{label}: {str(exc)[:300]}")

            try:
                run()
            except Unsatisfiable:  # no negative case exists (an operation without inputs)
                continue
    total = sum(statuses.values())
    print(f"schemathesis: {total} cases, statuses {dict(sorted(statuses.items()))}")
    assert total >= 200

    assert statuses[500] == 0
    assert sorted(set(failures)) == []


def _first_line(exc: Exception) -> str:
    inner = getattr(exc, "exceptions", None) or [exc]
    return "; ".join(type(e).__name__ + ": " + str(e).strip().splitlines()[0] for e in inner)


def test_every_operation_documents_the_error_model(settings) -> None:
    doc = create_app(settings).openapi()
    problem = "#/components/schemas/Problem"
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            expected = {"413", "422", "503"} | (
                set() if path in ("/health", "/ready") else {"401", "403"}
            )
            responses = op["responses"]
            assert expected <= set(responses), (method, path)
            for status in expected - {"503"} if path == "/ready" else expected:
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": problem}, (method, path, status)
            assert "Retry-After" in responses["503"].get("headers", {}), (method, path)
