"""Bodies, paths, queries and uploads with characters PostgreSQL cannot store, or JSON too
deep or too large, are refused with a 422 (413 for size) naming the problem: never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

NUL = "r\u0000"
REPO = Path(__file__).resolve().parents[2]
FLOW = (REPO / "flows" / "reminder.flow").read_text()
CSV = (REPO / "flows" / "contacts" / "reminder.csv").read_bytes()


def _code(r: httpx.Response) -> str:
    return r.json()["code"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/dnc/+12125550195", '{"reason": "r\\u0000"}'),
        ("PUT", "/dnc/+12125550195", '{"reason": "r\\ud800"}'),
        ("POST", "/campaigns", '{"source": "agent x\\u0000"}'),
        ("POST", "/calls", '{"phone": "+12125550195", "source": "x", "contact": {"a": "\\u0000"}}'),
        ("POST", "/knowledge/kb/documents", '{"text": "hello\\u0000"}'),
        ("POST", "/knowledge/kb/documents", '{"text": "hi", "metadata": {"k\\u0000": 1}}'),
        ("POST", "/knowledge/kb/documents", '{"text": "hi", "metadata": {"k": "\\udfff"}}'),
    ],
)
async def test_nul_and_lone_surrogates_in_a_json_body_are_422(api, method, path, body):
    r = await api.request(method, path, content=body, headers={"content-type": "application/json"})
    assert (r.status_code, _code(r)) == (422, "invalid_text"), r.text
    assert r.json()["message"]


async def test_json_nested_too_deeply_is_422(api):
    deep = '{"reason": ' + "[" * 5000 + "]" * 5000 + "}"
    r = await api.put(
        "/dnc/+12125550195", content=deep, headers={"content-type": "application/json"}
    )
    assert (r.status_code, _code(r)) == (422, "json_too_deep")


async def test_a_body_over_the_limit_is_413(api):
    big = '{"reason": "' + "x" * (9 * 1024 * 1024) + '"}'
    r = await api.put(
        "/dnc/+12125550195", content=big, headers={"content-type": "application/json"}
    )
    assert (r.status_code, _code(r)) == (413, "body_too_large")


@pytest.mark.parametrize(
    "path",
    ["/dnc/%2B1212555%00195", "/calls/abc%00", "/campaigns/x%00/start", "/flows/sha256:%ED%A0%80"],
)
async def test_nul_or_invalid_utf8_in_a_path_is_422(api, path):
    r = await api.request("POST" if path.endswith("start") else "GET", path)
    assert (r.status_code, _code(r)) == (422, "invalid_text"), r.text


async def test_nul_in_a_query_is_422(api):
    r = await api.get("/calls", params={"campaign": NUL})
    assert (r.status_code, _code(r)) == (422, "invalid_text"), r.text


async def test_a_contacts_upload_with_a_nul_is_422_naming_row_and_column(api):
    created = await api.post("/campaigns", json={"source": FLOW, "name": "nul-upload"})
    assert created.status_code == 201, created.text
    header, first = CSV.decode().splitlines()[:2]
    cells = first.split(",")
    cells[1] = cells[1][:1] + "\x00" + cells[1][1:]
    data = f"{header}\n{first}\n{','.join(cells)}\n".encode()
    r = await api.post(
        "/campaigns/nul-upload/contacts",
        files={"file": ("c.csv", data, "text/csv")},
    )
    assert (r.status_code, _code(r)) == (422, "contacts_file_invalid"), r.text
    assert "row 3, column 2" in r.json()["message"]
