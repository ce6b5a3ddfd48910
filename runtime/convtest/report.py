"""Plain-text report of conversation tests: pass/fail per test, diffs, coverage per flow."""

from __future__ import annotations

import json
from typing import Any

from runtime.convtest.runner import Failure, FileResult


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, default=str, ensure_ascii=False)
    except TypeError:
        return repr(value)


def render_failure(f: Failure) -> list[str]:
    where = "opening" if f.turn == 0 else f"turn {f.turn}"
    return [
        f"    {where} ({f.turn_text}): {f.field}",
        f"      - expected: {_show(f.expected)}",
        f"      + actual:   {_show(f.actual)}",
    ]


def render(results: list[FileResult]) -> str:
    lines: list[str] = []
    passed = failed = 0
    for file in results:
        if file.error is not None:
            failed += 1
            lines.append(f"ERROR {file.tests_path}")
            lines.extend("    " + line for line in file.error.splitlines())
            continue
        for r in file.results:
            tag = f"{file.tests_path}::{r.name}"
            if r.passed:
                passed += 1
                lines.append(f"PASS  {tag}")
                continue
            failed += 1
            lines.append(f"FAIL  {tag}")
            for f in r.failures:
                lines.extend(render_failure(f))
            if r.error:
                lines.append(f"    error: {r.error}")
            if r.transcript:
                lines.append("    transcript:")
                lines.extend(f"      {role:>6}: {text}" for role, text in r.transcript)
        cov = file.coverage
        if cov is not None:
            n_pct = 100 * len(cov.reached & cov.nodes) / max(len(cov.nodes), 1)
            t_pct = 100 * len(cov.taken & cov.transitions) / max(len(cov.transitions), 1)
            lines.append(
                f"coverage {file.flow_path}: nodes {len(cov.reached & cov.nodes)}/{len(cov.nodes)}"
                f" ({n_pct:.0f}%), transitions {len(cov.taken & cov.transitions)}/"
                f"{len(cov.transitions)} ({t_pct:.0f}%)"
            )
            if cov.missing_nodes:
                lines.append("    nodes not reached: " + ", ".join(cov.missing_nodes))
            if cov.missing_transitions:
                lines.append(
                    "    transitions not taken: "
                    + ", ".join(f"{node} {key}" for node, key in cov.missing_transitions)
                )
    lines.append(f"{passed} passed, {failed} failed")
    return "\n".join(lines)
