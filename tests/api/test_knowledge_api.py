"""Knowledge endpoints: add (idempotent), list with chunk counts, search, delete, roles."""

from __future__ import annotations

import httpx

from .conftest import as_role

FAQ = (
    "The clinic opens at 8 am on weekdays. "
    "Parking is free in the garage behind the building. "
    "Late cancellations cost 25 dollars."
)


async def test_add_list_search_delete(api: httpx.AsyncClient) -> None:
    added = await api.post(
        "/knowledge/clinic/documents",
        json={"text": FAQ, "title": "FAQ", "source": "faq.md"},
        headers=as_role("designer"),
    )
    assert added.status_code == 201, added.text
    doc = added.json()
    assert doc["chunks"] >= 1 and doc["title"] == "FAQ"
    again = await api.post("/knowledge/clinic/documents", json={"text": FAQ})
    assert (again.status_code, again.json()["id"]) == (200, doc["id"])
    listed = (await api.get("/knowledge/clinic/documents", headers=as_role("operator"))).json()
    assert [d["id"] for d in listed] == [doc["id"]]
    hits = (
        await api.get("/knowledge/clinic/search", params={"q": "where do I park", "top_k": 2})
    ).json()
    assert hits and "garage" in hits[0]["text"]
    assert hits[0]["metadata"]["document_id"] == doc["id"]
    assert (await api.get("/knowledge/other/search", params={"q": "park"})).json() == []
    denied = await api.delete(
        f"/knowledge/clinic/documents/{doc['id']}", headers=as_role("operator")
    )
    assert denied.status_code == 403
    assert (await api.delete(f"/knowledge/clinic/documents/{doc['id']}")).status_code == 204
    assert (await api.get("/knowledge/clinic/documents")).json() == []
    assert (await api.delete(f"/knowledge/clinic/documents/{doc['id']}")).status_code == 404


async def test_bad_collection_name_and_empty_text_are_rejected(api: httpx.AsyncClient) -> None:
    bad = await api.get("/knowledge/a b/search", params={"q": "x"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_collection")
    empty = await api.post("/knowledge/clinic/documents", json={"text": ""})
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_request")


def _nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_metadata_over_the_limits_is_refused(api: httpx.AsyncClient) -> None:
    deep = await api.post("/knowledge/kb/documents", json={"text": FAQ, "metadata": _nested(12)})
    assert (deep.status_code, deep.json()["code"]) == (422, "invalid_request")
    big = await api.post(
        "/knowledge/kb/documents", json={"text": FAQ, "metadata": {"k": "x" * 20_000}}
    )
    assert big.status_code == 422
    ok = await api.post("/knowledge/kb/documents", json={"text": FAQ, "metadata": _nested(5)})
    assert ok.status_code == 201


async def test_a_collection_broken_by_deep_metadata_lists_searches_and_is_repaired(
    api: httpx.AsyncClient, pg_pool
) -> None:
    added = await api.post("/knowledge/broken/documents", json={"text": FAQ})
    doc_id = added.json()["id"]
    # Metadata nested 500 deep, as stored before the limits existed.
    await pg_pool.execute(
        "UPDATE knowledge_documents SET metadata = $2::text::jsonb WHERE id = $1",
        doc_id,
        '{"k": ' * 500 + "1" + "}" * 500,
    )
    listed = await api.get("/knowledge/broken/documents")
    assert listed.status_code == 200, listed.text
    assert "invalid_metadata" in listed.json()[0]["metadata"]
    hits = await api.get("/knowledge/broken/search", params={"q": "park"})
    assert hits.status_code == 200 and hits.json()[0]["metadata"]["document_id"] == doc_id
    chunks = await api.get(f"/knowledge/documents/{doc_id}/chunks")
    assert chunks.status_code == 200
    repaired = await api.post("/knowledge/broken/repair", headers=as_role("designer"))
    assert repaired.json() == {"collection": "broken", "repaired": [doc_id]}
    stored = await pg_pool.fetchval(
        "SELECT metadata->>'invalid_metadata' FROM knowledge_documents WHERE id = $1", doc_id
    )
    assert stored.startswith("removed by repair")
    again = await api.post("/knowledge/broken/repair")
    assert again.json()["repaired"] == []
