"""Graph export and the JSON Schema of *.flow.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from dsl import compile_file
from dsl.graph import edges, to_dot, to_mermaid, to_svg
from dsl.schema import flow_schema

FLOWS = Path(__file__).resolve().parents[2] / "flows"


def test_edges_cover_transitions_globals_errors_and_amd():
    support = compile_file(FLOWS / "support.flow.yaml").unwrap()
    es = edges(support)
    assert ("welcome", "order", "order_question", False) in es
    assert ("__any__", "human", "human", True) in es
    assert ("order", "lookup_failed", "order_status failed", True) in es
    voicemail = compile_file(FLOWS / "voicemail.flow.yaml").unwrap()
    assert ("__machine__", "voicemail", "amd", True) in edges(voicemail)


def test_dot_and_mermaid_name_every_node():
    flow = compile_file(FLOWS / "dtmf_menu.flow").unwrap()
    dot, mermaid = to_dot(flow), to_mermaid(flow)
    assert dot.startswith('digraph "front_desk" {')
    assert '"menu" -> "hours" [label="dtmf 1"];' in dot
    assert mermaid.startswith("flowchart LR\n")
    for node in flow.agent.nodes:
        assert f'"{node.name}"' in dot and f'"{node.name}"' in mermaid


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz dot is installed by scripts/setup.sh"
)
def test_svg_is_rendered_by_graphviz():
    svg = to_svg(compile_file(FLOWS / "reminder.flow").unwrap())
    assert "<svg" in svg and "greet" in svg


class _Yaml12(yaml.SafeLoader):
    """Reads on/yes/no as strings, as editors' YAML 1.2 does."""


_Yaml12.yaml_implicit_resolvers = {
    k: [(t, r) for t, r in v if not (k in "oOyYnN" and t.endswith(":bool"))]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def test_schema_is_valid_and_accepts_every_yaml_example():
    schema = flow_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for path in FLOWS.glob("*.flow.yaml"):
        data = yaml.load(path.read_text(), Loader=_Yaml12)
        assert [e.message for e in validator.iter_errors(data)] == [], path.name


def test_schema_rejects_an_unknown_node_key():
    validator = jsonschema.Draft202012Validator(flow_schema())
    doc = {"agent": {"name": "a", "persona": "p", "nodes": {"x": {"sya": "typo"}}}}
    assert list(validator.iter_errors(doc))
