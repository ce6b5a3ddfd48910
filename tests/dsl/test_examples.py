"""The example flows: they compile cleanly, and converting them keeps the IR hash."""

from __future__ import annotations

import csv
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest

from dsl import compile_file, compile_source
from dsl.comments import format_source
from dsl.format import leading_comment, to_flow
from dsl.format_yaml import to_yaml

FLOWS = Path(__file__).resolve().parents[2] / "flows"
EXAMPLES = sorted([*FLOWS.glob("*.flow"), *FLOWS.glob("*.flow.yaml")])


def test_there_are_at_least_six_examples_two_in_each_syntax():
    flow = [p for p in EXAMPLES if p.suffix == ".flow"]
    yaml = [p for p in EXAMPLES if p.name.endswith(".flow.yaml")]
    assert len(EXAMPLES) >= 6 and len(flow) >= 2 and len(yaml) >= 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_compiles_without_diagnostics_and_opens_with_a_comment(path: Path):
    result = compile_file(path)
    assert result.ok, [d.headline() for d in result.diagnostics]
    assert result.diagnostics == ()
    assert result.source.startswith("# ")


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_converted_to_the_other_syntax_has_the_same_ir_hash(path: Path):
    result = compile_file(path)
    flow = result.unwrap()
    is_yaml = path.name.endswith(".yaml")
    converted = (to_flow if is_yaml else to_yaml)(flow, header=leading_comment(result.source))
    other = compile_source(converted, file="converted" + (".flow" if is_yaml else ".flow.yaml"))
    assert other.ok, [d.headline() for d in other.diagnostics]
    assert other.unwrap().hash == flow.hash
    assert other.unwrap().to_json() == flow.to_json()
    back = (to_yaml if is_yaml else to_flow)(other.unwrap())
    assert compile_source(back, file=path.name).unwrap().hash == flow.hash


@pytest.mark.parametrize("path", [p for p in EXAMPLES if p.suffix == ".flow"], ids=lambda p: p.name)
def test_flow_examples_are_canonically_formatted(path: Path):
    result = compile_file(path)
    assert format_source(result, "flow") == result.source  # what `voxflow fmt --check` checks


def test_reminder_contacts_have_valid_numbers_in_several_regions_and_zones():
    with (FLOWS / "contacts" / "reminder.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 50
    assert set(rows[0]) == {"id", "first_name", "phone", "timezone", "appointment_at"}
    regions = set()
    for row in rows:
        number = phonenumbers.parse(row["phone"], "US")
        assert phonenumbers.is_valid_number(number), row
        regions.add(phonenumbers.region_code_for_number(number))
        if row["timezone"]:
            ZoneInfo(row["timezone"])
    assert {"US", "GB", "FR", "IN", "AU"} <= regions
    assert any(not r["timezone"] for r in rows)
    assert len({r["timezone"] for r in rows if r["timezone"]}) >= 6


def test_reminder_campaign_reads_the_reminder_contacts():
    flow = compile_file(FLOWS / "reminder.flow").unwrap()
    assert flow.campaign is not None
    assert flow.campaign.contacts.kind == "csv"
    assert (FLOWS / flow.campaign.contacts.location).is_file()
