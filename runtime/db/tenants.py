"""Tenants, their API keys and their usage.

Row-level security decides what each statement sees (migration ``0200_tenants.sql``): a
tenant reads its own row and keys; creating tenants and reading across them needs the
platform view (``runtime.tenancy.acting_as(PLATFORM)``). An API key is ``vf_<id>_<secret>``:
the id is public (listings show it), only a SHA-256 of the secret is stored, and the key is
shown once, when it is created or rotated.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

from runtime import tenancy
from runtime.db.types import Db

KeyRole = Literal["admin", "operator", "designer"]
KEY_PREFIX = tenancy.KEY_PREFIX


@dataclass(frozen=True)
class TenantRow:
    id: str
    name: str
    max_lines: int | None
    """Lines of a shared PBX the tenant may hold at once; ``None``: no cap of its own."""
    dial_per_minute: int | None
    """Originates a minute across the tenant's campaigns; ``None``: no cap of its own."""
    namespace: str | None
    """Temporal namespace of the tenant's workflows; ``None``: the deployment's."""
    created_at: datetime


@dataclass(frozen=True)
class KeyRow:
    id: str
    tenant: str
    role: KeyRole
    name: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IssuedKey:
    """A key as its creator sees it once: ``secret`` is never stored nor shown again."""

    row: KeyRow
    secret: str


@dataclass(frozen=True)
class Usage:
    tenant: str
    calls: int
    answered_calls: int
    call_seconds: float
    cost_usd: float
    attempts: int
    lines_in_use: int


class TenantExists(Exception):
    def __init__(self, tenant: str) -> None:
        super().__init__(f"tenant {tenant!r} already exists; pick another id")


_TENANT = "id, name, max_lines, dial_per_minute, namespace, created_at"
_KEY = "id, tenant, role, name, created_at, revoked_at"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _new_secret(key_id: str) -> tuple[str, str]:
    secret = secrets.token_urlsafe(24)
    return f"{KEY_PREFIX}{key_id}_{secret}", _hash(secret)


async def create_tenant(
    db: Db,
    tenant: str,
    *,
    name: str = "",
    max_lines: int | None = None,
    dial_per_minute: int | None = None,
    namespace: str | None = None,
) -> TenantRow:
    """Create ``tenant`` (needs the platform view).

    Raises:
        TenantExists: the id is taken.
        TenantIdError: the id is not a tenant id.
    """
    tenancy.check_id(tenant)
    try:
        r = await db.fetchrow(
            f"INSERT INTO tenants (id, name, max_lines, dial_per_minute, namespace)"
            f" VALUES ($1, $2, $3, $4, $5) RETURNING {_TENANT}",
            tenant,
            name,
            max_lines,
            dial_per_minute,
            namespace,
        )
    except asyncpg.UniqueViolationError:
        raise TenantExists(tenant) from None
    return TenantRow(**dict(r))


async def get_tenant(db: Db, tenant: str) -> TenantRow | None:
    r = await db.fetchrow(f"SELECT {_TENANT} FROM tenants WHERE id = $1", tenant)
    return None if r is None else TenantRow(**dict(r))


async def list_tenants(db: Db) -> list[TenantRow]:
    return [
        TenantRow(**dict(r)) for r in await db.fetch(f"SELECT {_TENANT} FROM tenants ORDER BY id")
    ]


async def set_quotas(
    db: Db, tenant: str, *, max_lines: int | None, dial_per_minute: int | None
) -> TenantRow | None:
    """Replace the tenant's caps (``None`` lifts one); needs the platform view."""
    r = await db.fetchrow(
        f"UPDATE tenants SET max_lines = $2, dial_per_minute = $3 WHERE id = $1"
        f" RETURNING {_TENANT}",
        tenant,
        max_lines,
        dial_per_minute,
    )
    return None if r is None else TenantRow(**dict(r))


