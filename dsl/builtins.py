"""The built-in tools, declared like the HTTP tools a flow declares: typed parameters, typed
result fields.

These declarations are the one registry both sides read: the compiler checks every ``call`` of
a built-in against them (arguments, types, ``<into>.<field>`` references, ``dsl.rules.tools``),
and the runtime registers each handler against its declaration
(``runtime/tools/builtins.py``; ``runtime.tools.registry.Registry`` refuses a handler whose
signature differs). ``dsl.ir.BUILTIN_TOOLS`` lists the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.ir import Field


@dataclass(frozen=True)
class BuiltinTool:
    """The signature of a built-in tool.

    ``params`` are what a ``call`` may pass (and what the model is offered); ``result`` the
    fields of the dict the tool returns, readable as ``<into>.<field>`` after ``call ... into``.
    """

    name: str
    description: str
    params: tuple[Field, ...]
    result: tuple[Field, ...]
    example: str
    """A ``.flow`` line calling it, for the language reference."""


def _f(name: str, type_: str, description: str, *, required: bool = True) -> Field:
    return Field(name, type_, required, description)


_OUTCOME = _f("outcome", "str", "The call's outcome, from the agent's vocabulary")
_MESSAGE = _f("message", "str", "A sentence the agent may say as is", required=False)

BUILTINS: dict[str, BuiltinTool] = {
    t.name: t
    for t in (
        BuiltinTool(
            "end_call",
            "Hang up the call, optionally naming its outcome.",
            (_f("outcome", "str", _OUTCOME.description, required=False),),
            (
                _f("ended", "bool", "Always true"),
                _f("outcome", "str", "The outcome, if named", required=False),
            ),
            "call end_call(outcome = 'confirmed')",
        ),
        BuiltinTool(
            "transfer",
            "Transfer the caller to a human (the campaign's transfer number).",
            (_f("reason", "str", "Why the caller wants a human", required=False),),
            (_f("to", "str", "The number transferred to"), _f("reason", "str", "The reason")),
            "call transfer(reason = 'asked for a person')",
        ),
        BuiltinTool(
            "schedule_callback",
            "Schedule a call back at a time the caller asked for, within the calling windows.",
            (
                _f(
                    "when",
                    "datetime",
                    "When to call back: a datetime, ISO 8601 text (the contact's local time if "
                    "no offset) or words such as 'tomorrow at 3pm'; omitted: the next "
                    "possible time",
                    required=False,
                ),
                _f(
                    "reason",
                    "str",
                    "Why, and anything the caller wants us to know",
                    required=False,
                ),
            ),
            (
                _f("scheduled", "bool", "Whether the callback was stored"),
                _f("at", "str", "When, ISO 8601 (when scheduled)", required=False),
                _f(
                    "reason",
                    "str",
                    "Why not: past, no_window or outside_window (when not scheduled)",
                    required=False,
                ),
                _f("suggested", "str", "The next allowed time, ISO 8601", required=False),
                _f("outcome", "str", "callback (when scheduled)", required=False),
                _MESSAGE,
            ),
            "call schedule_callback(when = now + 1d, reason = 'asked') into cb",
        ),
        BuiltinTool(
            "opt_out",
            "Put the caller on the do-not-call list (stored before the agent confirms).",
            (_f("reason", "str", "What the caller said, in a few words", required=False),),
            (
                _f("opted_out", "bool", "Always true"),
                _f("outcome", "str", "opted_out"),
                _MESSAGE,
            ),
            "call opt_out(reason = 'asked not to be called')",
        ),
        BuiltinTool(
            "set_outcome",
            "Record the call's outcome without hanging up.",
            (_OUTCOME,),
            (_f("outcome", "str", "The outcome recorded"),),
            "call set_outcome(outcome = 'promised')",
        ),
        BuiltinTool(
            "knowledge_search",
            "Look up the answer to the caller's question in the agent's knowledge base.",
            (_f("query", "str", "The caller's question, in a few words"),),
            (
                _f("passages", "list[any]", "The passages found: text, score, source"),
                _f("message", "str", "The best passage's text, or an apology"),
            ),
            "call knowledge_search(query = 'opening hours') into answer",
        ),
    )
}
