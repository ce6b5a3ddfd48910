"""Load ``*.flow.yaml`` into the located document tree, keeping every key's and value's position.

PyYAML's composer gives nodes with marks; this module turns them into ``dsl.ast`` values
without YAML 1.1's surprises: a scalar keeps its text (``09:00`` stays ``"09:00"``, not 540;
``2026-12-24`` stays a string), and ``dsl.build`` reads it by the type each key expects. Only
plain (unquoted) scalars are read as numbers, booleans or null.
"""

from __future__ import annotations

import yaml

from dsl import ast
from dsl.ast import Map, Pos, Scalar, Seq, Value
from dsl.diagnostics import Diagnostic
from dsl.limits import MAX_NODES, check_source, too_large
from dsl.yaml_errors import yaml_diagnostic

_TAGS = {
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
}


# libyaml's parser when PyYAML was built with it (about 10x faster), with the same marks.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlSyntaxError(Exception):
    """Carries the ``VF102`` diagnostic of a YAML file that does not parse."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__(diagnostics[0].headline())


def load_yaml(source: str, file: str = "<yaml>") -> Value:
    """Compose YAML text into the document tree (an empty document is an empty mapping).

    Raises:
        YamlSyntaxError: malformed YAML or several documents (``VF102``); an anchor or an
            alias (``VF104``: a flow file has no use for them, and nested aliases expand
            exponentially); a source over a limit of ``dsl.limits`` (``VF103``).
    """
    over = check_source(source, file)
    if over is not None:
        raise YamlSyntaxError([over])
    if "&" in source or "*" in source:  # the only characters that start an anchor or alias
        _refuse_anchors(source, file)
    try:
        node = yaml.compose(source, Loader=_LOADER)
    except yaml.MarkedYAMLError as e:
        raise YamlSyntaxError([yaml_diagnostic(e, source, file)]) from None
    except yaml.YAMLError as e:
        raise YamlSyntaxError(
            [Diagnostic(file, 1, 1, "VF102", f"YAML error: {e}", "write one YAML document")]
        ) from None
    except (RecursionError, ValueError) as e:
        raise YamlSyntaxError(
            [Diagnostic(file, 1, 1, "VF102", f"YAML error: {e}", "write one YAML document")]
        ) from None
    if node is None:
        return Map([], Pos(1, 1))
    return _convert(node, file, 0, [MAX_NODES])


def _refuse_anchors(source: str, file: str) -> None:
    """``VF104`` at the first anchor (``&name``) or alias (``*name``) of the source.

    Tokens are scanned, not composed: nothing is expanded, so a "billion laughs" document costs
    one linear pass. A source that does not even scan is left to the composer to report.
    """
    try:
        for token in yaml.scan(source, Loader=_LOADER):
            if isinstance(token, yaml.AnchorToken | yaml.AliasToken):
                what = "an anchor" if isinstance(token, yaml.AnchorToken) else "an alias"
                mark = token.start_mark
                raise YamlSyntaxError(
                    [
                        Diagnostic(
                            file,
                            mark.line + 1,
                            mark.column + 1,
                            "VF104",
                            f"YAML {what} ({'&' if what == 'an anchor' else '*'}{token.value})"
                            " is not allowed in a flow file",
                            "write the value out in full where it is used (quote a text that"
                            " starts with & or *)",
                        )
                    ]
                )
    except yaml.YAMLError:
        return


def _pos(node: yaml.Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


def _convert(node: yaml.Node, file: str, depth: int, budget: list[int]) -> Value:
    """The document tree of ``node``; ``budget[0]`` is how many more nodes may be read."""
    budget[0] -= 1
    if budget[0] < 0:
        raise YamlSyntaxError(
            [too_large(file, f"the flow has more than {MAX_NODES} YAML values", *_lc(node))]
        )
    if depth > 200:
        raise YamlSyntaxError(
            [Diagnostic(file, *_lc(node), "VF102", "YAML nested too deeply", "flatten the file")]
        )
    # Scalars first: they are most nodes of a flow file (this loop is the loader's hot path).
    if isinstance(node, yaml.ScalarNode):
        return _scalar(node)
    mark = node.start_mark
    pos = Pos(mark.line + 1, mark.column + 1)
    depth += 1
    if isinstance(node, yaml.MappingNode):
        entries = []
        for k, v in node.value:
            if depth <= 200 and isinstance(k, yaml.ScalarNode):
                key = _scalar(k)
            else:
                key = _convert(k, file, depth, budget)
            if not isinstance(key, Scalar):
                raise YamlSyntaxError(
                    [
                        Diagnostic(
                            file,
                            *_lc(k),
                            "VF102",
                            "a mapping key must be a plain word",
                            "write key: value",
                        )
                    ]
                )
            entries.append((key, _convert(v, file, depth, budget)))
        return Map(entries, pos)
    return Seq([_convert(v, file, depth, budget) for v in node.value], pos)


def _lc(node: yaml.Node) -> tuple[int, int]:
    p = _pos(node)
    return p.line, p.col


def _scalar(node: yaml.ScalarNode) -> Scalar:
    mark = node.start_mark
    pos = Pos(mark.line + 1, mark.column + 1)
    raw = node.value
    style = node.style
    if not style:
        tag = _TAGS.get(node.tag, "str")
        if tag == "str":
            return Scalar(raw, raw, "str", pos, pos, False)
        if tag == "int":
            try:
                return ast.number(int(raw.replace("_", ""), 0), raw, pos)
            except ValueError:
                pass
        elif tag == "float":
            try:
                return ast.number(float(raw.replace("_", "")), raw, pos)
            except ValueError:
                pass
        elif tag == "bool":
            # ``raw`` stays as written: ``on:`` is a key named "on", not the boolean true.
            return Scalar(raw.lower() in ("true", "yes", "on", "y"), raw, "bool", pos, pos)
        else:  # null
            return ast.null(pos)
        return Scalar(raw, raw, "str", pos, pos, False)
    quoted = style in ("'", '"')
    if quoted:
        text_pos = Pos(pos.line, pos.col + 1)
    elif style in ("|", ">"):
        text_pos = Pos(pos.line + 1, pos.col)
    else:
        text_pos = pos
    return Scalar(raw, raw, "str", pos, text_pos, quoted)
