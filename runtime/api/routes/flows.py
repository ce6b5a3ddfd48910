"""Flow versions by content hash: the exact IR a campaign or a call ran; a flow's heat map."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query

from runtime.api import models
from runtime.api.auth import ANY_ROLE
from runtime.api.deps import db
from runtime.db import campaigns, flows, heatmap

router = APIRouter(prefix="/flows", tags=["flows"], dependencies=[Depends(ANY_ROLE)])
Db = Annotated[asyncpg.Pool, Depends(db)]


@router.get(
    "/{flow_hash}",
    response_model=models.FlowVersionOut,
    responses={404: {"model": models.Problem}},
)
async def flow_version(flow_hash: str, pool: Db) -> Any:
    """The stored IR of ``flow_hash`` (``sha256:<hex>``, as calls and campaigns name it), so a
    client can draw a call's node path on the graph of the flow it ran."""
    version = await flows.get_flow_version(pool, flow_hash)
    if version is None:
        raise HTTPException(
            404, detail={"code": "flow_not_found", "message": f"no flow version {flow_hash!r}"}
        )
    return asdict(version)


@router.get(
    "/{name}/heatmap",
    response_model=models.HeatMapOut,
    responses={404: {"model": models.Problem}},
)
async def flow_heat_map(
    name: str,
    pool: Db,
    campaign: Annotated[str | None, Query(description="Only this campaign's calls")] = None,
    since: Annotated[datetime | None, Query(description="Calls started at or after")] = None,
    until: Annotated[datetime | None, Query(description="Calls started before")] = None,
) -> Any:
    """Where callers go, drop off, are not understood and linger, node by node, over the
    finished calls of flow ``name`` (its agent's name, every stored version), for a campaign
    and/or a time range (docs/heatmap.md)."""
    for field, value in (("since", since), ("until", until)):
        if value is not None and value.tzinfo is None:
            raise _invalid(f"{field} needs a time zone, e.g. {value.isoformat()}Z")
    if since is not None and until is not None and since >= until:
        raise _invalid(f"since ({since.isoformat()}) must be before until ({until.isoformat()})")
    versions = await heatmap.flow_versions_of(pool, name)
    if not versions:
        raise HTTPException(
            404,
            detail={
                "code": "flow_not_found",
                "message": f"no stored flow has agent {name!r}; a flow is stored when a"
                " campaign or a call starts from it",
            },
        )
    draw: str | None = None
    if campaign is not None:
        row = await campaigns.get_campaign(pool, campaign)
        if row is None:
            raise HTTPException(
                404,
                detail={"code": "campaign_not_found", "message": f"no campaign {campaign!r}"},
            )
        if row.flow_hash not in versions:
            raise _invalid(f"campaign {campaign!r} does not run flow {name!r}")
        draw = row.flow_hash
    stored = await heatmap.load_heat_map(
        pool, heatmap.HeatMapQuery(flow=name, campaign=campaign, since=since, until=until)
    )
    heat = stored.heat
    nodes = sorted(heat.nodes.values(), key=lambda n: (-n.visits, n.node))
    return models.HeatMapOut(
        flow=name,
        flow_hash=draw or stored.latest_version or versions[0],
        versions=dict(stored.versions),
        campaign=campaign,
        since=since,
        until=until,
        calls=heat.calls,
        answered=heat.answered,
        nodes=[
            models.NodeHeatOut(
                **asdict(n),
                drop_off_rate=n.drop_off_rate,
                no_match_rate=n.no_match_rate,
                reprompt_rate=n.reprompt_rate,
                mean_ms=n.mean_ms,
            )
            for n in nodes
        ],
        edges=[models.EdgeHeatOut(**asdict(e)) for e in heat.edges],
    )


def _invalid(message: str) -> HTTPException:
    return HTTPException(422, detail={"code": "invalid_request", "message": message})
