"""bench/nlu_choose.py compares matcher variants on the tuning set and refuses the held-out one."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import nlu_choose  # noqa: E402

from runtime.providers.local.evalset import load_all  # noqa: E402
from runtime.providers.local.semantic import IntentMatcher, Tuning  # noqa: E402


def test_the_halves_split_every_set_into_two_disjoint_parts_that_cover_it() -> None:
    sets = load_all(nlu_choose.DEV)
    first, second = nlu_choose.half(sets, 0), nlu_choose.half(sets, 1)
    for whole, a, b in zip(sets, first, second, strict=True):
        assert sorted(a.cases + b.cases, key=repr) == sorted(whole.cases, key=repr)
        assert abs(len(a.cases) - len(b.cases)) <= 1


def test_a_variant_is_parsed_into_the_tuning_fields_with_their_types() -> None:
    tuning = nlu_choose._parse(["open_bonus=0.08", "families=false", "neighbours=3"])
    assert tuning == Tuning(open_bonus=0.08, families=False, neighbours=3)


def test_a_threshold_above_every_score_decides_nothing_but_no_match() -> None:
    sets = load_all(nlu_choose.DEV)[:1]
    now = nlu_choose.figures(sets, IntentMatcher())
    never = nlu_choose.figures(sets, IntentMatcher(tuning=Tuning(threshold=2.0)))
    assert never["dec"] == 0 and never["nm"] == never["unrel"]
    assert now["para"] == never["para"] and now["top"] == never["top"]


def test_the_evaluation_sets_are_refused() -> None:
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "nlu_choose.py"), "--sets", "flows/eval"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "held out" in run.stderr
