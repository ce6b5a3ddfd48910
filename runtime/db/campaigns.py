"""Campaigns: a name, the flow version it runs, and where it stands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from runtime.db.types import Db

CampaignStatus = Literal["draft", "running", "paused", "stopped", "finished"]


@dataclass(frozen=True)
class CampaignRow:
    name: str
    flow_hash: str
    status: CampaignStatus
    created_at: datetime
    updated_at: datetime


class CampaignExists(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(f"campaign {name!r} already exists; pick another name")
        self.name = name


def _row(r: asyncpg.Record) -> CampaignRow:
    return CampaignRow(**dict(r))


_COLUMNS = "name, flow_hash, status, created_at, updated_at"


async def create_campaign(db: Db, name: str, flow_hash: str) -> CampaignRow:
    """Create a ``draft`` campaign of a stored flow version.

    Raises:
        CampaignExists: the name is taken.
    """
    try:
        r = await db.fetchrow(
            f"INSERT INTO campaigns (name, flow_hash) VALUES ($1, $2) RETURNING {_COLUMNS}",
            name,
            flow_hash,
        )
    except asyncpg.UniqueViolationError:
        raise CampaignExists(name) from None
    return _row(r)


async def get_campaign(db: Db, name: str) -> CampaignRow | None:
    r = await db.fetchrow(f"SELECT {_COLUMNS} FROM campaigns WHERE name = $1", name)
    return None if r is None else _row(r)


async def list_campaigns(db: Db) -> list[CampaignRow]:
    return [_row(r) for r in await db.fetch(f"SELECT {_COLUMNS} FROM campaigns ORDER BY name")]


async def set_status(db: Db, name: str, status: CampaignStatus) -> CampaignRow | None:
    r = await db.fetchrow(
        f"UPDATE campaigns SET status = $2, updated_at = now() WHERE name = $1 RETURNING {_COLUMNS}",
        name,
        status,
    )
    return None if r is None else _row(r)
