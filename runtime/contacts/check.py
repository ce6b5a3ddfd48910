"""One contact's values checked against the flow's ``context`` types, before a call starts.

The terminal chat, the studio's test chat and test calls start a call from values a person
typed. The engine coerces each declared ``contact.<name>`` to its type and, when a value does
not read, keeps the raw text: the call then goes on with a greeting whose template failed. A
person who typed the value must hear of it before the call instead, with the field, its type
and what to write; this module says so, with the same ``dsl.types.coerce`` the engine and the
contacts import use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from dsl import types as vt
from dsl.ir import Field

_EXAMPLES = {
    "str": "any text",
    "int": "a whole number, e.g. 42",
    "float": "a number, e.g. 3.5",
    "bool": "true or false",
    "date": "a date, e.g. 2026-12-07",
    "time": "a time, e.g. 14:30",
    "datetime": "a date and time, e.g. 2026-12-07T14:30 (read in the contact's time zone)",
    "duration": "a duration, e.g. 15m or 1h30m",
    "tz": "an IANA time zone, e.g. America/New_York",
    "phone": "a number in E.164, e.g. +12125550123",
    "email": "an address, e.g. ann@example.com",
    "money": "an amount with its currency, e.g. 12.50 USD",
    "digits": "digits only, e.g. 0042",
}


@dataclass(frozen=True)
class ContactProblem:
    """One value of a contact a call cannot use as typed (or a name the flow never reads)."""

    field: str
    code: Literal["bad_value", "missing_value", "unknown_field"]
    message: str
    """What is wrong and how to fix it, in one sentence."""

    @property
    def blocking(self) -> bool:
        """A bad or missing value breaks the call; a name the flow never reads does not."""
        return self.code != "unknown_field"


def check_contact(
    context: Sequence[Field],
    contact: Mapping[str, object],
    *,
    tz: str,
    supplied: Sequence[str] = (),
) -> list[ContactProblem]:
    """Every problem of ``contact`` against the flow's ``context``, in the context's order.

    Args:
        context: the flow's ``Agent.context``.
        contact: the values typed for the call (``contact.<name>``).
        tz: the zone a naive date and time is read in (the contact's, else the agent's).
        supplied: names the caller fills itself when absent (the id, the phone, the zone of a
            test call), so their absence is no problem.
    """
    problems: list[ContactProblem] = []
    declared = {f.name for f in context}
    for f in context:
        raw = contact.get(f.name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and f.type != "str"):
            if f.required and f.default is None and f.name not in supplied:
                problems.append(
                    ContactProblem(
                        f.name,
                        "missing_value",
                        f"contact.{f.name} ({f.type}) is required by the flow: give it a value"
                        f" ({_example(f.type)})",
                    )
                )
            continue
        try:
            vt.coerce(raw, vt.parse_type(f.type), tz=tz)
        except ValueError as exc:
            problems.append(
                ContactProblem(
                    f.name,
                    "bad_value",
                    f"contact.{f.name}: {exc}; write {_example(f.type)}",
                )
            )
    for name in contact:
        if name not in declared:
            known = ", ".join(sorted(declared)) or "none"
            problems.append(
                ContactProblem(
                    name,
                    "unknown_field",
                    f"contact.{name} is not in the flow's context, so no template reads it"
                    f" (declared: {known})",
                )
            )
    return problems


def _example(type_name: str) -> str:
    base = type_name.split("[", 1)[0]
    if base == "enum":
        return "one of " + type_name[5:-1].replace("|", ", ")
    if base == "list":
        return "a list of " + _example(type_name[5:-1])
    return _EXAMPLES.get(base, type_name)
