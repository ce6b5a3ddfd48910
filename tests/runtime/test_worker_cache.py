"""The worker's workflow cache: its bound is a setting an operator can lower."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import MagicMock

import pytest
from temporalio.testing import WorkflowEnvironment

from runtime.settings import SettingsError, load_settings
from runtime.worker import build_workers
from tests.temporal_env import time_skipping_env

ROOT = Path(__file__).resolve().parents[2]


def test_the_cache_bound_defaults_to_the_sdks_and_reads_its_variable() -> None:
    assert load_settings({}).max_cached_workflows == 1000
    assert load_settings({"VOXFLOW_MAX_CACHED_WORKFLOWS": "50"}).max_cached_workflows == 50


def test_a_negative_cache_bound_is_refused_naming_the_variable() -> None:
    with pytest.raises(SettingsError) as exc:
        load_settings({"VOXFLOW_MAX_CACHED_WORKFLOWS": "-1"})
    assert [p.env for p in exc.value.problems] == ["VOXFLOW_MAX_CACHED_WORKFLOWS"]


@pytest.fixture
async def env() -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as environment:
        yield environment


async def test_the_shared_queue_worker_gets_the_configured_cache_bound(
    env: WorkflowEnvironment,
) -> None:
    # The pool and gateway are only stored: building the workers uses neither.
    shared, calls = build_workers(
        env.client,
        pool=MagicMock(),
        gateway=MagicMock(),
        audiosocket="127.0.0.1:9092",
        max_cached_workflows=7,
    )
    assert shared.config()["max_cached_workflows"] == 7
    assert calls.config().get("workflows", []) == []  # the own queue runs no workflows


@pytest.mark.parametrize(
    ("name", "value"), [("VOXFLOW_MAX_CACHED_WORKFLOWS", "-1"), ("VOXFLOW_OPENAI_APPEND_MS", "30")]
)
def test_a_worker_misconfigured_says_why_and_exits_2_without_a_traceback(
    name: str, value: str
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VOXFLOW_")}
    env[name] = value
    done = subprocess.run(
        [sys.executable, "-m", "runtime.worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    assert name in done.stderr
    assert "Traceback" not in done.stderr
