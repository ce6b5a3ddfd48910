"""The embedded Temporal dev server: voxflow's search attributes are registered, so the
Temporal UI (and ``list_workflows``) can filter campaigns by them."""

from __future__ import annotations

from pathlib import Path

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest

from runtime.dev.temporal import start_dev_server
from runtime.workflows import search


async def test_dev_server_registers_voxflow_search_attributes_and_stops(tmp_path: Path) -> None:
    server = await start_dev_server(tmp_path, ui=False, persistent=True)
    try:
        client = await server.client()
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace="default")
        )
        custom = dict(listed.custom_attributes)
        assert custom[search.CAMPAIGN.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        assert custom[search.OUTCOME.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        assert custom[search.FLOW_HASH.name] == IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        assert custom[search.ATTEMPT.name] == IndexedValueType.INDEXED_VALUE_TYPE_INT
    finally:
        await server.stop()
    assert server.process.returncode is not None
    assert (tmp_path / "temporal.db").exists()
