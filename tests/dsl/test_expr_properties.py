"""Property tests: canonical text round-trips, and no text crashes the parser."""

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl.expr import (
    FUNCTIONS,
    Binary,
    Call,
    ExprRuntimeError,
    ExprSyntaxError,
    ListExpr,
    Literal,
    Name,
    Unary,
    canonical,
    compile_expr,
    parse_expr,
)

KEYWORDS = {"and", "or", "not", "in", "contains", "matches", "true", "false", "null"}
identifiers = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda s: s not in KEYWORDS
)

literals = st.one_of(
    st.text(max_size=8).map(lambda v: Literal(v, "str")),
    st.integers(min_value=0, max_value=10**30).map(lambda v: Literal(v, "int")),
    st.floats(min_value=0, max_value=1e300, allow_nan=False, allow_infinity=False).map(
        lambda v: Literal(v, "float")
    ),
    st.booleans().map(lambda v: Literal(v, "bool")),
    st.just(Literal(None, "null")),
    st.integers(min_value=0, max_value=10**12).map(
        lambda ms: Literal(timedelta(milliseconds=ms), "duration")
    ),
    st.dates(min_value=date(1000, 1, 1)).map(lambda v: Literal(v, "date")),
    st.times().map(lambda v: Literal(v.replace(microsecond=0), "time")),
    st.datetimes(min_value=datetime(1000, 1, 1)).map(
        lambda v: Literal(v.replace(microsecond=0), "datetime")
    ),
)
names_ = st.lists(identifiers, min_size=1, max_size=3).map(lambda p: Name(tuple(p)))
BINARY_OPS = ["or", "and", "==", "!=", "<", "<=", ">", ">=", "in", "not_in", "contains"]
BINARY_OPS += ["matches", "+", "-", "*", "/", "%"]


def _extend(children):
    return st.one_of(
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(Binary, st.sampled_from(BINARY_OPS), children, children),
        st.builds(
            Call,
            st.sampled_from(sorted(FUNCTIONS)),
            st.lists(children, max_size=3).map(tuple),
        ),
        st.lists(children, max_size=3).map(lambda items: ListExpr(tuple(items))),
    )


trees = st.recursive(st.one_of(literals, names_), _extend, max_leaves=12)


@settings(deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_canonical_text_parses_back_to_an_equal_tree(tree):
    text = canonical(tree)
    try:
        parsed = parse_expr(text)
    except ExprSyntaxError as exc:
        # The only canonical text the parser may refuse is an invalid regex literal.
        assert "regular expression" in exc.diagnostic.message, (text, exc.diagnostic)
        return
    assert parsed == tree, text
    assert canonical(parsed) == text


@settings(deadline=None, max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_random_text_never_raises_anything_but_expr_syntax_error(text):
    try:
        parse_expr(text)
    except ExprSyntaxError as exc:
        assert exc.diagnostic.code in {"VF110", "VF111", "VF112"}


ALPHABET = list("abc.()[]'\"0123456789 -+*/%<>=!,:T") + [
    " and ",
    " or ",
    "not ",
    " in ",
    " contains ",
    " matches ",
    "ms",
    "h",
    "d",
    "true",
    "null",
]


@settings(deadline=None, max_examples=1000, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=25).map("".join))
def test_token_soup_never_raises_anything_but_expr_syntax_error(text):
    try:
        parse_expr(text)
    except ExprSyntaxError as exc:
        assert exc.diagnostic.code in {"VF110", "VF111", "VF112"}


ENV_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(10**6), max_value=10**6),
        st.floats(allow_nan=False),
        st.text(max_size=5),
        st.timedeltas(),
        st.dates(),
        st.times(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(identifiers, inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(deadline=None, max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(trees, st.dictionaries(identifiers, ENV_VALUES, max_size=4))
def test_evaluation_never_raises_anything_but_expr_runtime_error(tree, env):
    try:
        fn = compile_expr(canonical(tree))
    except ExprSyntaxError:
        return
    try:
        fn(env)
    except ExprRuntimeError:
        pass
