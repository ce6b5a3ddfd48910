"""Choose among matcher variants on the tuning set alone: each variant beside the matcher now.

A variant is the matcher now with some of its constants changed (``--set field=value``, the
fields of ``semantic.Tuning``; repeat ``--set`` for several, and ``--variant`` to start another
variant). Figures are on the tuning set ``bench/nlu_dev/`` (or ``--sets FOLDER``), never on the
evaluation sets in ``flows/eval/``, and are split into two halves (every other utterance of
each set, starting at 0 and at 1) so that a change can be seen to help both, not one half by
chance. The rule used since the fifth session to keep a change: on both halves, top-1 and
decided-right at least as high as the matcher now and one of them higher; unrelated no-match
not lower; p99 CPU of a decision under 2 ms.

    .venv/bin/python bench/nlu_choose.py --set open_bonus=0.08 --variant --set margin=0.05
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time
from dataclasses import replace
from pathlib import Path

from runtime.providers.local.evalset import NO_MATCH, EvalSet, load_all
from runtime.providers.local.semantic import IntentMatcher, Tuning

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "bench" / "nlu_dev"


def half(sets: list[EvalSet], k: int) -> list[EvalSet]:
    """Every other utterance of each set, starting at ``k``."""
    return [replace(s, cases=tuple(c for n, c in enumerate(s.cases) if n % 2 == k)) for s in sets]


def figures(sets: list[EvalSet], matcher: IntentMatcher) -> dict[str, int]:
    """top-1 and decided-right over the paraphrases, no-match over the unrelated utterances,
    and the 99th percentile of one decision's thread CPU, in microseconds."""
    out = {"top": 0, "dec": 0, "para": 0, "nm": 0, "unrel": 0}
    cpu: list[float] = []
    for s in sets:
        for case in s.cases:
            c0 = time.thread_time()
            d = matcher.decide(case.text, case.intents)
            cpu.append(time.thread_time() - c0)
            got = d.winner.intent if d.winner else ("clarify" if d.clarify else NO_MATCH)
            if case.expected == NO_MATCH:
                out["unrel"] += 1
                out["nm"] += got == NO_MATCH
            else:
                out["para"] += 1
                out["top"] += d.scores[0].intent == case.expected
                out["dec"] += got == case.expected
    cpu.sort()
    out["p99_us"] = int(cpu[min(len(cpu) - 1, int(0.99 * len(cpu)))] * 1e6) if cpu else 0
    return out


def _parse(assignments: list[str]) -> Tuning:
    fields = {f.name: f for f in dataclasses.fields(Tuning)}
    changes: dict[str, object] = {}
    for item in assignments:
        name, _, raw = item.partition("=")
        if name not in fields:
            raise SystemExit(
                f"--set {item}: no field {name!r} in semantic.Tuning ({', '.join(fields)})"
            )
        default = getattr(Tuning(), name)
        if isinstance(default, bool):
            changes[name] = raw.lower() in ("1", "true", "yes", "on")
        else:
            changes[name] = type(default)(raw)
    return Tuning(**changes)


def _row(label: str, sets: list[EvalSet], matcher: IntentMatcher, per_flow: bool) -> None:
    # One warm pass first: the phrase indexes are built outside the figures.
    figures(sets, matcher)
    halves = [figures(half(sets, k), matcher) for k in (0, 1)]
    whole = {k: halves[0][k] + halves[1][k] for k in ("top", "dec", "para", "nm", "unrel")}
    p99 = max(h["p99_us"] for h in halves)
    print(
        f"| {label} | {whole['top']} ({halves[0]['top']} / {halves[1]['top']})"
        f" | {whole['dec']} ({halves[0]['dec']} / {halves[1]['dec']}) | {whole['para']}"
        f" | {whole['nm']} of {whole['unrel']} | {p99} µs |"
    )
    if per_flow:
        for s in sets:
            f = figures([s], matcher)
            print(
                f"|   {s.name} | {f['top']} | {f['dec']} | {f['para']} | {f['nm']} of {f['unrel']} | |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], dest="sets_", metavar="FIELD=VALUE")
    parser.add_argument(
        "--variant", action="append_const", const="|", dest="sets_", help="start another variant"
    )
    parser.add_argument("--sets", type=Path, default=DEV, help="folder of *.nlu.yaml (tuning only)")
    parser.add_argument("--per-flow", action="store_true")
    args = parser.parse_args()
    if args.sets.resolve() == (ROOT / "flows" / "eval").resolve():
        raise SystemExit("the evaluation sets are held out: choose on bench/nlu_dev/")
    variants: list[list[str]] = [[]]
    for item in args.sets_:
        if item == "|":
            variants.append([])
        else:
            variants[-1].append(item)
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; sets {args.sets}"
    )
    sets = load_all(args.sets)
    print(
        "| matcher | top-1 (half 0 / half 1) | decided right | of | unrelated no-match | p99 CPU |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    _row("now", sets, IntentMatcher(), args.per_flow)
    for n, assignments in enumerate(v for v in variants if v):
        _row(
            " ".join(assignments) or f"variant {n}",
            sets,
            IntentMatcher(tuning=_parse(assignments)),
            args.per_flow,
        )
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
