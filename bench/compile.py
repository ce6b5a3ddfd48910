"""Compile time of a generated 1,000-node flow (both syntaxes) and one expression evaluation.

Run: ``.venv/bin/python bench/compile.py [nodes] [runs]``. Prints figures and the conditions
they were measured in; asserts nothing (timings depend on the machine and its load).
Targets (issue 2): compile < 500 ms for 1,000 nodes; one evaluation < 5 µs.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
import timeit
from datetime import UTC, datetime

from dsl import compile_source
from dsl.build import build
from dsl.compiler import _gc_paused
from dsl.expr import compile_expr
from dsl.format_yaml import to_yaml
from dsl.parser import parse_flow
from dsl.rules import RuleContext, run_rules
from dsl.yaml_loader import load_yaml


def generated_flow(nodes: int) -> str:
    """A linear flow of ``nodes`` nodes, each with a template, an intent, a condition and a
    silence re-prompt, so every stage (parse, build, rules, expressions, templates) works."""
    out = [
        "# Generated for bench/compile.py.",
        "agent bench",
        '  persona "You are a benchmark agent for {{ contact.first_name }}."',
        "  context contact(first_name: str, age: int, city: str)",
        "  var tries: int = 0",
        "  outcomes done",
        "  start n0",
    ]
    for i in range(nodes):
        nxt = f"n{i + 1}" if i + 1 < nodes else "last"
        out += [
            "",
            f"  node n{i}",
            f'    say "Step {i} for {{{{ contact.first_name }}}} in {{{{ contact.city }}}}."',
            f'    task "Ask question number {i}."',
            f'    on agrees "The caller agrees to step {i}" -> {nxt}',
            '      examples "yes", "sure", "okay"',
            f"    when contact.age >= 18 and vars.tries < {i % 5 + 1} -> {nxt}",
            f'    on silence 6s reprompt "Still there?" max 2 -> {nxt}',
        ]
    out += ["", "  node last", '    say "Done."', "    end done"]
    return "\n".join(out) + "\n"


def median_ms(src: str, file: str, runs: int) -> tuple[float, float, float]:
    """Median and best wall-clock ms, and median CPU ms of this process (less sensitive to
    other processes competing for the cores)."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        result = compile_source(src, file=file)
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
        assert result.ok, result.diagnostics[:3]
    return statistics.median(wall), min(wall), statistics.median(cpu)


def stages_ms(src: str, file: str) -> str:
    """CPU ms per stage of one compile: parse/load, build (incl. expression parsing), rules
    (with the garbage collector held, as ``compile_source`` does)."""
    with _gc_paused():
        doc_start = time.process_time()
        doc = load_yaml(src, file) if file.endswith(".yaml") else parse_flow(src, file)
        built_start = time.process_time()
        built = build(doc, file)
        rules_start = time.process_time()
        run_rules(RuleContext(built.flow, built.source_map, file))
        end = time.process_time()
    return (
        f"parse {1000 * (built_start - doc_start):.0f}, build {1000 * (rules_start - built_start):.0f}, "
        f"rules {1000 * (end - rules_start):.0f} ms CPU"
    )


def main() -> None:
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    flow_src = generated_flow(nodes)
    flow = compile_source(flow_src, file="bench.flow").unwrap()
    yaml_src = to_yaml(flow)
    assert compile_source(yaml_src, file="bench.flow.yaml").unwrap().hash == flow.hash
    print(
        f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"flow: {nodes + 1} nodes, {len(flow_src.splitlines())} lines .flow, "
        f"{len(yaml_src.splitlines())} lines YAML"
    )
    for name, src, file in (
        ("flow", flow_src, "bench.flow"),
        ("yaml", yaml_src, "bench.flow.yaml"),
    ):
        med, best, cpu = median_ms(src, file, runs)
        print(
            f"compile {name:>4}: median {med:7.1f} ms, best {best:7.1f} ms wall, median "
            f"{cpu:7.1f} ms CPU over {runs} runs (target < 500 ms); {stages_ms(src, file)}"
        )

    fn = compile_expr("contact.age >= 18 and vars.tries < 3 and contact.city in ['Paris', 'Lyon']")
    env = {
        "contact": {"age": 42, "city": "Lyon", "first_name": "Ada"},
        "vars": {"tries": 1},
        "now": datetime(2026, 11, 22, 9, 0, tzinfo=UTC),
    }
    assert fn(env) is True
    number = 200_000
    per = [t / number * 1e6 for t in timeit.repeat(lambda: fn(env), number=number, repeat=5)]
    print(
        f"one expression evaluation: median {statistics.median(per):.2f} µs, best {min(per):.2f} µs "
        f"({number:,} evaluations x 5; target < 5 µs)"
    )


if __name__ == "__main__":
    main()
