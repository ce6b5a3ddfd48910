"""The workflow sandbox voxflow's workers and replayers use.

voxflow's pure modules (the IR, the campaign logic, the messages) are passed through: they hold
no state, and pydantic resolves the IR's postponed annotations against the real modules.
"""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

PASSTHROUGH = (
    "dsl",
    "runtime.campaign",
    "runtime.workflows.messages",
    "runtime.workflows.search",
    "runtime.tenancy",
    "holidays",
)


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )
