"""Cost of the expression language: one evaluation of a typical condition, and compile time.

Run: ``.venv/bin/python bench/expr.py``. Prints figures; asserts nothing (timings depend on
the machine and its load).
"""

from __future__ import annotations

import os
import platform
import time
import timeit
from datetime import datetime
from zoneinfo import ZoneInfo

from dsl.expr import check_expr, compile_expr, parse_expr
from dsl.expressions.parser import _parse
from dsl.templates import check_template, render
from dsl.types import BOOL, DATETIME, INT, STR, ListType, RecordType, Scope

CONDITION = "contact.age >= 18 and vars.tries < 3 and contact.city in ['Paris', 'Lyon']"
EXPRESSIONS = [
    CONDITION,
    "value matches '^\\d{4}$' and len(value) == 4",
    "contact.appointment_at - now() > 2h or weekday(today()) in ['sat', 'sun']",
    "upper(trim(contact.city)) == 'PARIS' and not (vars.tries >= 3)",
    "min(contact.scores) + max(contact.scores) > 10 * vars.tries",
]
TEMPLATE = "Hi {{ contact.first_name }}, see you {{ contact.appointment_at | when }}."

SCOPE = Scope(
    {
        "contact": RecordType(
            (
                ("age", INT),
                ("city", STR),
                ("first_name", STR),
                ("appointment_at", DATETIME),
                ("scores", ListType(INT)),
            )
        ),
        "vars.tries": INT,
        "value": STR,
    }
)
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
ENV = {
    "contact": {
        "age": 30,
        "city": "Lyon",
        "first_name": "Ann",
        "appointment_at": datetime(2026, 11, 24, 15, 0, tzinfo=ZoneInfo("Europe/Paris")),
        "scores": [3, 9, 4],
    },
    "vars": {"tries": 1},
    "value": "4172",
    "now": NOW,
}


def per_call(stmt, number: int, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, CPU seconds of this process per call (CPU time, not wall time,
    so that other processes competing for the cores inflate the figure as little as possible)."""
    runs = timeit.repeat(stmt, number=number, repeat=repeat, timer=time.process_time)
    return min(runs) / number


def main() -> None:
    print(
        f"# expression language bench ({platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f})"
    )

    fn = compile_expr(CONDITION)
    assert fn(ENV) is True
    t = per_call(lambda: fn(ENV), number=200_000)
    print(f"evaluate  {CONDITION!r}: {t * 1e6:.2f} µs/eval (target < 5 µs)")

    for src in EXPRESSIONS[1:]:
        f = compile_expr(src)
        f(ENV)
        print(f"evaluate  {src!r}: {per_call(lambda f=f: f(ENV), number=50_000) * 1e6:.2f} µs/eval")

    def parse_uncached(src: str) -> None:
        _parse.cache_clear()  # parse_expr caches by text; measure a text seen for the first time
        parse_expr(src, line=3, col=9)

    def parse_and_check(src: str) -> None:
        node = parse_expr(src, line=3, col=9)
        _, diags = check_expr(node, SCOPE, expect=BOOL)
        assert not diags, diags

    for src in EXPRESSIONS:
        t_parse = per_call(lambda src=src: parse_uncached(src), number=300)
        node = parse_expr(src)
        t_check = per_call(lambda node=node: check_expr(node, SCOPE, expect=BOOL), number=2000)
        t_seen = per_call(lambda src=src: parse_and_check(src), number=2000)
        print(
            f"compile   {len(src):3d} chars: parse {t_parse * 1e6:.0f} µs (new text), "
            f"check {t_check * 1e6:.0f} µs, parse+check of a text seen before "
            f"(other position) {t_seen * 1e6:.0f} µs"
        )

    def compile_uncached() -> None:
        _parse.cache_clear()
        compile_expr.__wrapped__(CONDITION)

    t = per_call(compile_uncached, number=300)
    print(f"compile_expr (parse + closures, nothing cached), typical condition: {t * 1e6:.0f} µs")

    t = per_call(lambda: check_template(TEMPLATE, SCOPE, file="bench"), number=500)
    print(f"template  check: {t * 1e6:.0f} µs/template")
    t = per_call(lambda: render(TEMPLATE, ENV, tz="Europe/Paris"), number=5_000)
    print(f"template  render (cached, with the 'when' filter): {t * 1e6:.1f} µs/render")


if __name__ == "__main__":
    main()
