"""Evaluation sets of intent matching (``flows/eval/*.nlu.yaml``), read for ``bench/nlu.py``.

A set names its flow (relative to the set's parent folder) and, per node, caller utterances
under the intent they mean, plus ``no_match``: unrelated utterances that must match nothing.
The intents open at a node are the node's and the global ones, as the engine offers them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from dsl import compile_file
from dsl.ir import Flow, IntentTransition

NO_MATCH = "no_match"


@dataclass(frozen=True)
class Case:
    node: str
    text: str
    expected: str
    """An intent name, or ``no_match``."""
    intents: tuple[IntentTransition, ...]


@dataclass(frozen=True)
class EvalSet:
    name: str
    flow: Flow
    cases: tuple[Case, ...]

    @property
    def paraphrases(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.expected != NO_MATCH)

    @property
    def unrelated(self) -> tuple[Case, ...]:
        return tuple(c for c in self.cases if c.expected == NO_MATCH)


def open_intents(flow: Flow, node: str) -> tuple[IntentTransition, ...]:
    """The node's intents, then the global ones (``Engine.intents`` order)."""
    own = [t for t in flow.node(node).transitions if isinstance(t, IntentTransition)]
    shared = [t for t in flow.agent.global_transitions if isinstance(t, IntentTransition)]
    return (*own, *shared)


def load(path: Path) -> EvalSet:
    """One set; ``ValueError`` naming the file when it refers to an unknown node or intent."""
    spec = yaml.safe_load(path.read_text())
    flow_path = path.parent.parent / spec["flow"]
    compiled = compile_file(str(flow_path))
    if compiled.flow is None:
        raise ValueError(f"{path}: {flow_path} does not compile")
    flow = compiled.flow
    cases: list[Case] = []
    for node, by_label in spec["nodes"].items():
        try:
            intents = open_intents(flow, node)
        except KeyError:
            raise ValueError(f"{path}: no node {node!r} in {flow_path}") from None
        names = {i.name for i in intents}
        for label, texts in by_label.items():
            if not isinstance(label, str):
                raise ValueError(
                    f"{path}: node {node!r} has the label {label!r}, not an intent name: YAML reads"
                    ' an unquoted yes/no/on/off as a boolean; quote it ("yes":)'
                )
            if label != NO_MATCH and label not in names:
                raise ValueError(f"{path}: {label!r} is not an intent open at node {node!r}")
            cases.extend(Case(node, text, label, intents) for text in texts)
    return EvalSet(path.name.removesuffix(".nlu.yaml"), flow, tuple(cases))


def load_all(folder: Path) -> list[EvalSet]:
    return [load(p) for p in sorted(folder.glob("*.nlu.yaml"))]
