"""A circuit breaker per AI provider, shared by all workers through PostgreSQL.

States (table ``provider_breaker``, migration ``0100_provider_breaker.sql``):

* ``closed``: calls go to the provider. ``failure_threshold`` consecutive failures (a refused
  session or a fatal error mid-call, from any worker) open the breaker; a success resets the
  count.
* ``open``: the provider is skipped (the call goes to the next provider of the flow's
  fallback list) for ``open_for``.
* ``half_open``: after ``open_for``, exactly one call — the first worker to claim it, by an
  atomic ``UPDATE`` — tries the provider. Success closes the breaker; failure opens it for
  another ``open_for``. A trial that never reports back (its worker died) is given up after
  ``trial_timeout`` and another call may try.

Defaults: 3 failures, open for 30 s, trial timeout 120 s. Each transition runs in one
transaction with the provider's row locked, so concurrent workers never double-count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BreakerState:
    provider: str
    state: str
    failures: int
    opened_at: datetime | None


class PgBreaker:
    """Circuit breakers of all providers, in the database behind ``pool``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        failure_threshold: int = 3,
        open_for: timedelta = timedelta(seconds=30),
        trial_timeout: timedelta = timedelta(seconds=120),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._pool = pool
        self.failure_threshold = failure_threshold
        self.open_for = open_for
        self.trial_timeout = trial_timeout
        self._clock = clock

    async def allow(self, provider: str) -> bool:
        """May a new call use ``provider`` now? Claims the half-open trial when it is due."""
        now = self._clock()
        async with self._pool.acquire() as conn:
            claimed = await conn.fetchval(
                """
                UPDATE provider_breaker
                   SET state = 'half_open', trial_started_at = $2, updated_at = $2
                 WHERE provider = $1
                   AND ((state = 'open' AND opened_at <= $3)
                        OR (state = 'half_open' AND trial_started_at <= $4))
                RETURNING provider
                """,
                provider,
                now,
                now - self.open_for,
                now - self.trial_timeout,
            )
            if claimed is not None:
                log.info("provider %s: circuit half-open, this call is the trial", provider)
                return True
            state = await conn.fetchval(
                "SELECT state FROM provider_breaker WHERE provider = $1", provider
            )
        return state in (None, "closed")

    async def record_success(self, provider: str) -> None:
        now = self._clock()
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO provider_breaker (provider, updated_at) VALUES ($1, $2)
                ON CONFLICT (provider) DO UPDATE
                   SET state = 'closed', failures = 0, opened_at = NULL,
                       trial_started_at = NULL, updated_at = $2
                 WHERE provider_breaker.state <> 'closed' OR provider_breaker.failures <> 0
                """,
                provider,
                now,
            )

    async def record_failure(self, provider: str) -> None:
        now = self._clock()
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "INSERT INTO provider_breaker (provider, updated_at) VALUES ($1, $2)"
                " ON CONFLICT (provider) DO NOTHING",
                provider,
                now,
            )
            row = await conn.fetchrow(
                "SELECT state, failures FROM provider_breaker WHERE provider = $1 FOR UPDATE",
                provider,
            )
            failures = row["failures"] + 1
            opens = row["state"] == "half_open" or (
                row["state"] == "closed" and failures >= self.failure_threshold
            )
            if opens:
                await conn.execute(
                    """
                    UPDATE provider_breaker
                       SET state = 'open', failures = $2, opened_at = $3,
                           trial_started_at = NULL, updated_at = $3
                     WHERE provider = $1
                    """,
                    provider,
                    failures,
                    now,
                )
                log.warning("provider %s: circuit opened after %d failure(s)", provider, failures)
            else:
                await conn.execute(
                    "UPDATE provider_breaker SET failures = $2, updated_at = $3 WHERE provider = $1",
                    provider,
                    failures,
                    now,
                )

    async def states(self, providers: tuple[str, ...] = ()) -> list[BreakerState]:
        """Every breaker on record, plus ``providers`` (closed when never used), by name."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT provider, state, failures, opened_at FROM provider_breaker"
            )
        known = {r["provider"]: BreakerState(r["provider"], r["state"], r["failures"], r["opened_at"])
                 for r in rows}  # fmt: skip
        for name in providers:
            known.setdefault(name, BreakerState(name, "closed", 0, None))
        return [known[name] for name in sorted(known)]

    async def state(self, provider: str) -> BreakerState:
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT state, failures, opened_at FROM provider_breaker WHERE provider = $1",
                provider,
            )
        if row is None:
            return BreakerState(provider, "closed", 0, None)
        return BreakerState(provider, row["state"], row["failures"], row["opened_at"])
