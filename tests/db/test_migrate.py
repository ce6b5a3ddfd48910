"""Migrations: applied once, in order, recorded, and guarded against edited history."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from runtime.db.migrate import (
    Migration,
    MigrationError,
    applied_versions,
    discover,
    migrate,
)
from runtime.dev.postgres import EmbeddedPostgres


@pytest.fixture
async def empty_db(postgres_server: EmbeddedPostgres) -> str:
    admin = await asyncpg.connect(postgres_server.admin_url)
    name = "t_migrate_empty"
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    return postgres_server.url_for(name)


def test_core_migrations_are_numbered_in_the_core_range() -> None:
    versions = [m.version for m in discover()]
    assert versions == sorted(versions)
    assert versions[:2] == [1, 2]
    assert len(set(versions)) == len(versions)


def test_discover_rejects_misnamed_and_duplicate_files(tmp_path: Path) -> None:
    (tmp_path / "0001_a.sql").write_text("SELECT 1;")
    (tmp_path / "1_bad.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="NNNN_snake_name"):
        discover(tmp_path)
    (tmp_path / "1_bad.sql").unlink()
    (tmp_path / "0001_b.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="0001"):
        discover(tmp_path)


async def test_fresh_database_gets_every_migration_then_nothing_twice(empty_db: str) -> None:
    conn = await asyncpg.connect(empty_db)
    try:
        first = await migrate(conn)
        assert [m.version for m in first] == [m.version for m in discover()]
        assert await applied_versions(conn) == [m.version for m in discover()]
        assert await migrate(conn) == []
        tables = {
            r["table_name"]
            for r in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='public'"
            )
        }
        assert {
            "campaigns",
            "flow_versions",
            "contacts",
            "attempts",
            "calls",
            "transcripts",
            "tool_calls",
            "outcomes",
            "do_not_call",
            "callbacks",
            "knowledge_documents",
            "knowledge_chunks",
            "schema_migrations",
        } <= tables
    finally:
        await conn.close()


async def test_edited_applied_migration_is_refused(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        edited = [Migration(m.version, m.name, m.sql + "\n-- edited") for m in discover()]
        with pytest.raises(MigrationError, match="changed after it was applied"):
            await migrate(conn, edited)
    finally:
        await conn.close()


async def test_failing_migration_rolls_back_and_is_not_recorded(pg_url: str) -> None:
    conn = await asyncpg.connect(pg_url)
    try:
        bad = [
            *discover(),
            Migration(98, "half_done", "CREATE TABLE half (x int); SELECT no_such_fn();"),
        ]
        with pytest.raises(MigrationError, match="0098_half_done"):
            await migrate(conn, bad)
        assert 98 not in await applied_versions(conn)
        assert await conn.fetchval("SELECT to_regclass('half')") is None
    finally:
        await conn.close()
