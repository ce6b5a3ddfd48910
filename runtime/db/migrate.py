"""Versioned schema migrations.

Migrations are the files ``runtime/db/migrations/NNNN_name.sql``, applied in number order, each
in its own transaction, and recorded in ``schema_migrations`` with a checksum. Numbers
0001-0099 belong to the core schema, 0100 and up to optional parts (provider circuit breaker).
Running ``migrate`` again applies only what is new; a migration file changed after it was
applied is an error (write a new migration instead). A PostgreSQL advisory lock serialises
concurrent migrators (several workers starting at once).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x766F78666C6F77  # 'voxflow'


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


class MigrationError(Exception):
    """The migrations on disk and in the database disagree, or one failed."""


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migrations of ``directory`` in version order.

    Raises:
        MigrationError: a ``.sql`` file is misnamed, or two files share a number.
    """
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _FILE.match(path.name)
        if m is None:
            raise MigrationError(f"{path}: migration files are named NNNN_snake_name.sql")
        version = int(m.group(1))
        if version in found:
            raise MigrationError(
                f"{path}: number {version:04d} is also used by {found[version].name}"
            )
        found[version] = Migration(version, m.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


async def migrate(
    conn: asyncpg.Connection, migrations: list[Migration] | None = None
) -> list[Migration]:
    """Apply every migration not yet applied; return those applied now.

    Raises:
        MigrationError: an applied migration's file changed or disappeared, or a migration
            failed (its transaction is rolled back; earlier ones stay applied).
    """
    todo = discover() if migrations is None else migrations
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        await conn.execute(
            """CREATE TABLE IF NOT EXISTS schema_migrations (
                   version    integer PRIMARY KEY,
                   name       text NOT NULL,
                   checksum   text NOT NULL,
                   applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        applied = {r["version"]: r for r in await conn.fetch("SELECT * FROM schema_migrations")}
        on_disk = {m.version for m in todo}
        problems = [
            f"{v:04d}_{r['name']} is applied but its file is missing"
            for v, r in applied.items()
            if v not in on_disk
        ]
        problems += [
            f"{m.version:04d}_{m.name}.sql changed after it was applied; add a new migration"
            for m in todo
            if m.version in applied and applied[m.version]["checksum"] != m.checksum
        ]
        if problems:
            raise MigrationError("; ".join(problems))
        done: list[Migration] = []
        for m in todo:
            if m.version in applied:
                continue
            try:
                async with conn.transaction():
                    await conn.execute(m.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        m.version,
                        m.name,
                        m.checksum,
                    )
            except asyncpg.PostgresError as exc:
                raise MigrationError(f"{m.version:04d}_{m.name}.sql failed: {exc}") from exc
            done.append(m)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def applied_versions(conn: asyncpg.Connection) -> list[int]:
    """Versions recorded in ``schema_migrations`` (empty when it does not exist yet)."""
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return []
    return [
        r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations ORDER BY 1")
    ]
