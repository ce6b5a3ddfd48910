"""Calls' cost and recordings, flow versions by hash, document chunks, and the checks of a
phone test call made before anything is dialled (real PostgreSQL, real app)."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import asyncpg
import httpx
import pytest

from dsl.ir import Flow
from runtime.db import calls, dnc
from runtime.settings import load_settings

from .conftest import KEYS, as_role

REPO = Path(__file__).resolve().parents[2]
FLOW = (REPO / "flows" / "reminder.flow").read_text()
NO_CAMPAIGN = (REPO / "flows" / "survey.flow").read_text()
USAGE = {
    "openai": {"provider": "openai", "input_tokens": 1200, "cost_usd": 0.0412},
    "local": {"provider": "local", "cost_usd": 0.0},
}
CONTACT = {"first_name": "Ann", "appointment_at": "2026-11-24T10:00:00-05:00"}


@pytest.fixture
def recordings(tmp_path: Path) -> Path:
    return tmp_path / "recordings"


@pytest.fixture
def settings(recordings: Path):
    """The API's settings (conftest's ``api`` client uses them) with recordings in ``recordings``."""
    return load_settings(
        {
            "VOXFLOW_API_KEYS": ",".join(f"{r}:{k}" for r, k in KEYS.items()),
            "VOXFLOW_RECORDINGS_DIR": str(recordings),
        }
    )


def _wav(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(bytes(range(256)) * 8)
    return path.read_bytes()


async def _ended_call(pool: asyncpg.Pool, call_id: str, recording: str | None) -> None:
    await calls.start_call(pool, call_id, campaign="media", phone="+12127260181")
    await calls.end_call(
        pool,
        call_id,
        outcome="confirmed",
        node_path=["greet", "confirmed"],
        turns=1,
        duration_ms=4200,
        usage=USAGE,
        recording=recording,
    )


async def test_list_and_detail_report_usage_cost_and_recording_url(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool, recordings: Path
) -> None:
    await _ended_call(pg_pool, "media-1", "media-1.wav")
    await _ended_call(pg_pool, "media-2", None)

    listed = {c["id"]: c for c in (await api.get("/calls", params={"campaign": "media"})).json()}
    detail = (await api.get("/calls/media-1")).json()

    assert listed["media-1"]["cost_usd"] == pytest.approx(0.0412)
    assert listed["media-1"]["recording_url"] == "/calls/media-1/recording"
    assert listed["media-2"]["recording_url"] is None
    assert detail["usage"] == USAGE and detail["cost_usd"] == pytest.approx(0.0412)
    assert "recording" not in detail  # the server-side file name never leaves the API


async def test_recording_streams_the_wav_to_every_role_and_404s_when_absent(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool, recordings: Path
) -> None:
    await _ended_call(pg_pool, "rec-1", "rec-1.wav")
    await _ended_call(pg_pool, "rec-2", None)
    await _ended_call(pg_pool, "rec-3", "rec-3.wav")  # recorded, but the file is gone
    await _ended_call(pg_pool, "rec-4", "../outside.wav")  # a tampered row
    data = _wav(recordings / "rec-1.wav")
    _wav(recordings.parent / "outside.wav")

    for role in ("designer", "operator", "admin"):
        got = await api.get("/calls/rec-1/recording", headers=as_role(role))
        assert got.status_code == 200
        assert got.headers["content-type"] == "audio/wav" and got.content == data
    codes = {
        call_id: (r.status_code, r.json()["code"])
        for call_id in ("rec-2", "rec-3", "rec-4", "nope")
        if (r := await api.get(f"/calls/{call_id}/recording"))
    }
    assert codes == {
        "rec-2": (404, "recording_not_found"),
        "rec-3": (404, "recording_not_found"),
        "rec-4": (404, "recording_not_found"),
        "nope": (404, "call_not_found"),
    }
    no_key = await api.get("/calls/rec-1/recording", headers={"X-API-Key": ""})
    assert no_key.status_code == 401


async def test_flow_version_by_hash_returns_the_ir_a_client_can_rebuild(
    api: httpx.AsyncClient,
) -> None:
    made = await api.post(
        "/campaigns", json={"source": FLOW, "name": "flowver", "source_name": "reminder.flow"}
    )
    flow_hash = made.json()["flow_hash"]

    for role in ("designer", "operator"):
        got = await api.get(f"/flows/{flow_hash}", headers=as_role(role))
        assert got.status_code == 200
    body = got.json()
    assert (body["hash"], body["agent"], body["source_name"]) == (
        flow_hash,
        "reminder",
        "reminder.flow",
    )
    assert Flow.from_json(json.dumps(body["ir"])).hash == flow_hash
    missing = await api.get("/flows/sha256:0000")
    assert (missing.status_code, missing.json()["code"]) == (404, "flow_not_found")


async def test_document_chunks_are_paged_in_order_with_counts_and_filtered(
    api: httpx.AsyncClient,
) -> None:
    sentences = [f"Sentence number {i} talks about parking lot {i}." for i in range(40)]
    made = await api.post(
        "/knowledge/faq/documents", json={"text": " ".join(sentences), "title": "faq.md"}
    )
    doc_id = made.json()["id"]
    chunk_count = made.json()["chunks"]
    assert chunk_count >= 3

    first = (await api.get(f"/knowledge/documents/{doc_id}/chunks", params={"limit": 2})).json()
    rest = (
        await api.get(f"/knowledge/documents/{doc_id}/chunks", params={"offset": 2, "limit": 500})
    ).json()
    found = (
        await api.get(
            f"/knowledge/documents/{doc_id}/chunks",
            params={"contains": "PARKING LOT 39"},
            headers=as_role("operator"),
        )
    ).json()

    assert (first["total"], first["collection"], first["document"]["title"]) == (
        chunk_count,
        "faq",
        "faq.md",
    )
    chunks = first["chunks"] + rest["chunks"]
    assert [c["seq"] for c in chunks] == list(range(chunk_count))
    assert all(c["chars"] == len(c["text"]) and c["tokens"] > 0 for c in chunks)
    assert chunks[0]["text"].startswith("Sentence number 0 talks about parking lot 0.")
    assert chunks[0]["tokens"] == len(chunks[0]["text"].replace(".", "").split())
    assert found["total"] >= 1 and all("parking lot 39" in c["text"] for c in found["chunks"])
    missing = await api.get("/knowledge/documents/999999/chunks")
    assert (missing.status_code, missing.json()["code"]) == (404, "document_not_found")


async def test_test_call_refuses_bad_input_before_dialling(
    api: httpx.AsyncClient, pg_pool: asyncpg.Pool
) -> None:
    async def place(headers: dict[str, str] | None = None, **body: object) -> httpx.Response:
        return await api.post("/calls", json=body, headers=headers)

    good = {"source": FLOW, "phone": "+12127260181", "contact": CONTACT}
    await dnc.add_dnc(pg_pool, "+12125016613", source="api")

    cases = {
        "designer calling a real number": await place(as_role("designer"), **good),
        "premium rate": await place(**{**good, "phone": "+19005550123"}),
        "satellite": await place(**{**good, "phone": "+881612345678"}),
        "national number": await place(**{**good, "phone": "2127260181"}),
        "no flow": await place(phone="+12127260181"),
        "unknown hash": await place(flow_hash="sha256:0000", phone="+12127260181"),
        "no campaign": await place(**{**good, "source": NO_CAMPAIGN}),
        "broken flow": await place(**{**good, "source": FLOW.replace("start greet", "start x")}),
        "missing field": await place(**{**good, "contact": {"first_name": "Ann"}}),
        "bad zone": await place(**{**good, "timezone": "Mars/Olympus"}),
        "do not call": await place(**{**good, "phone": "+12125016613"}),
        # Valid in every way: only then is Temporal needed, and this API has none configured.
        "valid": await place(as_role("operator"), **good),
    }

    def code(r: httpx.Response) -> str:
        return r.json()["code"]

    assert {k: (r.status_code, code(r)) for k, r in cases.items()} == {
        "designer calling a real number": (403, "designer_destination"),
        "premium rate": (422, "destination_type"),
        "satellite": (422, "destination_type"),
        "national number": (422, "invalid_phone"),
        "no flow": (422, "flow_missing"),
        "unknown hash": (404, "flow_not_found"),
        "no campaign": (422, "no_campaign"),
        "broken flow": (422, "flow_invalid"),
        "missing field": (422, "contact_invalid"),
        "bad zone": (422, "contact_invalid"),
        "do not call": (409, "do_not_call"),
        "valid": (503, "temporal_not_configured"),
    }
    assert cases["broken flow"].json()["diagnostics"][0]["line"] > 0
    reasons = cases["missing field"].json()
    assert "appointment_at" in reasons["message"]
