from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from dsl.expr import (
    Binary,
    ExprRuntimeError,
    ExprSyntaxError,
    Literal,
    Name,
    canonical,
    check_expr,
    compile_expr,
    names,
    parse_expr,
)
from dsl.types import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DURATION,
    FLOAT,
    INT,
    MONEY,
    STR,
    EnumType,
    ListType,
    RecordType,
    Scope,
)

# --- parsing ---------------------------------------------------------------------------------


def test_parse_builds_a_tree_that_respects_precedence():
    node = parse_expr("a or b and not c == 1 + 2 * 3")
    assert canonical(node) == "a or b and not c == 1 + 2 * 3"
    assert isinstance(node, Binary) and node.op == "or"
    assert node.right.op == "and"
    assert node.right.right.operand.right.right.op == "*"


@pytest.mark.parametrize(
    ("src", "value", "kind"),
    [
        ("'it\\'s'", "it's", "str"),
        ('"two\\nlines"', "two\nlines", "str"),
        ("42", 42, "int"),
        ("2.50", 2.5, "float"),
        ("true", True, "bool"),
        ("null", None, "null"),
        ("500ms", timedelta(milliseconds=500), "duration"),
        ("1h30m", timedelta(minutes=90), "duration"),
        ("1d", timedelta(days=1), "duration"),
        ("2026-11-22", date(2026, 11, 22), "date"),
        ("9:30", time(9, 30), "time"),
        ("2026-11-22T09:30", datetime(2026, 11, 22, 9, 30), "datetime"),
    ],
)
def test_parse_reads_every_literal_kind(src, value, kind):
    assert parse_expr(src) == Literal(value, kind)


def test_keywords_do_not_swallow_names_that_start_with_them():
    assert parse_expr("android or notes") == Binary("or", Name(("android",)), Name(("notes",)))


def test_positions_are_offset_to_where_the_expression_sits_in_the_file():
    node = parse_expr("x > 1 and contact.age < 3", file="a.flow", line=7, col=12)
    assert names(node) == [("x", 7, 12), ("contact.age", 7, 22)]
    multi = parse_expr("x > 1 and\n  contact.age < 3", line=7, col=12)
    assert names(multi) == [("x", 7, 12), ("contact.age", 8, 3)]


@pytest.mark.parametrize(
    ("src", "code", "col"),
    [
        ("a ==", "VF110", 16),
        ("a b", "VF110", 14),
        ("a @ b", "VF110", 14),
        ("1 < 2 < 3", "VF110", 18),
        ("", "VF110", 12),
        ("name matches '(unclosed'", "VF110", 25),
        ("wait > 15min", "VF111", 19),
        ("wait > 1.0005s", "VF111", 19),
        ("day == 2026-02-30", "VF112", 19),
        ("at == 24:00", "VF112", 18),
        ("at == 2026-11-22T25:00", "VF112", 18),
    ],
)
def test_syntax_errors_report_code_line_and_column(src, code, col):
    with pytest.raises(ExprSyntaxError) as info:
        parse_expr(src, file="a.flow", line=4, col=12)
    d = info.value.diagnostic
    assert (d.file, d.line, d.col, d.code) == ("a.flow", 4, col, code)
    assert d.hint


def test_syntax_error_on_a_later_line_uses_that_lines_column():
    with pytest.raises(ExprSyntaxError) as info:
        parse_expr("a and\n  b c", line=4, col=12)
    assert (info.value.diagnostic.line, info.value.diagnostic.col) == (5, 5)


def test_syntax_error_hint_lists_expected_tokens():
    with pytest.raises(ExprSyntaxError) as info:
        parse_expr("contact.age >")
    assert "a number" in info.value.diagnostic.hint
    assert "a name" in info.value.diagnostic.hint


def test_too_deep_nesting_is_a_syntax_error_not_a_crash():
    with pytest.raises(ExprSyntaxError) as info:
        parse_expr("-" * 500 + "1")
    assert info.value.diagnostic.code == "VF110"


def test_canonical_normalises_spacing_quoting_and_parentheses():
    assert canonical(parse_expr('(a)==  "x"  and ((b))')) == "a == 'x' and b"
    assert canonical(parse_expr("(a or b) and c")) == "(a or b) and c"
    assert canonical(parse_expr("a - (b - c)")) == "a - (b - c)"
    assert canonical(parse_expr("(a - b) - c")) == "a - b - c"
    assert canonical(parse_expr("not (a == b)")) == "not a == b"
    assert canonical(parse_expr("x not  in [1,2,]")) == "x not in [1, 2]"
    assert canonical(parse_expr("t > 90m")) == "t > 1h30m"
    assert canonical(parse_expr("(1 < 2) == true")) == "(1 < 2) == true"


