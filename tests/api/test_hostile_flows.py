"""Hostile flow sources cost only their own request: refused early, compiled off the loop."""

from __future__ import annotations

import asyncio
import time

import pytest

from dsl import compiler
from dsl.limits import MAX_SOURCE_BYTES

from .conftest import as_role

LAUGHS = "agent:\n  name: x\n  junk:\n" + "".join(
    f"    a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]\n" if i else '    a0: &a0 ["x"]\n'
    for i in range(9)
)


@pytest.mark.parametrize("route", ["/campaigns", "/calls"])
async def test_an_alias_bomb_is_a_422_with_vf104(api, route):
    body = {"source": LAUGHS, "syntax": "yaml", "phone": "+12125550100"}
    r = await api.post(
        route, json=body, headers=as_role("designer" if route == "/campaigns" else "operator")
    )
    assert (r.status_code, r.json()["code"]) == (422, "flow_invalid")
    assert [d["code"] for d in r.json()["diagnostics"]] == ["VF104"]


async def test_a_flow_over_the_size_limit_is_413_before_parsing(api):
    source = LAUGHS + "#" * MAX_SOURCE_BYTES
    r = await api.post("/campaigns", json={"source": source, "syntax": "yaml"})
    assert (r.status_code, r.json()["code"]) == (413, "flow_too_large")


async def test_health_answers_while_a_slow_compile_runs(api, monkeypatch):
    real = compiler.compile_source

    def slow(*args, **kwargs):
        time.sleep(1.5)  # a compile near the limits, held in its worker thread
        return real(*args, **kwargs)

    monkeypatch.setattr("runtime.api.flowsource.compile_source", slow)
    posting = asyncio.create_task(api.post("/campaigns", json={"source": "agent x\n"}))
    await asyncio.sleep(0.2)
    started = time.perf_counter()
    health = await api.get("/health")
    answered = time.perf_counter() - started
    assert health.status_code == 200 and answered < 0.5
    assert not posting.done()
    assert (await posting).status_code == 422
