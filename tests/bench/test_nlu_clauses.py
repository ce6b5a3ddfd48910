"""bench/nlu_clauses.py measures the clause set and the tuning set, with and without punctuation."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import nlu_clauses  # noqa: E402

from runtime.providers.local.clauses import split  # noqa: E402
from runtime.providers.local.evalset import load_all  # noqa: E402


def test_the_sets_measured_are_the_tuning_and_clause_sets_never_the_evaluation_sets() -> None:
    assert all(folder.parent == ROOT / "bench" for folder in nlu_clauses.SETS.values())


def test_removing_punctuation_keeps_every_case_and_only_drops_punctuation() -> None:
    sets = load_all(nlu_clauses.SETS["clause set"])
    bare = nlu_clauses.unpunctuated(sets)
    for s, b in zip(sets, bare, strict=True):
        assert [c.expected for c in s.cases] == [c.expected for c in b.cases]
        assert all(not set(",.;:!?") & set(c.text) for c in b.cases)


def test_most_turns_of_the_clause_set_split_as_written() -> None:
    cases = [c for s in load_all(nlu_clauses.SETS["clause set"]) for c in s.cases]
    assert sum(1 for c in cases if split(c.text, 3)) >= 0.9 * len(cases)