async def create_key(db: Db, tenant: str, role: KeyRole, *, name: str = "") -> IssuedKey:
    """A new key of ``role`` in ``tenant``."""
    key_id = secrets.token_hex(6)
    secret, digest = _new_secret(key_id)
    r = await db.fetchrow(
        f"INSERT INTO api_keys (id, tenant, role, secret_hash, name) VALUES ($1, $2, $3, $4, $5)"
        f" RETURNING {_KEY}",
        key_id,
        tenant,
        role,
        digest,
        name,
    )
    return IssuedKey(KeyRow(**dict(r)), secret)


async def list_keys(db: Db, tenant: str) -> list[KeyRow]:
    rows = await db.fetch(
        f"SELECT {_KEY} FROM api_keys WHERE tenant = $1 ORDER BY created_at, id", tenant
    )
    return [KeyRow(**dict(r)) for r in rows]


async def rotate_key(db: Db, tenant: str, key_id: str) -> IssuedKey | None:
    """A new secret for a live key (the old one stops working at once); ``None`` if the
    tenant has no such live key."""
    secret, digest = _new_secret(key_id)
    r = await db.fetchrow(
        f"UPDATE api_keys SET secret_hash = $3 WHERE tenant = $1 AND id = $2"
        f" AND revoked_at IS NULL RETURNING {_KEY}",
        tenant,
        key_id,
        digest,
    )
    return None if r is None else IssuedKey(KeyRow(**dict(r)), secret)


async def revoke_key(db: Db, tenant: str, key_id: str) -> KeyRow | None:
    r = await db.fetchrow(
        f"UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())"
        f" WHERE tenant = $1 AND id = $2 RETURNING {_KEY}",
        tenant,
        key_id,
    )
    return None if r is None else KeyRow(**dict(r))


async def resolve_key(db: Db, key: str) -> KeyRow | None:
    """The live key ``key`` is, whichever tenant it belongs to; ``None`` if it is none."""
    body = key.removeprefix(KEY_PREFIX)
    key_id, sep, secret = body.partition("_")
    if not key.startswith(KEY_PREFIX) or not sep or not key_id or not secret:
        return None
    with tenancy.acting_as(tenancy.PLATFORM):
        r = await db.fetchrow(
            f"SELECT {_KEY}, secret_hash FROM api_keys WHERE id = $1 AND revoked_at IS NULL",
            key_id,
        )
    if r is None:
        return None
    values = dict(r)
    if not hmac.compare_digest(values.pop("secret_hash"), _hash(secret)):
        return None
    return KeyRow(**values)


async def usage(db: Db, since: datetime, until: datetime) -> list[Usage]:
    """Calls, talk time, cost, attempts and lines held, per tenant the caller may see."""
    rows = await db.fetch(
        "SELECT t.id AS tenant,"
        " (SELECT count(*) FROM calls c WHERE c.tenant = t.id"
        "   AND c.started_at >= $1 AND c.started_at < $2) AS calls,"
        " (SELECT count(*) FROM calls c WHERE c.tenant = t.id AND c.duration_ms > 0"
        "   AND c.started_at >= $1 AND c.started_at < $2) AS answered_calls,"
        " (SELECT coalesce(sum(c.duration_ms), 0) / 1000.0 FROM calls c WHERE c.tenant = t.id"
        "   AND c.started_at >= $1 AND c.started_at < $2) AS call_seconds,"
        " (SELECT coalesce(sum(c.cost_usd), 0) FROM calls c WHERE c.tenant = t.id"
        "   AND c.started_at >= $1 AND c.started_at < $2) AS cost_usd,"
        " (SELECT count(*) FROM attempts a WHERE a.tenant = t.id"
        "   AND a.dialed_at >= $1 AND a.dialed_at < $2) AS attempts,"
        " (SELECT count(*) FROM attempts a WHERE a.tenant = t.id"
        "   AND a.originated_at IS NOT NULL AND a.ended_at IS NULL) AS lines_in_use"
        " FROM tenants t ORDER BY t.id",
        since,
        until,
    )
    return [
        Usage(
            tenant=r["tenant"],
            calls=r["calls"],
            answered_calls=r["answered_calls"],
            call_seconds=float(r["call_seconds"]),
            cost_usd=float(r["cost_usd"]),
            attempts=r["attempts"],
            lines_in_use=r["lines_in_use"],
        )
        for r in rows
    ]
