"""Sub-flows imported from another flow file: the same IR as written in place, and each rule
of imports reporting its code, position, message and hint."""

from __future__ import annotations

from pathlib import Path

import pytest

from dsl import compile_file, compile_source
from dsl.format import to_flow
from dsl.format_yaml import to_yaml
from tests.dsl.test_rules import at

LIB = """\
agent lib
  persona "p"
  outcomes failed
  start demo

  flow identity(birth_date: date) -> (verified: bool)
    node ask
      collect dob: date
      when slots.dob == params.birth_date -> ok
      on no_match -> nope

    node ok
      call code -> done

    node done
      return(verified = true)

    node nope
      return(verified = false)

  flow code()
    node ask
      return

  node demo
    end failed
"""

MAIN = """\
agent m
  persona "p"
  context contact(birth_date: date)
  outcomes done, failed
  start greet

  IMPORT

  node greet
    call identity(birth_date = contact.birth_date) into id -> after

  node after
    when id.verified -> yes
    when not id.verified -> no

  node yes
    end done

  node no
    end failed
"""


def write(tmp_path: Path, main: str, lib: str = LIB) -> Path:
    (tmp_path / "common").mkdir(exist_ok=True)
    (tmp_path / "common" / "identity.flow").write_text(lib)
    path = tmp_path / "main.flow"
    path.write_text(main)
    return path


def test_an_imported_subflow_and_what_it_calls_join_the_agent(tmp_path):
    path = write(tmp_path, MAIN.replace("IMPORT", 'import identity from "common/identity.flow"'))
    flow = compile_file(path).unwrap()
    assert {(f.name, f.source) for f in flow.agent.subflows} == {
        ("identity", "common/identity.flow"),
        ("code", "common/identity.flow"),
    }
    assert "identity.ask" in {n.name for n in flow.agent.nodes}
    assert "demo" not in {n.name for n in flow.agent.nodes}
    # fmt keeps the import, in both syntaxes
    text = to_flow(flow)
    assert 'import code, identity from "common/identity.flow"' in text
    assert compile_source(text, file=str(path)).unwrap().hash == flow.hash
    yaml_path = str(tmp_path / "main.flow.yaml")
    assert compile_source(to_yaml(flow), file=yaml_path).unwrap().hash == flow.hash


CASES = [
    # (id, code, import line, lib, needle)
    ("missing file", "VF414", 'import identity from "comon/identity.flow"', LIB, "identity from"),
    (
        "file with errors",
        "VF414",
        'import identity from "common/identity.flow"',
        LIB.replace("-> ok", "-> okk"),
        "identity from",
    ),
    ("unknown sub-flow", "VF415", 'import identty from "common/identity.flow"', LIB, "identty"),
    (
        "an outcome the importing agent lacks",
        "VF406",
        'import identity from "common/identity.flow"',
        LIB.replace("return(verified = false)", "end failed_id").replace(
            "outcomes failed", "outcomes failed, failed_id"
        ),
        "identity from",
    ),
]


@pytest.mark.parametrize(
    ("code", "line", "lib", "needle"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_import_rule_reports_code_position_message_and_hint(tmp_path, code, line, lib, needle):
    src = MAIN.replace("IMPORT", line)
    result = compile_file(write(tmp_path, src, lib))
    found = [d for d in result.diagnostics if d.code == code]
    assert found, [d.headline() for d in result.diagnostics]
    assert (found[0].line, found[0].col) == at(src, needle)
    assert found[0].message and found[0].hint


@pytest.mark.parametrize(
    ("line", "file"),
    [
        ('import identity from "common/identity.flow"', "<api>.flow"),
        ('import identity from "/etc/passwd"', None),
        ('import identity from "common/notes.txt"', None),
    ],
    ids=["text without a file", "absolute path", "not a flow file"],
)
def test_imports_read_only_flow_files_beside_a_flow_file(tmp_path, line, file):
    src = MAIN.replace("IMPORT", line)
    path = write(tmp_path, src)
    result = compile_source(src, file=file or str(path))
    d = next(d for d in result.diagnostics if d.code == "VF414")
    assert (d.line, d.col) == at(src, "identity from")
    assert d.hint


def test_an_import_cycle_is_reported(tmp_path):
    lib = LIB.replace("  start demo\n", '  start demo\n\n  import identity from "../main.flow"\n')
    lib = lib.replace("  flow identity", "  flow other").replace("identity.", "other.")
    src = MAIN.replace("IMPORT", 'import other from "common/identity.flow"')
    src = src.replace("call identity(", "call other(")
    result = compile_file(write(tmp_path, src, lib))
    assert "VF414" in {d.code for d in result.diagnostics}


def test_a_subflow_both_imported_and_declared_is_a_duplicate(tmp_path):
    src = MAIN.replace(
        "IMPORT",
        'import identity from "common/identity.flow"\n\n'
        "  flow identity(birth_date: date) -> (verified: bool)\n"
        "    node ask\n      return(verified = true)",
    )
    result = compile_file(write(tmp_path, src))
    d = next(d for d in result.diagnostics if d.code == "VF211")
    assert (d.line, d.col) == at(src, "identity(birth_date: date) ->")
    assert "imported and declared" in d.message and d.hint
