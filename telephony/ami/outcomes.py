"""Tables from AMI codes to the one outcome vocabulary (``dsl.outcomes.TelephonyOutcome``).

Sources: PROTOCOLS.md §2.3 (``OriginateResponse.Reason`` = last control frame while dialing),
§2.4 (Q.850 hang-up causes), §2.5 (``AMDSTATUS`` / ``AMDCAUSE``).
"""

from __future__ import annotations

from dsl.outcomes import TelephonyOutcome

REASON_ANSWERED = 4

ORIGINATE_REASONS: dict[int, TelephonyOutcome | None] = {
    0: TelephonyOutcome.FAILED,  # channel could not be created or called
    1: TelephonyOutcome.REJECTED,  # AST_CONTROL_HANGUP: far end hung up before answering
    3: TelephonyOutcome.NO_ANSWER,  # AST_CONTROL_RINGING when Timeout expired
    4: None,  # AST_CONTROL_ANSWER: answered, no failure outcome
    5: TelephonyOutcome.BUSY,  # AST_CONTROL_BUSY
    8: TelephonyOutcome.CONGESTION,  # AST_CONTROL_CONGESTION
}

Q850_CAUSES: dict[int, TelephonyOutcome | None] = {
    0: None,  # NOTDEFINED
    1: TelephonyOutcome.FAILED,  # UNALLOCATED (unassigned number)
    3: TelephonyOutcome.FAILED,  # NO_ROUTE_DESTINATION
    16: None,  # NORMAL_CLEARING
    17: TelephonyOutcome.BUSY,  # USER_BUSY
    18: TelephonyOutcome.NO_ANSWER,  # NO_USER_RESPONSE
    19: TelephonyOutcome.NO_ANSWER,  # NO_ANSWER
    20: TelephonyOutcome.NO_ANSWER,  # SUBSCRIBER_ABSENT (unregistered / switched off)
    21: TelephonyOutcome.REJECTED,  # CALL_REJECTED
    22: TelephonyOutcome.FAILED,  # NUMBER_CHANGED
    26: None,  # ANSWERED_ELSEWHERE
    27: TelephonyOutcome.FAILED,  # DESTINATION_OUT_OF_ORDER
    28: TelephonyOutcome.FAILED,  # INVALID_NUMBER_FORMAT
    31: None,  # NORMAL_UNSPECIFIED
    34: TelephonyOutcome.CONGESTION,  # NORMAL_CIRCUIT_CONGESTION
    38: TelephonyOutcome.FAILED,  # NETWORK_OUT_OF_ORDER
    41: TelephonyOutcome.CONGESTION,  # NORMAL_TEMPORARY_FAILURE (retryable)
    42: TelephonyOutcome.CONGESTION,  # SWITCH_CONGESTION
    44: TelephonyOutcome.CONGESTION,  # REQUESTED_CHAN_UNAVAIL
    58: TelephonyOutcome.FAILED,  # BEARERCAPABILITY_NOTAVAIL
    66: TelephonyOutcome.FAILED,  # CHAN_NOT_IMPLEMENTED
    102: TelephonyOutcome.FAILED,  # RECOVERY_ON_TIMER_EXPIRE
    127: TelephonyOutcome.FAILED,  # INTERWORKING
}


def outcome_for_reason(reason: int | str | None) -> TelephonyOutcome | None:
    """The outcome of an async originate from its ``Reason``; ``None`` means answered."""
    try:
        code = int(reason) if reason is not None else -1
    except ValueError:
        return TelephonyOutcome.UNKNOWN
    return ORIGINATE_REASONS.get(code, TelephonyOutcome.UNKNOWN)


def outcome_for_cause(cause: int | str | None, answered: bool) -> TelephonyOutcome | None:
    """The outcome a hang-up cause implies.

    After an answer every cause is a normal end of the call (``None``): the conversation, not
    the network, decides the outcome. Before an answer, causes with no failure meaning
    (normal clearing, unspecified) are ``UNKNOWN`` because the call never connected.
    """
    if answered:
        return None
    try:
        code = int(cause) if cause is not None else 0
    except ValueError:
        return TelephonyOutcome.UNKNOWN
    if code not in Q850_CAUSES:
        return TelephonyOutcome.FAILED if code else TelephonyOutcome.UNKNOWN
    return Q850_CAUSES[code] or TelephonyOutcome.UNKNOWN


def outcome_for_amd(status: str, cause: str = "") -> TelephonyOutcome | None:
    """``AMDSTATUS`` (and ``AMDCAUSE``) to an outcome; ``None`` for a human (or not sure).

    A machine that spoke a greeting (``LONGGREETING``, ``MAXWORDS``, ``MAXWORDLENGTH``) is a
    voicemail box the agent could leave a message on; a silent one (``INITIALSILENCE``) is a
    ``machine``.
    """
    status = status.strip().upper()
    if status != "MACHINE":
        return None
    kind = cause.strip().upper().split("-", 1)[0]
    if kind in {"LONGGREETING", "MAXWORDS", "MAXWORDLENGTH"}:
        return TelephonyOutcome.VOICEMAIL
    return TelephonyOutcome.MACHINE
