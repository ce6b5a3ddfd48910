"""What one bridged call reports (``runtime/observability/calls.py``): a call with barge-in, a
transition and a tool call through the OpenAI Realtime adapter and its protocol stand-in
(the scenario of ``tests/call/test_openai_loopback.py``)."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from runtime.observability import metrics, tracing
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from tests.call.conftest import reminder, run_call
from tests.call.test_openai_loopback import model
from tests.standins.openai_realtime import OpenAIRealtimeStandin


def _sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


async def test_turns_first_audio_barge_in_and_tool_calls_are_reported(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    first_audio = _sample("voxflow_provider_first_audio_seconds_count", provider="openai")
    flushes = _sample("voxflow_bargein_flush_seconds_count")
    callee = [{"say": "I can't make it"}, {"wait_ms": 20000}, {"hangup": True}]
    async with OpenAIRealtimeStandin(model) as standin:
        call = await run_call(
            reminder(),
            callee,
            tmp_path,
            ["openai"],
            lambda name: OpenAIRealtimeProvider(api_key="sk-standin", base_url=standin.base_url),
        )
    result = call.result
    assert result.outcome == "rescheduled" and len(result.interruptions) == 1

    assert _sample("voxflow_bargein_flush_seconds_count") == flushes + 1
    # The greeting and the goodbye each waited for their first audio.
    assert _sample("voxflow_provider_first_audio_seconds_count", provider="openai") >= (
        first_audio + 2
    )
    finished = spans.get_finished_spans()
    turns = [s for s in finished if s.name == tracing.PROVIDER_TURN]
    assert [t.attributes["voxflow.interrupted"] for t in turns][:1] == [True]  # the greeting
    assert all(t.attributes[tracing.PROVIDER] == "openai" for t in turns)
    assert all(t.attributes["voxflow.first_audio_ms"] >= 0 for t in turns)
    (tool,) = [s for s in finished if s.name == tracing.TOOL_CALL]
    assert (tool.attributes[tracing.TOOL], tool.attributes["voxflow.ok"]) == (
        "schedule_callback",
        True,
    )
    assert {s.attributes[tracing.ATTEMPT_ID] for s in [*turns, tool]} == {result.call_id}
