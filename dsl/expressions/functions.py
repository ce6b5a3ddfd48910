"""The built-in functions of the expression language: typing rule and implementation.

All are pure; ``now()`` and ``today()`` read ``now`` from the environment (no clock access),
so a condition gives the same answer when a workflow replays.

| function | arguments | result |
| --- | --- | --- |
| ``len(x)`` | text or list | int |
| ``lower(s)``, ``upper(s)``, ``trim(s)`` | text | str |
| ``abs(x)`` | number or duration | same |
| ``min(a, b, ...)``, ``max(a, b, ...)`` | values of one kind, or one list | that kind |
| ``round(x)``, ``round(x, n)`` | number[, int] | int, or the number's type with ``n`` |
| ``int(x)``, ``float(x)``, ``str(x)`` | a value | int, float, str |
| ``digits_only(s)`` | text | digits |
| ``starts_with(s, p)``, ``ends_with(s, p)`` | text, text | bool |
| ``weekday(d)`` | date or datetime | ``mon`` … ``sun`` |
| ``date_of(dt)`` | datetime | date |
| ``time_of(dt)`` | datetime | time |
| ``hour_of(t)``, ``minute_of(t)`` | datetime or time | int |
| ``now()``, ``today()`` | — | datetime, date |
| ``coalesce(a, b, ...)`` | values of one kind | the first that is not null |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from dsl.expressions.nodes import duration_text, literal_text
from dsl.types import (
    ANY,
    BOOL,
    DATE,
    DATETIME,
    DIGITS,
    DURATION,
    FLOAT,
    INT,
    MONEY,
    NULL,
    NUMERIC,
    STR,
    TIME,
    ListType,
    VoxType,
    compatible,
    is_stringlike,
)


class ExprRuntimeError(Exception):
    """An expression could not be evaluated with the values it was given."""


class ArgTypeError(Exception):
    """A function was given an argument of the wrong type (compile time)."""


@dataclass(frozen=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    """``None``: any number."""
    result: Callable[[list[VoxType]], VoxType]
    """Result type from argument types; raises ``ArgTypeError``."""
    impl: Callable[..., Any]
    needs_env: bool = False

    def arity(self) -> str:
        if self.max_args is None:
            return f"at least {self.min_args} argument(s)"
        if self.min_args == self.max_args:
            return f"{self.min_args} argument(s)"
        return f"{self.min_args} to {self.max_args} arguments"


# --- typing helpers --------------------------------------------------------------------------


def _is(t: VoxType, *kinds: str) -> bool:
    return t == ANY or t == NULL or t.kind in kinds


def _need(t: VoxType, ok: bool, what: str, pos: int) -> None:
    if not (ok or t == ANY):
        raise ArgTypeError(f"argument {pos} must be {what}, got {t}")


def _text_arg(args: list[VoxType], pos: int = 0) -> None:
    _need(args[pos], is_stringlike(args[pos]) or args[pos] == NULL, "text", pos + 1)


def _widen(types: list[VoxType]) -> VoxType:
    known = [t for t in types if t not in (ANY, NULL)]
    if not known:
        return ANY
    first = known[0]
    for t in known[1:]:
        if not compatible(first, t):
            raise ArgTypeError(f"arguments mix {first} and {t}")
    if all(t in NUMERIC for t in known):
        if MONEY in known:
            return MONEY
        return FLOAT if FLOAT in known else INT
    if all(is_stringlike(t) for t in known) and len(set(known)) > 1:
        return STR
    return first


def _t_len(a):
    _need(a[0], is_stringlike(a[0]) or isinstance(a[0], ListType), "text or a list", 1)
    return INT


def _t_text(a):
    _text_arg(a)
    return STR


def _t_abs(a):
    _need(a[0], a[0] in NUMERIC or a[0] == DURATION, "a number or a duration", 1)
    return a[0]


def _t_minmax(a):
    if len(a) == 1:
        _need(a[0], isinstance(a[0], ListType), "a list (or give two or more values)", 1)
        return a[0].item if isinstance(a[0], ListType) else ANY
    return _widen(a)


def _t_round(a):
    _need(a[0], a[0] in NUMERIC, "a number", 1)
    if len(a) == 2:
        _need(a[1], a[1] == INT, "an int (digits after the point)", 2)
        return FLOAT if a[0] == INT else a[0]
    return INT


def _t_int(a):
    ok = a[0] in NUMERIC or is_stringlike(a[0]) or a[0] == BOOL
    _need(a[0], ok, "a number, text or bool", 1)
    return INT


def _t_float(a):
    _need(a[0], a[0] in NUMERIC or is_stringlike(a[0]), "a number or text", 1)
    return FLOAT


def _t_affix(a):
    _text_arg(a, 0)
    _text_arg(a, 1)
    return BOOL


def _t_digits_only(a):
    _text_arg(a)
    return DIGITS


def _t_weekday(a):
    _need(a[0], _is(a[0], "date", "datetime"), "a date or datetime", 1)
    return STR


def _t_of_datetime(result):
    def check(a):
        _need(a[0], _is(a[0], "datetime"), "a datetime", 1)
        return result

    return check


def _t_clock_part(a):
    _need(a[0], _is(a[0], "datetime", "time"), "a datetime or time", 1)
    return INT


# --- implementations -------------------------------------------------------------------------


def _text(fn_name: str, v: Any) -> str:
    if not isinstance(v, str):
        raise ExprRuntimeError(f"{fn_name}() needs text, got {_kind(v)}")
    return v


def _kind(v: Any) -> str:
    """A value's type as the flow language names it (for error messages)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if isinstance(v, Decimal):
        return "money"
    if isinstance(v, str):
        return "str"
    if isinstance(v, datetime):
        return "datetime"
    if isinstance(v, date):
        return "date"
    if isinstance(v, time):
        return "time"
    if isinstance(v, timedelta):
        return "duration"
    if isinstance(v, list | tuple):
        return "list"
    if isinstance(v, Mapping):
        return "record"
    return type(v).__name__


