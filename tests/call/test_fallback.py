"""Provider fallback during live loopback calls: mid-call failover, the circuit breaker, and
the spoken apology when no provider is left. Providers are the protocol stand-ins."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest

from dsl.ir import Template
from runtime.db import create_pool
from runtime.providers.base import VoiceProvider
from runtime.providers.breaker import PgBreaker
from runtime.providers.openai_realtime import OpenAIRealtimeProvider
from runtime.providers.ultravox import UltravoxProvider
from tests.call.conftest import reminder, run_call
from tests.standins.openai_realtime import OpenAIRealtimeStandin, RealtimeCall
from tests.standins.ultravox import UltravoxCall, UltravoxStandin

CONFIRM = [{"listen": True}, {"wait_ms": 800}, {"say": "Yes I'll be there", "wait_for_agent": False},
           {"wait_ms": 20000}, {"hangup": True}]  # fmt: skip


def factory(
    openai: OpenAIRealtimeStandin, ultravox: UltravoxStandin, openai_key: str = "sk-standin"
):
    def make(name: str) -> VoiceProvider:
        if name == "openai":
            return OpenAIRealtimeProvider(api_key=openai_key, base_url=openai.base_url)
        return UltravoxProvider(api_key="uv-standin", base_url=ultravox.base_url)

    return make


async def uv_confirms(call: UltravoxCall) -> None:
    await call.caller_turn()
    await call.invoke("confirms", {})


@pytest.fixture
async def breaker(pg_url: str) -> AsyncIterator[PgBreaker]:
    pool = await create_pool(pg_url, max_size=4)
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM provider_breaker")
    try:
        yield PgBreaker(pool, failure_threshold=1)
    finally:
        await pool.close()


async def test_dropped_openai_session_fails_over_to_ultravox_mid_call(tmp_path, breaker) -> None:
    async def openai_drops(call: RealtimeCall) -> None:
        greet = await call.next_event("response.create")
        await call.speak(greet["response"]["instructions"].split("\n", 1)[1])
        await call.drop()

    async with OpenAIRealtimeStandin(openai_drops) as oa, UltravoxStandin(uv_confirms) as uv:
        call = await run_call(reminder(), CONFIRM, tmp_path, ["openai", "ultravox"],
                              factory(oa, uv), breaker)  # fmt: skip
        created = uv.created
    result = call.result
    assert result.providers == ["openai", "ultravox"]
    assert result.outcome == "confirmed" and result.node_path == ["greet", "confirmed"]
    assert result.error is None and result.ended_by == "agent"
    # Ultravox took over in the node the call was in: the greet stage, with its tools
    assert "confirms" in {t["temporaryTool"]["modelToolName"] for t in created[0]["selectedTools"]}
    assert "Great, we'll see you then. Goodbye!" in call.callee.heard
    assert (await breaker.state("openai")).state == "open"
    assert (await breaker.state("ultravox")).state == "closed"


async def test_open_breaker_skips_the_provider_without_contacting_it(tmp_path, breaker) -> None:
    await breaker.record_failure("openai")  # another worker saw openai fail a moment ago
    async with OpenAIRealtimeStandin() as oa, UltravoxStandin(uv_confirms) as uv:
        call = await run_call(reminder(), [{"say": "Yes I'll be there"},
                              {"wait_ms": 20000}, {"hangup": True}], tmp_path,
                              ["openai", "ultravox"], factory(oa, uv), breaker)  # fmt: skip
        assert oa.calls == [] and oa.rejected == 0
    assert call.result.providers == ["ultravox"] and call.result.outcome == "confirmed"


async def test_no_provider_left_speaks_the_apology_and_hangs_up(tmp_path, breaker) -> None:
    flow = reminder()
    sorry = "Sorry, we are having technical trouble. We will call you back. Goodbye."
    provider = dataclasses.replace(flow.agent.provider, apology=Template(sorry))
    flow = dataclasses.replace(flow, agent=dataclasses.replace(flow.agent, provider=provider))
    async with OpenAIRealtimeStandin() as oa, UltravoxStandin() as uv:
        uv.fail_creates = 1
        call = await run_call(flow, [{"listen": True}, {"wait_ms": 20000}, {"hangup": True}],
                              tmp_path, ["openai", "ultravox"], factory(oa, uv, "sk-bad"), breaker)  # fmt: skip
        assert oa.rejected == 1 and uv.created == []
    result = call.result
    assert result.outcome == "provider_error" and result.ended_by == "provider"
    assert result.providers == []
    assert sorry in call.callee.heard  # spoken, then hung up: never dead air
    assert call.callee.ended_by == "agent"
    assert (await breaker.state("openai")).state == "open"
    assert (await breaker.state("ultravox")).state == "open"
