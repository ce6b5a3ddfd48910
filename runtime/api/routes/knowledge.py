"""Knowledge collections: add documents, list them, search them (what ``knowledge_search``
returns to the agent)."""

from __future__ import annotations

import re
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response

from runtime.api import models
from runtime.api.auth import ANY_ROLE, DESIGNER
from runtime.api.deps import db
from runtime.db import knowledge

router = APIRouter(prefix="/knowledge", tags=["knowledge"])
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")
Db = Annotated[asyncpg.Pool, Depends(db)]
DocumentId = Annotated[int, Path(ge=1, le=2**63 - 1, description="A document's id (bigint)")]


def _embedder(request: Request) -> knowledge.Embedder:
    state = request.app.state
    if getattr(state, "embedder", None) is None:
        state.embedder = knowledge.embedder_for(state.settings)
    return state.embedder


@router.get(
    "/documents/{document_id}/chunks",
    response_model=models.DocumentChunksOut,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(ANY_ROLE)],
)
async def document_chunks(
    document_id: DocumentId,
    pool: Db,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    contains: Annotated[
        str | None, Query(max_length=500, description="Keep chunks containing this text")
    ] = None,
) -> Any:
    """A page of the document's chunks in order, as the agent's search sees them."""
    doc = await knowledge.get_document(pool, document_id)
    if doc is None:
        raise HTTPException(
            404, detail={"code": "document_not_found", "message": f"no document {document_id}"}
        )
    total, chunks = await knowledge.document_chunks(
        pool, document_id, offset=offset, limit=limit, contains=contains or None
    )
    return {
        "document": doc,
        "collection": doc["collection"],
        "total": total,
        "offset": offset,
        "limit": limit,
        "chunks": chunks,
    }


@router.post(
    "/{collection}/documents",
    response_model=models.KnowledgeDocumentOut,
    responses={201: {"model": models.KnowledgeDocumentOut, "description": "Added"}},
    dependencies=[Depends(DESIGNER)],
)
async def add_document(
    collection: str,
    body: models.KnowledgeDocumentIn,
    pool: Db,
    request: Request,
    response: Response,
) -> Any:
    """Chunk, embed and store a document (201); the same text again is a no-op (200)."""
    _check(collection)
    doc_id, created = await knowledge.add_document(
        pool,
        _embedder(request),
        collection,
        body.text,
        title=body.title,
        source=body.source,
        metadata=body.metadata,
    )
    response.status_code = 201 if created else 200
    (doc,) = [d for d in await knowledge.list_documents(pool, collection) if d["id"] == doc_id]
    return doc


@router.get(
    "/{collection}/documents",
    response_model=list[models.KnowledgeDocumentOut],
    dependencies=[Depends(ANY_ROLE)],
)
async def list_documents(collection: str, pool: Db) -> Any:
    _check(collection)
    return await knowledge.list_documents(pool, collection)


@router.delete(
    "/{collection}/documents/{document_id}",
    status_code=204,
    responses={404: {"model": models.Problem}},
    dependencies=[Depends(DESIGNER)],
)
async def delete_document(collection: str, document_id: DocumentId, pool: Db) -> None:
    if not await knowledge.delete_document(pool, collection, document_id):
        raise HTTPException(
            404, detail={"code": "document_not_found", "message": f"no document {document_id}"}
        )


@router.get(
    "/{collection}/search",
    response_model=list[models.PassageOut],
    dependencies=[Depends(ANY_ROLE)],
)
async def search(
    collection: str,
    pool: Db,
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    top_k: Annotated[int, Query(ge=1, le=50)] = 3,
) -> Any:
    """The passages the agent's ``knowledge_search`` would get, best first."""
    _check(collection)
    kb = knowledge.PgKnowledgeBase(pool, _embedder(request))
    return [
        {"text": p.text, "score": p.score, "source": p.source, "metadata": p.metadata}
        for p in await kb.search(collection, q, top_k)
    ]


@router.post(
    "/{collection}/repair",
    response_model=models.RepairOut,
    dependencies=[Depends(DESIGNER)],
)
async def repair(collection: str, pool: Db) -> Any:
    """Replace stored metadata over today's limits (stored before they were enforced) by a
    note, so the collection's documents can be listed and searched as before."""
    _check(collection)
    return {"collection": collection, "repaired": await knowledge.repair_metadata(pool, collection)}


def _check(collection: str) -> None:
    if not _NAME.fullmatch(collection):
        raise HTTPException(
            422,
            detail={
                "code": "invalid_collection",
                "message": "collection names are 1-100 letters, digits, '_', '.', '-'",
            },
        )
