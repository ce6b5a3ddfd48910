"""What the repositories accept as a database handle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

Db = asyncpg.Pool | asyncpg.Connection
"""A pool (each statement on a free connection) or one connection (inside a transaction)."""


@asynccontextmanager
async def acquire(db: Db) -> AsyncIterator[asyncpg.Connection]:
    """One connection: ``db`` itself, or one borrowed from the pool for the block."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            yield conn
    else:
        yield db
