"""``GET /metrics``: Prometheus metrics of the API process and of the database (campaign
progress, provider breakers); mounted only when ``VOXFLOW_METRICS`` is on. No API key, as
Prometheus scrapes it: it names campaigns and counts, never contacts or numbers."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from runtime.observability.exposition import CONTENT_TYPE_LATEST, api_metrics

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    body = await api_metrics(request.app.state.db)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
