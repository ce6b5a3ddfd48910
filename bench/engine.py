"""Transitions per second through the conversation engine (no I/O, no provider).

Runs three flows of 20 nodes in a ring and feeds the engine the event that moves it on:
  intent   - each node says one plain line; the model calls the node's intent
  when     - a ``set`` action bumps a variable and an engine ``when`` condition (dsl.expr) fires
  template - each node's ``say`` is a Jinja2 template rendered in the sandbox (dsl.templates)

A "transition" is one node change, including NodeEntered, UpdateSession and Say commands.
Usage: .venv/bin/python bench/engine.py [--transitions 200000]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from datetime import UTC, datetime

from dsl.ir import (
    Agent,
    Expr,
    Field,
    Flow,
    IntentTransition,
    Node,
    SetAction,
    Template,
    WhenTransition,
)
from runtime.engine import Engine, Limits
from runtime.engine.events import TransitionCalled
from runtime.tools import tool_specs

NODES = 20
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def ring(kind: str) -> Flow:
    nodes = []
    for i in range(NODES):
        nxt = f"n{(i + 1) % NODES}"
        if kind == "when":
            transitions = (
                WhenTransition(Expr(f"vars.k % {NODES} == {(i + 1) % NODES}"), nxt),
                IntentTransition(
                    "next", "go on", None, actions=(SetAction("vars.k", Expr("vars.k + 1")),)
                ),
            )
            say = (Template(f"Line {i}."),)
        else:
            transitions = (IntentTransition("next", "go on", nxt, examples=("next",)),)
            text = (
                f"Hello {{{{ contact.first_name }}}}, step {i}."
                if kind == "template"
                else f"Line {i}."
            )
            say = (Template(text),)
        nodes.append(Node(f"n{i}", say=say, task=Template("Move on."), transitions=transitions))
    return Flow(
        Agent(
            name="bench",
            persona=Template("You are a benchmark."),
            start="n0",
            nodes=tuple(nodes),
            context=(Field("first_name", "str"),),
            variables=(Field("k", "int", default=Expr("0")),),
        )
    )


def run(kind: str, transitions: int) -> tuple[float, float]:
    """Best rate over 3 runs, per wall-clock second and per CPU second of this process (the
    CPU figure is less disturbed by other work on a shared machine)."""
    flow = ring(kind)
    event = TransitionCalled("next", {}, "fc")
    limits = Limits(max_visits=transitions + 10)
    tools = tool_specs(flow)
    best_wall = best_cpu = 0.0
    for _ in range(3):
        engine = Engine(
            flow, contact={"first_name": "Ann"}, call_id="b", now=NOW, tools=tools, limits=limits
        )
        engine.start()
        handle = engine.handle
        w0, c0 = time.perf_counter(), time.process_time()
        for _ in range(transitions):
            handle(event)
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        assert len(engine.state.path) == transitions + 1, "every event must move one node"
        best_wall = max(best_wall, transitions / wall)
        best_cpu = max(best_cpu, transitions / max(cpu, 1e-9))
    return best_wall, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transitions", type=int, default=100_000)
    args = parser.parse_args()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"engine bench: python {platform.python_version()}, {os.cpu_count()} cores, "
        f"load avg {load:.2f}, {args.transitions} transitions x 3 runs (best shown)"
    )
    for kind in ("intent", "when", "template"):
        n = args.transitions if kind == "intent" else max(args.transitions // 5, 1000)
        wall, cpu = run(kind, n)
        print(
            f"  {kind:<9} {wall:>10,.0f} transitions/s wall  {cpu:>10,.0f} /s CPU"
            f"  ({n} transitions)"
        )


if __name__ == "__main__":
    main()
