"""Clause-level scoring on the sets it is for: the matcher with and without clauses, same run.

Prints, for the tuning set ``bench/nlu_dev/`` and the clause set ``bench/nlu_clauses/``
(turns that set a scene and make a request in one breath, written for this measurement), each
as written and with its punctuation removed (what a recogniser that writes none gives the
matcher), the figures of ``nlu_choose.py`` on both halves for the whole turn alone
(``clauses=1``, the fifth session's matcher) and for the matcher now, and how many turns split.
Never the evaluation sets in ``flows/eval/``.

    .venv/bin/python bench/nlu_clauses.py [--set clause_discount=0.1 ...]
"""

from __future__ import annotations

import argparse
import os
import re
import time
from dataclasses import replace
from pathlib import Path

from nlu_choose import _parse, figures, half

from runtime.providers.local.clauses import split
from runtime.providers.local.evalset import EvalSet, load_all
from runtime.providers.local.semantic import IntentMatcher, Tuning

ROOT = Path(__file__).resolve().parent.parent
SETS = {"tuning set": ROOT / "bench" / "nlu_dev", "clause set": ROOT / "bench" / "nlu_clauses"}
_PUNCTUATION = re.compile(r"[,.;:!?\u2026]")


def unpunctuated(sets: list[EvalSet]) -> list[EvalSet]:
    """The same sets with every comma, full stop, colon, question and exclamation mark removed."""
    return [
        replace(s, cases=tuple(replace(c, text=_PUNCTUATION.sub("", c.text)) for c in s.cases))
        for s in sets
    ]


def row(label: str, sets: list[EvalSet], tuning: Tuning) -> None:
    matcher = IntentMatcher(tuning=tuning)
    figures(sets, matcher)  # the phrase indexes are built outside the figures
    h = [figures(half(sets, k), matcher) for k in (0, 1)]
    split_turns = sum(1 for s in sets for c in s.cases if split(c.text, tuning.clauses))
    total = {k: h[0][k] + h[1][k] for k in ("top", "dec", "para", "nm", "unrel")}
    print(
        f"| {label} | {total['top']} ({h[0]['top']} / {h[1]['top']})"
        f" | {total['dec']} ({h[0]['dec']} / {h[1]['dec']}) | {total['para']}"
        f" | {total['nm']} of {total['unrel']} | {split_turns} | {max(x['p99_us'] for x in h)} µs |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", action="append", default=[], dest="sets_", metavar="FIELD=VALUE")
    args = parser.parse_args()
    now = _parse(args.sets_)
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start,"
        f" {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}"
    )
    print(
        "| set | top-1 (half 0 / half 1) | decided right | of | unrelated no-match | split | p99 CPU |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, folder in SETS.items():
        sets = load_all(folder)
        for form, shown in (("", sets), (", no punctuation", unpunctuated(sets))):
            row(f"{name}{form}, whole turn alone", shown, Tuning(clauses=1))
            row(f"{name}{form}, **clauses**", shown, now)
    print(f"load average {os.getloadavg()[0]:.2f} at end")


if __name__ == "__main__":
    main()
