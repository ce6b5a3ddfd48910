"""A time-skipping Temporal test server with voxflow's search attributes, and recording
stand-ins for the activities (workflow unit tests check what the workflows ask for and when).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.temporal_env import time_skipping_env


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment
