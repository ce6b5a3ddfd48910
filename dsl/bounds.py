"""Bounds on what one template render or expression evaluation may cost.

Templates run flow authors' code on the worker that bridges live calls, so each render is
bounded in work, time and the size of every value it builds (``DESIGN.md``, invariant 7). A
render holds a ``Budget`` in a context variable; the sandbox's hooks (``dsl.templates``)
charge it for every loop step, call, filter and item of a ``range``, and check the size of
what each operation would build *before* building it where one operation could multiply its
input (``center(10**9)``, ``'x' * n``, ``s.replace(a, s)``), and after otherwise. Exceeding a
bound raises ``BoundExceeded``, which the caller turns into a run-time error for that call.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

MAX_TEXT = 100_000
"""Longest text, and largest list (counting its items' text), one operation may build."""

MAX_OUTPUT = 100_000
"""Longest text one template may render."""

MAX_PRODUCED = 1_000_000
"""Characters all the ``{{ }}`` of one render may produce, blocks and macros included (what
is kept in a variable or thrown away counts too: it was built)."""

MAX_RANGE = 10_000
"""Most items of one ``range()``."""

MAX_STEPS = 200_000
"""Loop steps, calls, filter calls and ``range`` items one render may spend."""

MAX_SECONDS = 0.1
"""Wall-clock time one render may take (normal templates take well under a millisecond)."""

MAX_INT_BITS = 256
"""Largest integer a template or expression may compute (about 77 decimal digits)."""

MAX_EXPONENT = 100
"""Largest exponent of ``**`` in a template."""

REGEX_SECONDS = 0.05
"""Longest a ``matches`` may search (the ``regex`` engine's timeout)."""


class BoundExceeded(Exception):
    """A template or expression went past one of the bounds of this module."""


@dataclass
class Budget:
    steps: int = MAX_STEPS
    deadline: float = field(default_factory=lambda: time.monotonic() + MAX_SECONDS)
    produced: int = 0

    def produce(self, chars: int) -> None:
        self.produced += chars
        if self.produced > MAX_PRODUCED:
            raise BoundExceeded(f"the template produces more than {MAX_PRODUCED} characters")

    def charge(self, n: int = 1) -> None:
        self.steps -= n
        if self.steps < 0:
            raise BoundExceeded(f"the template takes more than {MAX_STEPS} steps")
        if time.monotonic() > self.deadline:
            raise BoundExceeded(f"the template takes longer than {MAX_SECONDS} s")


_budget: ContextVar[Budget | None] = ContextVar("voxflow_template_budget", default=None)


@contextmanager
def budget() -> Iterator[Budget]:
    """A fresh budget for one render (nested renders share the outer one)."""
    outer = _budget.get()
    if outer is not None:
        yield outer
        return
    b = Budget()
    token = _budget.set(b)
    try:
        yield b
    finally:
        _budget.reset(token)


def charge(n: int = 1) -> None:
    """Spend ``n`` steps of the current render's budget (no-op outside a render)."""
    b = _budget.get()
    if b is not None:
        b.charge(n)


def produce(chars: int) -> None:
    """Count ``chars`` of output against the current render (no-op outside a render)."""
    b = _budget.get()
    if b is not None:
        b.produce(chars)


def size_of(value: object, limit: int = MAX_TEXT) -> int:
    """About how many characters ``str(value)`` has; stops counting once past ``limit``.

    Containers are walked without building their text, so a list of ten thousand references
    to one long string is measured, not rendered.
    """
    total, stack, seen = 0, [value], 0
    while stack and total <= limit:
        v = stack.pop()
        seen += 1
        if isinstance(v, str):
            total += len(v)
        elif isinstance(v, bool) or v is None:
            total += 5
        elif isinstance(v, int):
            total += v.bit_length() // 3 + 1
        elif isinstance(v, dict):
            total += 2 + 4 * len(v)
            if seen < limit:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            total += 2 + 2 * len(v)
            if seen < limit:
                stack.extend(v)
        else:
            total += 16
    return total


def check_size(value: object, what: str = "value") -> object:
    """``value`` itself when its text fits ``MAX_TEXT``; else ``BoundExceeded``."""
    if isinstance(value, int) and not isinstance(value, bool):
        check_int(value)
    elif isinstance(value, str | list | tuple | dict | set | frozenset):
        if size_of(value) > MAX_TEXT:
            raise BoundExceeded(f"the {what} would be longer than {MAX_TEXT} characters")
    return value


def check_int(value: int) -> int:
    if value.bit_length() > MAX_INT_BITS:
        raise BoundExceeded(f"a number larger than 2**{MAX_INT_BITS} was computed")
    return value


def check_width(width: object, times: int = 1, what: str = "text") -> None:
    """Refuse building ``width * times`` characters when that is over ``MAX_TEXT``."""
    if isinstance(width, int) and not isinstance(width, bool) and width * max(times, 1) > MAX_TEXT:
        raise BoundExceeded(f"the {what} would be longer than {MAX_TEXT} characters")


def bounded_range(*args: int) -> range:
    """``range`` for templates: at most ``MAX_RANGE`` items, each charged to the budget."""
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise BoundExceeded(f"range() of {len(r)} items; at most {MAX_RANGE}")
    charge(len(r))
    return r
