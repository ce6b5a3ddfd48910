"""Activities act for the tenant of the workflow that called them.

A worker serves every tenant; the tenant of an activity is the one its workflow's id names
(``runtime.tenancy.scoped_workflow_id``; ids are fixed when the workflow starts, and a client
can only start a workflow under its own tenant's ids). The interceptor sets it before the
activity runs, so the pool scopes every statement the activity makes
(``runtime/db/pool.py``), with no tenant in any activity's input.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)

from runtime import tenancy


class _ActForWorkflowTenant(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        tenant = tenancy.tenant_of_workflow_id(info.workflow_id or "")
        with tenancy.acting_as(tenant):
            return await super().execute_activity(input)


class TenantInterceptor(Interceptor):
    """Add to every worker that runs voxflow's activities."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActForWorkflowTenant(super().intercept_activity(next))
