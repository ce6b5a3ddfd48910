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
    assert (bad.status_code, bad.json()["detail"]["code"]) == (422, "invalid_collection")
    empty = await api.post("/knowledge/clinic/documents", json={"text": ""})
    assert (empty.status_code, empty.json()["code"]) == (422, "invalid_request")
