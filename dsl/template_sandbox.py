"""The template sandbox: Jinja2's immutable sandbox with every operation bounded.

``BoundedSandbox`` adds to ``ImmutableSandboxedEnvironment`` (no internals, no mutation):

- every ``for`` loop's iterable and every operand of ``~`` pass through a hook that charges
  the render's ``dsl.bounds.Budget`` per step and measures the text (the tree is rewritten
  when a template is parsed);
- ``recursive`` loops are refused (their inner calls would escape the step count);
- every call, filter and arithmetic operator is charged, checked before it runs where it could
  multiply its input (``center``, ``ljust``, ``*``, ``replace``, ``join``, ``batch``, format
  widths), and its result's size checked after;
- ``range`` is ``dsl.bounds.bounded_range``;
- the text of a block (``set`` block, macro, call block) is measured before it is joined.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dsl import bounds
from dsl.bounds import MAX_EXPONENT, MAX_INT_BITS, MAX_TEXT, BoundExceeded

STEPS_FILTER = "_vf_steps"
SIZED_FILTER = "_vf_sized"

_WIDTH_METHODS = frozenset({"center", "ljust", "rjust", "zfill"})
_STRINGIFYING_FILTERS = frozenset({"string", "tojson", "pprint", "list", "urlencode", "xmlattr"})
_PCT_WIDTH = re.compile(r"%[-+ #0]*(\d*)(?:\.(\d*))?")
_BRACE_WIDTH = re.compile(r"\{[^{}:]*:[^{}\d]*(\d*)(?:\.(\d*))?")
_NESTED_SPEC = re.compile(r"\{[^{}]*:[^{}]*\{")


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(finalize=_finalize, **options)
        self.globals["range"] = bounds.bounded_range
        # What joins a block's output: ``{% set x %}...{% endset %}``, macros, call blocks.
        self.concat = _bounded_concat  # type: ignore[method-assign]

    def bound_filters(self) -> None:
        """Wrap every filter registered so far (call after adding the voice filters)."""
        for name, fn in list(self.filters.items()):
            self.filters[name] = _bounded_filter(name, fn)
        self.filters[STEPS_FILTER] = _steps
        self.filters[SIZED_FILTER] = _sized

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            if loop.recursive:
                raise TemplateSyntaxError(
                    "recursive loops are not allowed in flow templates", loop.lineno, name
                )
            loop.iter = _wrap(loop.iter, STEPS_FILTER)
        for concat in tree.find_all(nodes.Concat):
            concat.nodes = [_wrap(n, SIZED_FILTER) for n in concat.nodes]
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        bounds.charge()
        if operator == "**":
            if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
                raise BoundExceeded(f"exponent {right} is larger than {MAX_EXPONENT}")
            if isinstance(left, int) and isinstance(right, int) and right > 0:
                if left.bit_length() * right > MAX_INT_BITS + right:
                    raise BoundExceeded(f"a number larger than 2**{MAX_INT_BITS} was computed")
        elif operator == "*":
            seq, times = (left, right) if _is_sequence(left) else (right, left)
            if _is_sequence(seq) and isinstance(times, int):
                bounds.check_width(bounds.size_of(seq), times, "repetition")
        elif operator == "%" and isinstance(left, str):
            _check_format(left, right)
        return bounds.check_size(super().call_binop(context, operator, left, right), "result")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        bounds.charge()
        _check_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        return bounds.check_size(result, "result")


def _wrap(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


def _is_sequence(v: Any) -> bool:
    return isinstance(v, str | list | tuple)


def _finalize(value: Any) -> Any:
    bounds.check_size(value, "output")
    bounds.produce(len(value) if isinstance(value, str) else bounds.size_of(value))
    return value


def _steps(iterable: Iterable[Any]) -> Iterator[Any]:
    for item in iterable:
        bounds.charge()
        yield item


def _bounded_concat(pieces: Iterable[str]) -> str:
    """``"".join`` refusing, before joining, more than ``MAX_OUTPUT`` characters."""
    out, length = [], 0
    for piece in pieces:
        length += len(piece)
        if length > bounds.MAX_OUTPUT:
            raise BoundExceeded(f"a block renders more than {bounds.MAX_OUTPUT} characters")
        out.append(piece)
    return "".join(out)


def _sized(value: Any) -> Any:
    return bounds.check_size(value, "text")


def _check_format(fmt: str, args: Any) -> None:
    """``'%*d' % (n, x)``, ``'%100000000d'``, ``'{:>{}}'.format(x, n)``: widths that build text."""
    for widths in _PCT_WIDTH.findall(fmt) + _BRACE_WIDTH.findall(fmt):
        for number in widths:
            if len(number) > 5:
                bounds.check_width(int(number), what="formatted text")
    if ("%" in fmt and "*" in fmt) or _NESTED_SPEC.search(fmt):
        if isinstance(args, dict):
            values = list(args.values())
        elif isinstance(args, tuple | list):
            values = list(args)
        else:
            values = [args]
        for v in values:
            bounds.check_width(v, what="formatted text")


def _replaced_length(text: str, old: Any, new: Any, count: Any = -1) -> int:
    if not isinstance(old, str) or not isinstance(new, str):
        return len(text)
    n = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        n = min(n, count)
    return len(text) + n * len(new)


def _check_method(obj: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Refuse a ``str`` method call whose result would exceed ``MAX_TEXT``, before it runs."""
    # ``str.format`` reaches templates wrapped by the sandbox (``wrap_str_format``).
    owner = getattr(getattr(obj, "__wrapped__", obj), "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(obj, "__name__", "")
    if name in _WIDTH_METHODS:
        bounds.check_width(args[0] if args else kwargs.get("width"))
    elif name == "expandtabs":
        bounds.check_width(args[0] if args else kwargs.get("tabsize", 8), owner.count("\t") + 1)
    elif name == "replace" and len(args) >= 2:
        bounds.check_width(_replaced_length(owner, *args[:3]), what="replaced text")
    elif name == "join" and args:
        items = args[0]
        if isinstance(items, list | tuple):
            bounds.check_width(bounds.size_of(items) + len(owner) * len(items), what="joined text")
    elif name in ("format", "format_map"):
        _check_format(owner, list(args) + list(kwargs.values()))
    elif name == "translate" and args and isinstance(args[0], dict):
        longest = max((bounds.size_of(v) for v in args[0].values()), default=1)
        bounds.check_width(len(owner) * longest, what="translated text")


def _check_filter(name: str, value: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    if name == "center":
        bounds.check_width(args[0] if args else kwargs.get("width", 80))
    elif name == "indent":
        width = args[0] if args else kwargs.get("width", 4)
        lines = value.count("\n") + 1 if isinstance(value, str) else 1
        bounds.check_width(len(width) if isinstance(width, str) else width, lines, "indented text")
    elif name in ("batch", "slice"):
        bounds.check_width(args[0] if args else kwargs.get("linecount", kwargs.get("slices")))
    elif name == "format" and isinstance(value, str):
        _check_format(value, list(args) + list(kwargs.values()))
    elif name == "replace" and isinstance(value, str) and len(args) >= 2:
        bounds.check_width(_replaced_length(value, *args[:3]), what="replaced text")
    elif name == "join" and isinstance(value, list | tuple):
        sep = args[0] if args and isinstance(args[0], str) else ""
        bounds.check_width(bounds.size_of(value) + len(sep) * len(value), what="joined text")
    elif name in _STRINGIFYING_FILTERS:
        bounds.check_size(value, "text")


def _bounded_filter(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` charged one step (plus one per item of a list it is given) and size-checked."""
    passes = getattr(fn, "jinja_pass_arg", None) is not None

    @functools.wraps(fn)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        value, rest = (args[1], args[2:]) if passes else (args[0], args[1:])
        bounds.charge(1 + (len(value) if isinstance(value, list | tuple | dict) else 0))
        _check_filter(name, value, rest, kwargs)
        return bounds.check_size(fn(*args, **kwargs), "result")

    return bounded


def static_excess(tree: nodes.Template) -> list[tuple[nodes.Node, str, str]]:
    """Bounds a template exceeds whatever the values: ``(node, text at it, message)``.

    Only what constants decide is found here (``range(10**6)``, ``'x'.center(10**9)``, loops
    nested over constant ranges); the rest is refused when rendered.
    """
    found: list[tuple[nodes.Node, str, str]] = []
    for node in tree.find_all(nodes.Const):
        if isinstance(node.value, int) and node.value.bit_length() > MAX_INT_BITS:
            found.append((node, str(node.value), f"the number is larger than 2**{MAX_INT_BITS}"))
    for node in tree.find_all(nodes.Pow):
        right = _const(node.right)
        if isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            found.append((node, "**", f"exponent {right} is larger than {MAX_EXPONENT}"))
    for node in tree.find_all(nodes.Mul):
        left, right = _const(node.left), _const(node.right)
        seq, times = (left, right) if _is_sequence(left) else (right, left)
        if _is_sequence(seq) and isinstance(times, int) and len(seq) * times > MAX_TEXT:
            found.append((node, "*", f"the repetition builds more than {MAX_TEXT} characters"))
    for node in tree.find_all(nodes.Call):
        if isinstance(node.node, nodes.Name) and node.node.name == "range":
            size = _range_size(node)
            if size is not None and size > bounds.MAX_RANGE:
                found.append(
                    (node, "range", f"range() of {size} items; at most {bounds.MAX_RANGE}")
                )
        elif isinstance(node.node, nodes.Getattr) and node.node.attr in _WIDTH_METHODS:
            width = _const(node.args[0]) if node.args else None
            if isinstance(width, int) and width > MAX_TEXT:
                found.append(
                    (
                        node,
                        "." + node.node.attr,
                        f"{node.node.attr}({width}) builds more than {MAX_TEXT} characters",
                    )
                )
    for node in tree.find_all(nodes.Filter):
        if node.name in ("center", "indent", "batch", "slice") and node.args:
            width = _const(node.args[0])
            if isinstance(width, int) and width > MAX_TEXT:
                found.append(
                    (node, node.name, f"{node.name}({width}) builds more than {MAX_TEXT} items")
                )
    for loop in _outermost_loops(tree.body):
        steps = _loop_steps(loop)
        if steps > bounds.MAX_STEPS:
            found.append(
                (loop, "for", f"these nested loops take {steps} steps; at most {bounds.MAX_STEPS}")
            )
    return found


def _outermost_loops(body: list[nodes.Node]) -> list[nodes.For]:
    loops: list[nodes.For] = []
    for child in body:
        if isinstance(child, nodes.For):
            loops.append(child)
        else:
            loops.extend(_outermost_loops(list(child.iter_child_nodes())))
    return loops


def _loop_steps(loop: nodes.For) -> int:
    """Most steps of ``loop`` and the loops inside it, counting constant ranges only."""
    inner = max((_loop_steps(i) for i in _outermost_loops(loop.body)), default=1)
    return (_loop_size(loop) or 1) * inner


def _loop_size(loop: nodes.For) -> int | None:
    it = loop.iter
    if isinstance(it, nodes.Filter) and it.name == STEPS_FILTER:
        it = it.node
    if isinstance(it, nodes.Call) and isinstance(it.node, nodes.Name) and it.node.name == "range":
        return _range_size(it)
    return None


def _range_size(call: nodes.Call) -> int | None:
    args = [_const(a) for a in call.args]
    if call.kwargs or not args or not all(isinstance(a, int) for a in args) or len(args) > 3:
        return None
    try:
        return len(range(*args))
    except (ValueError, OverflowError):
        return None


def _const(node: nodes.Node) -> Any:
    """The value of a constant integer or text expression (``10**9``, ``'x'``), else ``None``."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg):
        v = _const(node.node)
        return -v if isinstance(v, int) else None
    if isinstance(node, nodes.Pow | nodes.Mul | nodes.Add):
        left, right = _const(node.left), _const(node.right)
        if not (isinstance(left, int) and isinstance(right, int)):
            return None
        if isinstance(node, nodes.Pow):
            if right < 0 or right > MAX_EXPONENT or left.bit_length() * right > 4 * MAX_INT_BITS:
                return None
            return left**right
        return left * right if isinstance(node, nodes.Mul) else left + right
    return None
