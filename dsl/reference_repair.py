"""The repair patterns of the language reference: how a flow corrects, cancels, digresses,
clarifies, meets small talk and budgets its retries, written with the constructs the other
sections document (no registry names them: a guide, rendered by ``dsl.reference``)."""

from __future__ import annotations

from dsl.reference_entries import Entry, _e

REPAIR: tuple[Entry, ...] = (
    _e(
        "correction",
        "An intent parameter named like a slot (or a new value the model reports for it) "
        "fills it through the slot's `validate`: a refused value is not taken (its `invalid` "
        "message is said, a failure is counted) and the caller stays where they were. An "
        "accepted change of a filled slot re-runs what depends on it: when the intent names "
        "no target, the engine goes back to the earliest node visited since the slot was "
        "filled that reads it (in a say line, the task, an entry action such as a tool call, "
        "a prompt or a `when`), so lines, tool calls and decisions are made again with the new "
        "value. An intent with a target goes there instead; `on_change keep` only changes the "
        "value.",
        'on change_score "The caller corrects the score"\n  param score: int',
    ),
    _e(
        "clarification",
        "Two intents too close to choose are asked about rather than guessed (`on clarify` "
        'sets the wording, a target, or `off`); the answer ("the first one", or words that '
        "fit one of them) takes the chosen intent.",
        'global\n  on clarify "Just to be sure: {{ clarify.first }}, or {{ clarify.second }}?"',
    ),
    _e(
        "chitchat",
        "Small talk gets a brief answer and the question again, without counting a failure "
        "(`on chitchat` sets the wording, a target, or `off`).",
        'global\n  on chitchat "{{ chitchat.answer }} Now, where were we?"',
    ),
    _e(
        "cancellation",
        "An intent that leaves the question (node-level or global) and clears what was "
        "collected, so the question starts afresh next time.",
        'on cancel "The caller no longer wants to book" -> welcome\n  do\n    set slots.day = null',
    ),
    _e(
        "clearing",
        "`set slots.<name> = null` empties a slot; its node asks for it again.",
        'on other_day "Another day, not saying which" -> ask_day\n  do\n    set slots.day = null',
    ),
    _e(
        "digression",
        "A sub-flow called from a transition's `do` without `-> node` answers, possibly over "
        "several turns, then `return` resumes the interrupted node: its question is asked "
        "again, its entry is not run twice and the ask is not counted.",
        'on question "The caller asks about the clinic"\n  param question: str\n  do\n'
        "    call answer(question = slots.question)",
    ),
    _e(
        "retry budget",
        "Silence, no-match and refused values counted together, per node visit or per call.",
        "global\n  on failures max 3 -> desk",
    ),
    _e(
        "tool failure",
        "A failed tool takes `on tool_error`; without one, a failed `call` ends in the outcome "
        "`tool_error`, which the transcript and the campaign rules see.",
        "on tool_error book_appointment -> booking_failed",
    ),
)
"""Conversation repair, written with the constructs above (no registry: a guide)."""
