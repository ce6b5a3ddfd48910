"""Typed search attributes the Temporal UI filters campaigns by (registered on the dev server),
and the workflow ids, scoped by tenant (``runtime.tenancy.scoped_workflow_id``)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from runtime.tenancy import DEFAULT_TENANT, scoped_workflow_id

CAMPAIGN = SearchAttributeKey.for_keyword("VoxflowCampaign")
OUTCOME = SearchAttributeKey.for_keyword("VoxflowOutcome")
ATTEMPT = SearchAttributeKey.for_int("VoxflowAttempt")
FLOW_HASH = SearchAttributeKey.for_keyword("VoxflowFlowHash")
TENANT = SearchAttributeKey.for_keyword("VoxflowTenant")
"""Set on every workflow voxflow starts: ``VoxflowTenant = "acme"`` in the Temporal UI."""

ALL = (CAMPAIGN, OUTCOME, ATTEMPT, FLOW_HASH, TENANT)


def dev_server_flags() -> list[str]:
    """``--search-attribute Name=Type`` flags for ``temporal server start-dev``."""
    kinds = {"KEYWORD": "Keyword", "INT": "Int"}
    return [
        flag
        for key in ALL
        for flag in ("--search-attribute", f"{key.name}={kinds[key.indexed_value_type.name]}")
    ]


def contact_workflow_id(campaign: str, contact_id: str, tenant: str = DEFAULT_TENANT) -> str:
    return scoped_workflow_id(tenant, f"campaign/{campaign}/{contact_id}")


TEST_CALL_PREFIX = "call/"


def test_call_workflow_id(test_id: str, tenant: str = DEFAULT_TENANT) -> str:
    """The contact workflow of a test call (no campaign): ``test_id`` is its attempts'
    ``campaign`` (``runtime/api/routes/phone_calls.py``)."""
    return scoped_workflow_id(tenant, TEST_CALL_PREFIX + test_id)


def campaign_workflow_id(campaign: str, tenant: str = DEFAULT_TENANT) -> str:
    return scoped_workflow_id(tenant, f"campaign/{campaign}")


def contact_id_of(campaign: str, workflow_id: str, tenant: str = DEFAULT_TENANT) -> str:
    """The contact id in a :func:`contact_workflow_id` of ``campaign`` (its inverse)."""
    prefix = contact_workflow_id(campaign, "", tenant)
    if not workflow_id.startswith(prefix) or workflow_id == prefix:
        raise ValueError(f"{workflow_id!r} is not a contact workflow id of campaign {campaign!r}")
    return workflow_id.removeprefix(prefix)