# --- type checking ---------------------------------------------------------------------------

SCOPE = Scope(
    {
        "contact": RecordType(
            (
                ("first_name", STR),
                ("age", INT),
                ("city", STR),
                ("balance", MONEY),
                ("appointment_at", DATETIME),
                ("status", EnumType(("new", "confirmed"))),
                ("tags", ListType(STR)),
            )
        ),
        "vars.tries": INT,
        "vars.done": BOOL,
        "lookup": ANY,
    }
)


def check(src: str, expect=BOOL, scope=SCOPE):
    return check_expr(
        parse_expr(src, file="a.flow", line=3, col=9), scope, file="a.flow", expect=expect
    )


def codes(src: str, expect=BOOL):
    return [(d.code, d.line, d.col) for d in check(src, expect)[1]]


def test_a_well_typed_condition_has_no_diagnostics():
    src = "contact.age >= 18 and vars.tries < 3 and contact.city in ['Paris', 'Lyon']"
    assert check(src) == (BOOL, [])


@pytest.mark.parametrize(
    ("src", "t"),
    [
        ("contact.age + 1", INT),
        ("contact.age / 2", FLOAT),
        ("contact.balance * 2", MONEY),
        ("contact.appointment_at + 15m", DATETIME),
        ("contact.appointment_at - now()", DURATION),
        ("today() - 1d", DATE),
        ("upper(contact.first_name) + '!'", STR),
        ("[1, 2.5]", ListType(FLOAT)),
        ("lookup.whatever.deep", ANY),
        ("max(contact.age, 3)", INT),
        ("min(contact.tags)", STR),
    ],
)
def test_check_infers_result_types(src, t):
    assert check(src, expect=None) == (t, [])


def test_undefined_name_is_vf301_with_the_closest_name_as_hint():
    (d,) = check("contact.frist_name == 'Ann'")[1]
    assert (d.code, d.line, d.col) == ("VF301", 3, 9)
    assert "contact.first_name" in d.hint


def test_every_undefined_name_is_reported_at_once():
    assert codes("contact.x == 1 and vars.y > 2 or z") == [
        ("VF301", 3, 9),
        ("VF301", 3, 28),
        ("VF301", 3, 42),
    ]


@pytest.mark.parametrize(
    ("src", "col"),
    [
        ("contact.age == 'x'", 9),
        ("contact.age > contact.first_name", 9),
        ("contact.first_name", 9),
        ("contact.age + 1", 9),
        ("vars.done and contact.age", 23),
        ("not contact.age", 13),
        ("contact.city + 1 == 'x'", 9),
        ("contact.status == 'confrimed'", 27),
        ("contact.age in ['a', 'b']", 9),
        ("contact.age matches '\\d'", 9),
        ("upper(contact.age) == 'x'", 9),
        ("[1, 'a'] contains 1", 13),
        ("contact.appointment_at > contact.age", 9),
        ("-contact.first_name == 'x'", 9),
    ],
)
def test_type_errors_are_vf303_at_the_offending_node(src, col):
    assert codes(src) == [("VF303", 3, col)]


@pytest.mark.parametrize(
    ("src", "col"),
    [("frobnicate(contact.age) == 1", 9), ("len() == 0", 9), ("vars.done or len(1, 2) > 0", 22)],
)
def test_unknown_function_or_wrong_arity_is_vf304(src, col):
    assert codes(src) == [("VF304", 3, col)]


def test_unknown_function_hint_names_the_closest_function():
    (d,) = check("lenght(contact.first_name) > 0")[1]
    assert "len()" in d.hint


def test_an_error_inside_a_subexpression_is_reported_once():
    assert codes("contact.nope + 1 > 2 and contact.nope2 == 'x'") == [
        ("VF301", 3, 9),
        ("VF301", 3, 34),
    ]


