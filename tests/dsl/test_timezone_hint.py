"""A mistyped time zone (VF503) gets the closest IANA name as its hint."""

from __future__ import annotations

import pytest

from dsl import compile_source

SRC = 'agent t\n  persona "p"\n  timezone "ZONE"\n  node a\n    end\n'


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Europe/Pariss", "Europe/Paris"),
        ("america/new_york", "America/New_York"),
        ("Asia/Tokio", "Asia/Tokyo"),
    ],
)
def test_unknown_time_zone_hint_names_the_closest_zone(typed, meant):
    result = compile_source(SRC.replace("ZONE", typed), file="t.flow")
    d = next(d for d in result.diagnostics if d.code == "VF503")
    assert (d.line, d.col) == (3, 12)
    assert d.hint == f"did you mean {meant!r}?"


def test_a_zone_nothing_like_any_keeps_the_general_hint():
    result = compile_source(SRC.replace("ZONE", "Mars/Olympus"), file="t.flow")
    d = next(d for d in result.diagnostics if d.code == "VF503")
    assert d.hint == "use an IANA name such as Europe/Paris"
