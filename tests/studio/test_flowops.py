"""Flow files created, duplicated, renamed and deleted by the studio: safe names only, never
outside the flows folder, never over an existing file, the tests file following its flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl import compile_file
from studio import flowops


@pytest.mark.parametrize("syntax", ["flow", "yaml"])
def test_a_new_flow_compiles_without_a_diagnostic(tmp_path: Path, syntax: str) -> None:
    path = flowops.create(tmp_path, "billing-2", syntax)

    assert path.name == f"billing-2{flowops.SUFFIX[syntax]}"
    result = compile_file(str(path))
    assert result.flow is not None and list(result.diagnostics) == []
    assert result.flow.agent.name == "billing_2"


@pytest.mark.parametrize(
    "name", ["../escape", "a/b", ".hidden", "two words", "", "x" * 65, "dots.flow", "/etc/passwd"]
)
def test_an_unsafe_name_is_refused_and_nothing_is_written(tmp_path: Path, name: str) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    with pytest.raises(flowops.FlowFileError, match="is not a flow name"):
        flowops.create(flows, name)
    assert list(tmp_path.rglob("*.flow*")) == []


def test_duplicate_and_rename_carry_the_tests_file_and_never_overwrite(tmp_path: Path) -> None:
    flow = flowops.create(tmp_path, "first")
    (tmp_path / "first.tests.yaml").write_text("tests: []\n")

    copy = flowops.duplicate(tmp_path, flow, "second")
    assert copy.read_text() == flow.read_text()
    assert (tmp_path / "second.tests.yaml").read_text() == "tests: []\n"
    with pytest.raises(flowops.FlowFileError, match="second.flow already exists"):
        flowops.rename(tmp_path, flow, "second")

    renamed = flowops.rename(tmp_path, flow, "third")
    assert renamed == tmp_path / "third.flow" and not flow.exists()
    assert (tmp_path / "third.tests.yaml").exists()
    assert not (tmp_path / "first.tests.yaml").exists()


def test_delete_removes_the_flow_and_its_tests_file_only(tmp_path: Path) -> None:
    flow = flowops.create(tmp_path, "gone")
    (tmp_path / "gone.tests.yaml").write_text("tests: []\n")
    kept = flowops.create(tmp_path, "kept")

    assert [p.name for p in flowops.delete(tmp_path, flow)] == ["gone.flow", "gone.tests.yaml"]
    assert [p.name for p in tmp_path.iterdir()] == [kept.name]


def test_a_link_leading_outside_the_folder_is_never_touched(tmp_path: Path) -> None:
    outside = tmp_path / "outside.flow"
    outside.write_text("agent x\n")
    flows = tmp_path / "flows"
    flows.mkdir()
    (flows / "link.flow").symlink_to(outside)

    with pytest.raises(flowops.FlowFileError, match="outside the flows folder"):
        flowops.delete(flows, flows / "link.flow")
    with pytest.raises(flowops.FlowFileError, match="outside the flows folder"):
        flowops.rename(flows, flows / "link.flow", "renamed")
    assert outside.read_text() == "agent x\n"
