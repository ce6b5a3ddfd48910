"""Every route, every role: the matrix of the README, request by request.

A role the matrix does not admit gets 403 ``forbidden``; an admitted one gets past the role
check (whatever the answer then is); no key gets 401. A route missing from the matrix fails
the test, so a new route cannot ship without its row.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from runtime.api import create_app
from runtime.settings import load_settings

from .conftest import KEYS, as_role

DES, OPS = "designer", "operator"
MATRIX: dict[tuple[str, str], set[str]] = {
    ("POST", "/campaigns"): {DES},
    ("GET", "/campaigns"): {DES, OPS},
    ("GET", "/campaigns/{name}"): {DES, OPS},
    ("POST", "/campaigns/{name}/contacts"): {OPS},
    ("POST", "/campaigns/{name}/start"): {OPS},
    ("POST", "/campaigns/{name}/pause"): {OPS},
    ("POST", "/campaigns/{name}/resume"): {OPS},
    ("POST", "/campaigns/{name}/stop"): {OPS},
    ("POST", "/calls"): {DES, OPS},
    ("GET", "/calls"): {DES, OPS},
    ("GET", "/calls/facets"): {DES, OPS},
    ("GET", "/calls/{call_id}"): {DES, OPS},
    ("GET", "/calls/{call_id}/recording"): {DES, OPS},
    ("GET", "/calls/tests/{test_id}"): {DES, OPS},
    ("DELETE", "/calls/tests/{test_id}"): {DES, OPS},
    ("GET", "/flows/{flow_hash}"): {DES, OPS},
    ("GET", "/flows/{name}/heatmap"): {DES, OPS},
    ("GET", "/dnc"): {OPS},
    ("GET", "/dnc/{phone}"): {OPS},
    ("PUT", "/dnc/{phone}"): {OPS},
    ("DELETE", "/dnc/{phone}"): {OPS},
    ("GET", "/knowledge/documents/{document_id}/chunks"): {DES, OPS},
    ("POST", "/knowledge/{collection}/documents"): {DES},
    ("GET", "/knowledge/{collection}/documents"): {DES, OPS},
    ("DELETE", "/knowledge/{collection}/documents/{document_id}"): {DES},
    ("GET", "/knowledge/{collection}/search"): {DES, OPS},
    ("POST", "/knowledge/{collection}/repair"): {DES},
    ("GET", "/providers/breakers"): {DES, OPS},
    ("GET", "/tenant"): {DES, OPS},
    ("POST", "/tenants"): set(),
    ("GET", "/tenants"): set(),
    ("GET", "/tenants/{tenant}"): set(),
    ("PUT", "/tenants/{tenant}/quotas"): set(),
    ("POST", "/tenants/{tenant}/keys"): set(),
    ("GET", "/tenants/{tenant}/keys"): set(),
    ("POST", "/tenants/{tenant}/keys/{key_id}/rotate"): set(),
    ("DELETE", "/tenants/{tenant}/keys/{key_id}"): set(),
    ("GET", "/usage"): {OPS},
    ("POST", "/webhooks"): set(),
    ("GET", "/webhooks"): set(),
    ("DELETE", "/webhooks/{webhook_id}"): set(),
    ("GET", "/webhooks/{webhook_id}/deliveries"): set(),
    ("POST", "/webhooks/{webhook_id}/deliveries/{event_id}/redeliver"): set(),
}
OPEN = {("GET", "/health"), ("GET", "/ready")}
PARAMS = {
    "name": "matrix",
    "call_id": "c-matrix",
    "test_id": "test-matrix-20260101T000000-abcdef",
    "flow_hash": "sha256:00",
    "phone": "+12125550100",
    "collection": "kb",
    "document_id": "999999",
    "tenant": "default",
    "key_id": "nokey",
    "webhook_id": "wh_none",
    "event_id": "00000000-0000-4000-8000-000000000000",
}
SIMULATED = "+12127260181"
ALLOWLISTED = "+12125550199"
REAL = "+12125550123"


def _routes(app) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    )


def test_every_route_is_in_the_matrix(settings):
    assert set(_routes(create_app(settings))) == set(MATRIX) | OPEN


CASES = [(m, p, role) for (m, p) in MATRIX for role in ("admin", DES, OPS, None)]


@pytest.mark.parametrize(("method", "path", "role"), CASES)
async def test_each_role_gets_exactly_the_routes_of_the_matrix(api, method, path, role):
    url = path.format(**PARAMS)
    headers = as_role(role) if role else {"X-API-Key": ""}
    body = {"json": {}} if method in ("POST", "PUT") else {}
    r = await api.request(method, url, headers=headers, **body)
    if role is None:
        assert r.status_code == 401, r.text
    elif role == "admin" or role in MATRIX[(method, path)]:
        assert r.status_code not in (401, 403), r.text
    else:
        assert (r.status_code, r.json()["code"]) == (403, "forbidden"), r.text


@pytest.fixture
async def dial_api(tmp_path: Path, pg_pool):
    scenarios = tmp_path / "scenarios.json"
    scenarios.write_text(json.dumps({"numbers": {SIMULATED: {"result": "busy"}}}))
    settings = load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_SIM_SCENARIOS": str(scenarios),
            "VOXFLOW_DIAL_ALLOWLIST": ALLOWLISTED,
        }
    )
    app = create_app(settings, db=pg_pool)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://voxflow.test"
    ) as client:
        yield client


@pytest.mark.parametrize(
    ("role", "phone", "expected"),
    [
        (DES, SIMULATED, "allowed"),
        (DES, ALLOWLISTED, "allowed"),
        (DES, REAL, "designer_destination"),
        (OPS, REAL, "allowed"),
        ("admin", REAL, "allowed"),
        (OPS, "+19005550123", "destination_type"),
        ("admin", "+881612345678", "destination_type"),
        (DES, "+449098790000", "designer_destination"),
    ],
)
async def test_test_call_destinations_by_role(dial_api, role, phone, expected):
    # No flow: a request the destination check lets through stops at "flow_missing".
    r = await dial_api.post("/calls", json={"phone": phone}, headers=as_role(role))
    code = r.json()["code"]
    assert code == ("flow_missing" if expected == "allowed" else expected), r.text
