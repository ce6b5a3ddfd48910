"""Every template of every field is checked at compile time: an undefined name in any of them
is a VF302 at its own line (the issue's ``{{ value }}`` in an ``invalid`` message included)."""

from __future__ import annotations

from dsl import compile_source
from tests.dsl.test_rules import at

SRC = """\
agent t
  persona "persona {{ nope1 }}"
  outcomes done
  provider
    apology "apology {{ nope2 }}"
  tool lookup http POST "https://x.example/{{ nope3 }}"
    header "X-Key" "header {{ nope4 }}"
    body "body {{ nope5 }}"

  global
    on silence 9s reprompt "global reprompt {{ nope6 }}" max 1 -> a

  node a
    say "say {{ nope7 }}"
    task "task {{ nope8 }}"
    collect day: date
      prompt "prompt {{ nope9 }}"
      invalid "invalid {{ value | day }} {{ nope10 }}"
    say "action say {{ nope11 }}"
    on silence 5s reprompt "reprompt {{ nope12 }}" max 1 -> b
    on no_match reprompt "no match {{ nope13 }}" max 1 -> b
    on go "The caller goes" -> b
      do
        say "do say {{ nope14 }}"

  node b
    transfer "transfer {{ nope15 }}"
"""


def test_an_undefined_name_is_reported_in_every_template_field():
    result = compile_source(SRC, file="t.flow")
    found = {(d.line, d.col) for d in result.diagnostics if d.code == "VF302"}
    expected = {at(SRC, f"nope{i} ") for i in range(1, 16)}
    assert found == expected


def test_value_is_readable_in_an_invalid_message_only():
    ok = SRC.replace(" {{ nope10 }}", "")
    result = compile_source(ok, file="t.flow")
    assert at(ok, "value | day") not in {(d.line, d.col) for d in result.diagnostics}
    elsewhere = compile_source(SRC.replace("{{ nope7 }}", "{{ value }}"), file="t.flow")
    assert any(d.code == "VF302" and "'value'" in d.message for d in elsewhere.diagnostics)
