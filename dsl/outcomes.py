"""The closed outcome vocabulary every call can end in.

An agent declares its own outcomes in the flow file (``confirmed``, ``promised``...). On top of
those, every call can end in one of the telephony outcomes below (decided by the PBX, before or
instead of a conversation) or one of the built-in conversational outcomes (decided by the engine
or a built-in tool). Outcomes travel as plain strings so the IR stays JSON; these enums are the
one place their spelling is defined.
"""

from __future__ import annotations

from enum import StrEnum


class TelephonyOutcome(StrEnum):
    """How a call attempt ended at the PBX when no conversation took place (or it was cut)."""

    NO_ANSWER = "no_answer"
    BUSY = "busy"
    REJECTED = "rejected"
    CONGESTION = "congestion"
    FAILED = "failed"
    VOICEMAIL = "voicemail"
    MACHINE = "machine"
    UNKNOWN = "unknown"


class BuiltinOutcome(StrEnum):
    """Conversational outcomes the engine or a built-in tool can set in any flow."""

    OPTED_OUT = "opted_out"
    CALLBACK = "callback"
    TRANSFERRED = "transferred"
    HUNG_UP = "hung_up"
    """The callee hung up before the flow set an outcome."""
    WRONG_PERSON = "wrong_person"
    PROVIDER_ERROR = "provider_error"
    """The AI provider failed and no fallback provider could take the call."""
    TOOL_ERROR = "tool_error"
    """A tool the flow called failed and the flow has no ``on tool_error`` for it."""
    COMPLETED = "completed"
    """The flow ended without naming an outcome of its own."""


TELEPHONY_OUTCOMES: frozenset[str] = frozenset(o.value for o in TelephonyOutcome)
BUILTIN_OUTCOMES: frozenset[str] = frozenset(o.value for o in BuiltinOutcome)