def _len(v):
    if isinstance(v, str | list | tuple):
        return len(v)
    raise ExprRuntimeError(f"len() needs text or a list, got {_kind(v)}")


def _abs(v):
    if isinstance(v, int | float | Decimal | timedelta) and not isinstance(v, bool):
        return abs(v)
    raise ExprRuntimeError(f"abs() needs a number or a duration, got {_kind(v)}")


def _minmax(name: str, pick):
    def impl(*args):
        values = args[0] if len(args) == 1 else args
        if not isinstance(values, list | tuple):
            raise ExprRuntimeError(f"{name}() of one value needs a list, got {_kind(values)}")
        if not values:
            raise ExprRuntimeError(f"{name}() of an empty list")
        try:
            return pick(values)
        except TypeError:
            kinds = ", ".join(sorted({_kind(v) for v in values}))
            raise ExprRuntimeError(f"{name}() cannot order values of types {kinds}") from None

    return impl


def _round(v, digits=None):
    if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
        raise ExprRuntimeError(f"round() needs a number, got {_kind(v)}")
    if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int)):
        raise ExprRuntimeError(f"round() digits must be an int, got {_kind(digits)}")
    if digits is None:
        return round(v)
    if isinstance(v, int):
        return float(round(v, digits))
    return round(v, digits)


def _int(v):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    try:
        if isinstance(v, float | Decimal):
            return int(v)
        if isinstance(v, str):
            s = v.strip()
            return int(float(s)) if "." in s else int(s)
    except (ValueError, OverflowError):
        raise ExprRuntimeError(f"int() cannot read {v!r} as a whole number") from None
    raise ExprRuntimeError(f"int() cannot convert {_kind(v)}")


def _float(v):
    if isinstance(v, int | float | Decimal) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            raise ExprRuntimeError(f"float() cannot read {v!r} as a number") from None
    raise ExprRuntimeError(f"float() cannot convert {_kind(v)}")


def to_text(v: Any) -> str:
    """A value as the flow language writes it (``true``, ``15m``, ``2026-11-22``)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, timedelta):
        return duration_text(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, time):
        return literal_text(v, "time")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _digits_only(v):
    return "".join(c for c in _text("digits_only", v) if c in "0123456789")


def _starts_with(s, p):
    return _text("starts_with", s).startswith(_text("starts_with", p))


def _ends_with(s, p):
    return _text("ends_with", s).endswith(_text("ends_with", p))


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday(v):
    if isinstance(v, date):
        return _DAYS[v.weekday()]
    raise ExprRuntimeError(f"weekday() needs a date or datetime, got {_kind(v)}")


def _date_of(v):
    if isinstance(v, datetime):
        return v.date()
    raise ExprRuntimeError(f"date_of() needs a datetime, got {_kind(v)}")


def _time_of(v):
    if isinstance(v, datetime):
        return v.time()
    raise ExprRuntimeError(f"time_of() needs a datetime, got {_kind(v)}")


def _clock_part(name: str, attr: str):
    def impl(v):
        if isinstance(v, datetime | time):
            return getattr(v, attr)
        raise ExprRuntimeError(f"{name}() needs a datetime or time, got {_kind(v)}")

    return impl


def env_now(env: Mapping[str, Any]) -> datetime:
    """The ``now`` of the environment: an aware datetime (the contact's local time)."""
    now = env.get("now")
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise ExprRuntimeError(
            "now is not set: the environment must give 'now' as an aware datetime"
        )
    return now


def _today(env):
    return env_now(env).date()


def _coalesce(*args):
    for a in args:
        if a is not None:
            return a
    return None


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("len", 1, 1, _t_len, _len),
        Function("lower", 1, 1, _t_text, lambda s: _text("lower", s).lower()),
        Function("upper", 1, 1, _t_text, lambda s: _text("upper", s).upper()),
        Function("trim", 1, 1, _t_text, lambda s: _text("trim", s).strip()),
        Function("abs", 1, 1, _t_abs, _abs),
        Function("min", 1, None, _t_minmax, _minmax("min", min)),
        Function("max", 1, None, _t_minmax, _minmax("max", max)),
        Function("round", 1, 2, _t_round, _round),
        Function("int", 1, 1, _t_int, _int),
        Function("float", 1, 1, _t_float, _float),
        Function("str", 1, 1, lambda a: STR, to_text),
        Function("digits_only", 1, 1, _t_digits_only, _digits_only),
        Function("starts_with", 2, 2, _t_affix, _starts_with),
        Function("ends_with", 2, 2, _t_affix, _ends_with),
        Function("weekday", 1, 1, _t_weekday, _weekday),
        Function("date_of", 1, 1, _t_of_datetime(DATE), _date_of),
        Function("time_of", 1, 1, _t_of_datetime(TIME), _time_of),
        Function("hour_of", 1, 1, _t_clock_part, _clock_part("hour_of", "hour")),
        Function("minute_of", 1, 1, _t_clock_part, _clock_part("minute_of", "minute")),
        Function("now", 0, 0, lambda a: DATETIME, env_now, needs_env=True),
        Function("today", 0, 0, lambda a: DATE, _today, needs_env=True),
        Function("coalesce", 1, None, _widen, _coalesce),
    )
}
