"""Metrics read from PostgreSQL when ``/metrics`` is scraped: campaign progress, breakers.

Campaign progress and breaker state live in PostgreSQL, shared by every process: the API reads
them when ``/metrics`` is scraped (:func:`database_metrics`), so one deployment reports them
once, however many workers it runs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from dsl.providers import PROVIDER_NAMES
from runtime.campaign.board import PHASE_ORDER
from runtime.db.board import load_board
from runtime.providers.breaker import PgBreaker
from runtime.tenancy import PLATFORM, acting_as

ACTIVE_CAMPAIGNS = ("running", "paused")
"""Campaign statuses whose contacts are reported (bounds the ``campaign`` label)."""


def phase_label(phase: object) -> str:
    """A board phase as a label value: ``waiting for window`` -> ``waiting_window``."""
    return str(getattr(phase, "name", phase)).lower()


async def database_metrics(db: asyncpg.Pool, now: datetime | None = None) -> list[Metric]:
    """``voxflow_campaign_contacts{tenant,campaign,state}`` of every tenant's running and paused
    campaigns (their board, ``runtime/campaign/board.py``; read in the platform's view, then
    each board as its tenant, ``runtime/tenancy.py``) and ``voxflow_breaker_open{provider}`` (1 while a
    provider's breaker is open or half-open)."""
    now = now or datetime.now(UTC)
    contacts = GaugeMetricFamily(
        "voxflow_campaign_contacts",
        "Contacts of each running or paused campaign by state (its board's phases).",
        labels=["tenant", "campaign", "state"],
    )
    with acting_as(PLATFORM):
        names = await db.fetch(
            "SELECT tenant, name FROM campaigns WHERE status = ANY($1::text[])"
            " ORDER BY tenant, name",
            list(ACTIVE_CAMPAIGNS),
        )
    for row in names:
        with acting_as(row["tenant"]):
            board = await load_board(db, row["name"], now)
        if board is None:  # deleted between the two queries
            continue
        for phase in PHASE_ORDER:
            labels = [row["tenant"], row["name"], phase_label(phase)]
            contacts.add_metric(labels, board.counts[phase])
    breaker = GaugeMetricFamily(
        "voxflow_breaker_open",
        "1 while a provider's circuit breaker is open or half-open (calls skip it), else 0.",
        labels=["provider"],
    )
    for state in await PgBreaker(db).states(PROVIDER_NAMES):
        breaker.add_metric([state.provider], 0.0 if state.state == "closed" else 1.0)
    return [contacts, breaker]
