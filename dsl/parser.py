"""Parse the textual ``.flow`` syntax (``dsl/flow.lark``) into the located document tree.

Statements map onto the YAML shape (``dsl.schema``): ``node greet`` becomes
``agent.nodes.greet``, ``on busy retry after 15m max 3`` becomes
``campaign.rules.busy = {retry: 15m, max: 3}`` and so on, each key and value keeping the line
and column of its token. Syntax errors become ``VF101`` diagnostics that say what was expected.
"""

from __future__ import annotations

import threading
from functools import cache
from pathlib import Path

from lark import Lark, UnexpectedInput
from lark.indenter import DedentError

from dsl.ast import Map
from dsl.diagnostics import Diagnostic
from dsl.flow_doc import POSITIONS
from dsl.flow_errors import syntax_diagnostic
from dsl.flow_layout import FlowIndenter, dedent_line
from dsl.flow_statements import ToDoc

__all__ = ["GRAMMAR", "FlowSyntaxError", "parse_flow"]

GRAMMAR = Path(__file__).with_name("flow.lark")


@cache
def _parser() -> Lark:
    # The transformer runs inside the LALR parser (no parse tree is built): about twice as
    # fast on big flows. It keeps per-parse state, hence one parse at a time (``_LOCK``).
    return Lark(
        GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        lexer="contextual",
        postlex=FlowIndenter(),
        propagate_positions=False,
        maybe_placeholders=True,
        transformer=_TRANSFORMER,
    )


_LOCK = threading.Lock()


class FlowSyntaxError(Exception):
    """Carries the ``VF101`` diagnostics of a ``.flow`` file that does not parse."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].headline() if diagnostics else "syntax error")


def parse_flow(source: str, file: str = "<flow>") -> Map:
    """Parse ``.flow`` text into the document tree.

    Raises:
        FlowSyntaxError: the text does not follow the grammar (or a string literal is
            malformed); every diagnostic is ``VF101``.
    """
    text = source if source.endswith("\n") else source + "\n"
    try:
        with _LOCK:
            _TRANSFORMER.reset(file)
            try:
                doc = _parser().parse(text)
            finally:
                POSITIONS.clear()
            diagnostics = list(_TRANSFORMER.diagnostics)
    except UnexpectedInput as e:
        raise FlowSyntaxError([syntax_diagnostic(e, file, _parser().terminals)]) from None
    except DedentError as e:
        line = dedent_line(text)
        raise FlowSyntaxError(
            [
                Diagnostic(
                    file,
                    line,
                    1,
                    "VF101",
                    f"indentation does not match any outer block ({e})",
                    "indent nested statements by the same amount as their siblings",
                )
            ]
        ) from None
    if diagnostics:
        raise FlowSyntaxError(diagnostics)
    return doc


_TRANSFORMER = ToDoc()
