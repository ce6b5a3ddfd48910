"""The AI providers' circuit breakers as every worker shares them (``provider_breaker``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends

from dsl.providers import VOICED
from runtime.api import models
from runtime.api.auth import ANY_ROLE
from runtime.api.deps import db
from runtime.providers.breaker import PgBreaker

router = APIRouter(prefix="/providers", tags=["providers"], dependencies=[Depends(ANY_ROLE)])
Db = Annotated[asyncpg.Pool, Depends(db)]

VOICE_PROVIDERS = VOICED
"""Listed even before their first call (then closed)."""


@router.get("/breakers", response_model=list[models.BreakerOut])
async def breakers(pool: Db) -> Any:
    """Each provider's breaker: ``closed`` (calls go to it), ``open`` (skipped since
    ``opened_at``), ``half_open`` (one trial call under way), with its consecutive failures."""
    return [asdict(s) for s in await PgBreaker(pool).states(VOICE_PROVIDERS)]