# --- evaluation ------------------------------------------------------------------------------

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
ENV = {
    "contact": {
        "first_name": "Ann",
        "age": 20,
        "city": "Paris",
        "balance": Decimal("12.50"),
        "appointment_at": datetime(2026, 11, 24, 15, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "tags": ["vip", "new"],
        "zip": None,
    },
    "vars": {"tries": 1, "done": False},
    "slots": {},
    "value": "4172",
    "now": NOW,
}


@pytest.mark.parametrize(
    ("src", "expected"),
    [
        ("contact.age >= 18 and vars.tries < 3 and contact.city in ['Paris', 'Lyon']", True),
        ("contact.city not in ['Paris', 'Lyon']", False),
        ("contact.tags contains 'vip'", True),
        ("'ar' in contact.city", True),
        ("value matches '^\\d{4}$'", True),
        ("value matches '^\\d{5}$'", False),
        ("contact.first_name == 'Ann' or 1 / 0 == 1", True),
        ("vars.done and 1 / 0 == 1", False),
        ("not vars.done", True),
        ("contact.zip == null", True),
        ("contact.missing == null", True),
        ("slots.date.day == null", True),
        ("1 == true", False),
        ("contact.balance == 12.5", True),
        ("contact.balance + 0.25 == 12.75", True),
        ("7 % 3", 1),
        ("7 / 2", 3.5),
        ("-contact.age", -20),
        ("'a' + 'b'", "ab"),
        ("[1] + [2]", [1, 2]),
        ("contact.appointment_at - now() > 2d", True),
        ("now() + 30m", NOW + timedelta(minutes=30)),
        ("2026-11-22T09:30 > now()", True),
        ("today()", date(2026, 11, 22)),
        ("weekday(contact.appointment_at)", "tue"),
        ("hour_of(contact.appointment_at)", 15),
        ("date_of(contact.appointment_at) == 2026-11-24", True),
        ("len(contact.tags)", 2),
        ("trim('  x ') + lower('Y') + upper('z')", "xyZ"),
        ("digits_only('41-72 a')", "4172"),
        ("starts_with(value, '41') and ends_with(value, '72')", True),
        ("round(2.567, 2)", 2.57),
        ("round(2.5)", 2),
        ("int('42') + int(2.9)", 44),
        ("float('2.5')", 2.5),
        ("str(15m) + str(true) + str(null)", "15mtruenull"),
        ("min(3, 1, 2) + max([4, 9])", 10),
        ("abs(-2)", 2),
        ("coalesce(contact.zip, 'none')", "none"),
        ("time_of(now()) == 9:00", True),
    ],
)
def test_evaluation_semantics(src, expected):
    assert compile_expr(src)(ENV) == expected


@pytest.mark.parametrize(
    "src",
    [
        "1 / 0",
        "contact.zip > 3",
        "contact.age and true",
        "not contact.first_name",
        "'ab' * 1000000000",
        "[1] * 3",
        "contact.first_name.x == 1",
        "contact.age matches 'x'",
        "contact.age in 5",
        "1 in 'abc'",
        "int('forty')",
        "min([])",
        "len(contact.age)",
        "true + 1",
        "contact.zip + 1",
        "today() + now()",
        "upper(contact.age)",
        "weekday(contact.age)",
        "-contact.first_name",
        "contact.first_name matches value + '('",
    ],
)
def test_runtime_problems_raise_expr_runtime_error_only(src):
    with pytest.raises(ExprRuntimeError):
        compile_expr(src)(ENV)


def test_now_without_an_aware_datetime_in_the_environment_is_a_runtime_error():
    with pytest.raises(ExprRuntimeError, match="now"):
        compile_expr("now() > 2026-01-01T00:00")({"now": datetime(2026, 1, 1)})


def test_datetime_literals_are_read_in_the_zone_of_now():
    at = compile_expr("2026-11-22T09:30")(ENV)
    assert at.tzinfo == NOW.tzinfo and at.hour == 9


def test_compile_is_cached_by_text():
    assert compile_expr("vars.tries + 1") is compile_expr("vars.tries + 1")


def test_compile_rejects_unknown_functions_before_running():
    with pytest.raises(ExprSyntaxError) as info:
        compile_expr("nope(1)")
    assert info.value.diagnostic.code == "VF304"


def test_names_lists_dotted_names_in_source_order():
    node = parse_expr("len(contact.tags) > vars.tries or value in contact.tags")
    assert [n for n, _, _ in names(node)] == ["contact.tags", "vars.tries", "value", "contact.tags"]


def test_the_same_text_parsed_at_two_places_reports_each_place():
    first = parse_expr("contact.age > 1", line=2, col=5)
    second = parse_expr("contact.age > 1", line=9, col=1)
    assert first == second
    assert names(first) == [("contact.age", 2, 5)]
    assert names(second) == [("contact.age", 9, 1)]
    for line, col in [(2, 5), (9, 1)]:
        with pytest.raises(ExprSyntaxError) as info:
            parse_expr("a >", line=line, col=col)
        assert (info.value.diagnostic.line, info.value.diagnostic.col) == (line, col + 3)


@pytest.mark.parametrize("env", [None, 42, {"contact": 5}, {"contact": {"age": object()}}])
def test_an_environment_of_the_wrong_shape_is_a_runtime_error(env):
    with pytest.raises(ExprRuntimeError):
        compile_expr("contact.age > 1")(env)
