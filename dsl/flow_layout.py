"""Indentation in the ``.flow`` syntax: the INDENT/DEDENT tokens the grammar reads, and where a
dedent that matches no outer block is."""

from __future__ import annotations

from lark import Token
from lark.indenter import DedentError, Indenter


class FlowIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types: list[str] = []
    CLOSE_PAREN_types: list[str] = []
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8

    def _process(self, stream):
        # lark's generic loop, specialised: no bracket tracking (the grammar has none), and the
        # per-token attribute lookups hoisted out of the loop. Same tokens, same positions.
        levels, tab_len = self.indent_level, self.tab_len
        nl, indent_type, dedent_type = self.NL_type, self.INDENT_type, self.DEDENT_type
        borrow = Token.new_borrow_pos
        token = None
        for token in stream:
            yield token
            if token.type != nl:
                continue
            indent_str = token.rsplit("\n", 1)[1]
            indent = indent_str.count(" ") + indent_str.count("\t") * tab_len
            if indent > levels[-1]:
                levels.append(indent)
                yield borrow(indent_type, indent_str, token)
                continue
            while indent < levels[-1]:
                levels.pop()
                yield borrow(dedent_type, indent_str, token)
            if indent != levels[-1]:
                raise DedentError(
                    f"Unexpected dedent to column {indent}. Expected dedent to {levels[-1]}"
                )
        while len(levels) > 1:
            levels.pop()
            yield (
                borrow(dedent_type, "", token)
                if token
                else Token(dedent_type, "", 0, 0, 0, 0, 0, 0)
            )


def dedent_line(text: str) -> int:
    # The Indenter does not say where; report the first line whose indent matches no level.
    levels = [0]
    for i, line in enumerate(text.splitlines(), 1):
        stripped = line.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if indent > levels[-1]:
            levels.append(indent)
            continue
        while indent < levels[-1]:
            levels.pop()
        if indent != levels[-1]:
            return i
    return 1
