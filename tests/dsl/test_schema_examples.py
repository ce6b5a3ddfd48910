"""The JSON Schema accepts the YAML form of every example, whichever syntax it is written in
(sub-flows, imports, on tool_error and on failures included)."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from dsl import compile_file
from dsl.format_yaml import to_data
from dsl.schema import flow_schema

FLOWS = Path(__file__).resolve().parents[2] / "flows"


@pytest.mark.parametrize("path", sorted(FLOWS.glob("*.flow")), ids=lambda p: p.name)
def test_the_yaml_form_of_each_flow_example_validates(path):
    jsonschema.validate(to_data(compile_file(path).unwrap()), flow_schema())
