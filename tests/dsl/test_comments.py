"""``fmt`` keeps every comment of every example flow, in both syntaxes, and is idempotent.

Each example is first given a comment above every statement and one at the end of every line
that can carry one (then its own hash is checked: the comments change nothing), so the test
covers comments everywhere, not only the header the examples open with.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl import compile_file, compile_source
from dsl.comments import find_comments, format_source, paths
from dsl.parser import parse_flow
from dsl.yaml_loader import load_yaml

FLOWS = sorted(
    p
    for p in (Path(__file__).parents[2] / "flows").iterdir()
    if p.name.endswith((".flow", ".flow.yaml"))
)
_ENDS_IN_EXPRESSION = re.compile(r"^\s*(set|validate|var|when)\b(?!.*->)")
"""``.flow`` statements whose last part is an expression: a ``#`` after it belongs to it."""


def syntax(path: Path | str) -> str:
    return "yaml" if str(path).endswith(".yaml") else "flow"


def commented(source: str, kind: str) -> str:
    """``source`` with ``# above N`` over each statement, ``# after N`` after each one-line one,
    and ``# the end`` closing the file."""
    doc = load_yaml(source) if kind == "yaml" else parse_flow(source)
    starts = {line for _, line, _ in paths(doc)}
    lines = source.splitlines()
    out = []
    for n, text in enumerate(lines, 1):
        if n in starts and not text.lstrip().startswith("#"):
            indent = text[: len(text) - len(text.lstrip())]
            out.append(f"{indent}# above {n}")
            nxt = lines[n] if n < len(lines) else ""
            nxt_indent = len(nxt) - len(nxt.lstrip())
            one_line = n + 1 in starts or not nxt.strip() or nxt_indent <= len(indent)
            if kind == "yaml":
                fits = one_line and not text.rstrip().endswith(("|", ">", "|-", ">-"))
            else:
                fits = not _ENDS_IN_EXPRESSION.match(text)
            if fits:
                text += f"  # after {n}"
        out.append(text)
    return "\n".join([*out, "", "# the end"]) + "\n"


def texts(source: str, kind: str) -> list[str]:
    return [c.text for c in find_comments(source, kind)]


@pytest.fixture(scope="module", params=FLOWS, ids=lambda p: p.name)
def example(request):
    path = request.param
    original = compile_file(path).unwrap()
    source = commented(path.read_text(encoding="utf-8"), syntax(path))
    result = compile_source(source, file=str(path))
    assert result.ok and result.unwrap().hash == original.hash  # the comments change nothing
    return path, result


@pytest.mark.parametrize("to", ["flow", "yaml"])
def test_fmt_keeps_every_comment_and_a_second_fmt_changes_nothing(example, to):
    path, result = example
    wanted = texts(result.source, syntax(path))
    assert len(wanted) > 20
    out = format_source(result, to)
    kept = texts(out, to)
    # several comments that end lines landing on one line read as one: each text is kept
    assert all(any(w in k for k in kept) for w in wanted), set(wanted) - {
        w for w in wanted if any(w in k for k in kept)
    }
    assert kept[-1] == "# the end"
    name = path.name.split(".")[0] + (".flow.yaml" if to == "yaml" else ".flow")
    again = compile_source(out, file=str(path.with_name(name)))
    assert again.unwrap().hash == result.unwrap().hash
    assert format_source(again, to) == out


def test_same_syntax_fmt_keeps_the_comments_in_their_order_and_places():
    source = """\
# What this flow shows.

agent a
  # the prompt
  persona "Hi"  # short on purpose
  start greet
  # the block keyword keeps the comment above it
  provider  # and the one after it
    # and the one inside, above the first item
    language "en-GB"

  # first contact
  node greet
    say "Hello"   # said verbatim
    # leave when done
    on done "Done" -> bye

  node bye
    say "Bye"
    end
# trailing notes
"""
    result = compile_source(source, file="a.flow")
    out = format_source(result, "flow")
    assert (
        out
        == """\
# What this flow shows.

agent a
  # the prompt
  persona "Hi"  # short on purpose
  start greet
  # the block keyword keeps the comment above it
  provider  # and the one after it
    # and the one inside, above the first item
    language "en-GB"

  # first contact
  node greet
    say "Hello"  # said verbatim
    # leave when done
    on done "Done" -> bye

  node bye
    say "Bye"
    end

# trailing notes
"""
    )
    assert format_source(compile_source(out, file="a.flow"), "flow") == out


def test_a_comment_after_an_expression_moves_above_it_in_flow_syntax():
    source = """\
agent a:
  persona: Hi
  variables:
    n: {type: int, default: 0}
  nodes:
    greet:
      enter:
      - set: vars.n
        value: vars.n + 1  # count the visits
      say: Hello  # a greeting
      on:
      - when: vars.n > 1  # came back
      - intent: done
        description: Done
        to: greet
""".replace("agent a:\n", "agent:\n  name: a\n")
    result = compile_source(source, file="a.flow.yaml")
    assert result.ok, result.diagnostics
    out = format_source(result, "flow")
    assert "    # count the visits\n    set vars.n = vars.n + 1\n" in out
    assert "    # came back\n    when vars.n > 1\n" in out
    assert '    say "Hello"  # a greeting\n' in out  # other lines keep theirs at the end
    assert compile_source(out, file="a.flow").unwrap().hash == result.unwrap().hash


def test_hash_signs_inside_strings_are_not_comments():
    flow = (
        'agent a\n  persona "Press # to end"  # real\n  start g\n\n  node g\n    on dtmf "#" -> g\n'
    )
    assert texts(flow, "flow") == ["# real"]
    yaml_text = (
        "agent:\n  name: a  # real\n  persona: 'Press # to end'\n  x: a#b\n  y: |\n    # text\n"
    )
    assert texts(yaml_text, "yaml") == ["# real"]
