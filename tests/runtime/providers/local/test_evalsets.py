"""The evaluation sets of flows/eval/: one per example flow, big enough, and consistent."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runtime.providers.local.evalset import load, load_all

FLOWS = Path(__file__).resolve().parents[4] / "flows"


def test_every_example_flow_has_a_set_of_thirty_paraphrases_and_unrelated_utterances() -> None:
    sets = {s.name: s for s in load_all(FLOWS / "eval")}
    examples = {p.name.split(".")[0] for p in [*FLOWS.glob("*.flow"), *FLOWS.glob("*.flow.yaml")]}
    assert examples <= set(sets)
    for s in sets.values():
        assert len(s.paraphrases) >= 30, s.name
        assert len(s.unrelated) >= 5, s.name


def test_no_paraphrase_is_one_of_the_flow_examples_verbatim() -> None:
    for s in load_all(FLOWS / "eval"):
        for case in s.paraphrases:
            examples = {e.lower() for i in case.intents for e in i.examples}
            assert case.text.lower() not in examples, (s.name, case.text)


def test_every_knowledge_question_names_an_existing_article() -> None:
    path = FLOWS / "eval" / "acme_help.questions.yaml"
    spec = yaml.safe_load(path.read_text())
    folder = path.parent / spec["documents"]
    assert len(spec["questions"]) >= 30
    for q in spec["questions"]:
        assert (folder / q["doc"]).is_file(), q


def test_an_unquoted_yes_label_is_named_with_how_to_quote_it(tmp_path: Path) -> None:
    folder = tmp_path / "sets"
    folder.mkdir()
    (tmp_path / "flows").symlink_to(FLOWS)
    path = folder / "receptionist.nlu.yaml"
    path.write_text("flow: flows/receptionist.flow\nnodes:\n  confirm:\n    yes: [sure]\n")
    with pytest.raises(ValueError, match=r"label True, not an intent name.*quote it"):
        load(path)
