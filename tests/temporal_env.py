"""The time-skipping Temporal test server with voxflow's search attributes registered, as the
dev server has them: shared by the workflow, API and studio tests (and by
``voxflow campaign simulate``, whose module starts it)."""

from __future__ import annotations

from runtime.dryrun.server import time_skipping_server as time_skipping_env

__all__ = ["time_skipping_env"]
