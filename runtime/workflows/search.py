"""Typed search attributes the Temporal UI filters campaigns by (registered on the dev server)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CAMPAIGN = SearchAttributeKey.for_keyword("VoxflowCampaign")
OUTCOME = SearchAttributeKey.for_keyword("VoxflowOutcome")
ATTEMPT = SearchAttributeKey.for_int("VoxflowAttempt")
FLOW_HASH = SearchAttributeKey.for_keyword("VoxflowFlowHash")

ALL = (CAMPAIGN, OUTCOME, ATTEMPT, FLOW_HASH)


def dev_server_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    kinds = {"KEYWORD": "Keyword", "INT": "Int"}
    return [
        flag
        for key in ALL
        for flag in ("--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}")
    ]


def contact_workflow_id(campaign: str, contact_id: str) -> str:
    return f"campaign/{campaign}/{contact_id}"


def campaign_workflow_id(campaign: str) -> str:
    return f"campaign/{campaign}"
