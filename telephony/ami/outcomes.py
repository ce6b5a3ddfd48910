"""Tables from AMI codes to the one outcome vocabulary (``dsl.outcomes.TelephonyOutcome``).

What an async ``Originate`` reports depends on the channel technology (observed on Asterisk
22.10.1; see ``telephony/asterisk/README.md``, "Outcomes"):

* **PJSIP** (every real trunk): a call that is not answered ends with
  ``OriginateResponse Reason: 0`` whatever the far end said (486 busy, 503 congestion,
  403 rejected, 404 unallocated). Only the channel's Q.850 hang-up cause tells them apart; it
  comes on ``HangupRequest`` (``Cause``) and ``Hangup`` (``Cause``, ``Cause-txt``), often a
  fraction of a millisecond *after* the OriginateResponse. ``3`` (no answer) and ``4``
  (answered) are reported as such.
* **Local** channels (a dialplan that runs ``Busy()`` or ``Congestion()``): ``Reason 5`` and
  ``8``, with hang-up cause 0.
* ``Reason 1`` is ``AST_CONTROL_HANGUP``. In 22.x ``pbx_dial_reason()`` (main/pbx.c) gives it
  only when the *dialling* side hung up (``AST_DIAL_RESULT_HANGUP``), never for a callee that
  refused: it says nothing about the callee, so it is ``unknown`` unless the channel's cause
  says more.

Reasons are the last control frame while dialling (``enum ast_control_frame_type`` in
include/asterisk/frame.h); causes are Q.850 (include/asterisk/causes.h); ``AMDSTATUS`` and
``AMDCAUSE`` are set by apps/app_amd.c.
"""

from __future__ import annotations

from dsl.outcomes import BuiltinOutcome, TelephonyOutcome

REASON_FAILED = 0
REASON_HANGUP = 1
REASON_ANSWERED = 4

ORIGINATE_REASONS: dict[int, TelephonyOutcome | None] = {
    0: TelephonyOutcome.FAILED,  # not answered; on PJSIP the hang-up cause says why
    1: TelephonyOutcome.UNKNOWN,  # AST_CONTROL_HANGUP: the dialling side gave up (22.x)
    3: TelephonyOutcome.NO_ANSWER,  # AST_CONTROL_RINGING when Timeout expired
    4: None,  # AST_CONTROL_ANSWER: answered, no failure outcome
    5: TelephonyOutcome.BUSY,  # AST_CONTROL_BUSY (Local channels)
    8: TelephonyOutcome.CONGESTION,  # AST_CONTROL_CONGESTION (Local channels)
}

REASONS_NEEDING_CAUSE = frozenset({REASON_FAILED, REASON_HANGUP})
"""Reasons that do not say what the callee did: the channel's hang-up cause decides."""

Q850_CAUSES: dict[int, TelephonyOutcome | None] = {
    0: None,  # NOTDEFINED
    1: TelephonyOutcome.FAILED,  # UNALLOCATED (unassigned number); SIP 404
    3: TelephonyOutcome.FAILED,  # NO_ROUTE_DESTINATION
    16: None,  # NORMAL_CLEARING
    17: TelephonyOutcome.BUSY,  # USER_BUSY; SIP 486, 600
    18: TelephonyOutcome.NO_ANSWER,  # NO_USER_RESPONSE; SIP 408
    19: TelephonyOutcome.NO_ANSWER,  # NO_ANSWER; SIP 480
    20: TelephonyOutcome.NO_ANSWER,  # SUBSCRIBER_ABSENT (unregistered / switched off)
    21: TelephonyOutcome.REJECTED,  # CALL_REJECTED; SIP 403, 603
    22: TelephonyOutcome.FAILED,  # NUMBER_CHANGED; SIP 410
    26: None,  # ANSWERED_ELSEWHERE
    27: TelephonyOutcome.FAILED,  # DESTINATION_OUT_OF_ORDER; SIP 502
    28: TelephonyOutcome.FAILED,  # INVALID_NUMBER_FORMAT; SIP 484
    31: None,  # NORMAL_UNSPECIFIED
    34: TelephonyOutcome.CONGESTION,  # NORMAL_CIRCUIT_CONGESTION; SIP 503
    38: TelephonyOutcome.FAILED,  # NETWORK_OUT_OF_ORDER
    41: TelephonyOutcome.CONGESTION,  # NORMAL_TEMPORARY_FAILURE (retryable)
    42: TelephonyOutcome.CONGESTION,  # SWITCH_CONGESTION
    44: TelephonyOutcome.CONGESTION,  # REQUESTED_CHAN_UNAVAIL
    58: TelephonyOutcome.FAILED,  # BEARERCAPABILITY_NOTAVAIL
    66: TelephonyOutcome.FAILED,  # CHAN_NOT_IMPLEMENTED
    102: TelephonyOutcome.FAILED,  # RECOVERY_ON_TIMER_EXPIRE; SIP 504
    127: TelephonyOutcome.FAILED,  # INTERWORKING
}


def outcome_for_reason(reason: int | str | None) -> TelephonyOutcome | None:
    """The outcome of an async originate from its ``Reason`` alone; ``None`` means answered.

    For reasons 0 and 1 this is only the fallback: use :func:`outcome_for_originate` with the
    channel's hang-up cause.
    """
    code = _code(reason)
    if code is None:
        return TelephonyOutcome.UNKNOWN
    return ORIGINATE_REASONS.get(code, TelephonyOutcome.UNKNOWN)


def needs_cause(reason: int | str | None) -> bool:
    """Whether the outcome of ``reason`` must wait for the channel's hang-up cause."""
    return _code(reason) in REASONS_NEEDING_CAUSE


def outcome_for_originate(
    reason: int | str | None, cause: int | str | None
) -> TelephonyOutcome | None:
    """The outcome of an async originate from its ``Reason`` and the channel's hang-up cause.

    ``cause`` is ``None`` when no ``HangupRequest``/``Hangup`` with a cause was seen. A cause
    with a failure meaning (busy, congestion, rejected, unallocated...) decides for reasons 0
    and 1; otherwise the reason does (0 ``failed``, 1 ``unknown``).
    """
    fallback = outcome_for_reason(reason)
    if not needs_cause(reason) or cause is None:
        return fallback
    by_cause = outcome_for_cause(cause, answered=False)
    if by_cause in (None, TelephonyOutcome.UNKNOWN):
        return fallback
    return by_cause


def outcome_for_cause(cause: int | str | None, answered: bool) -> TelephonyOutcome | None:
    """The outcome a hang-up cause implies.

    After an answer every cause is a normal end of the call (``None``): the conversation, not
    the network, decides the outcome. Before an answer, causes with no failure meaning
    (normal clearing, unspecified) are ``UNKNOWN`` because the call never connected.
    """
    if answered:
        return None
    code = _code(cause if cause is not None else 0)
    if code is None:
        return TelephonyOutcome.UNKNOWN
    if code not in Q850_CAUSES:
        return TelephonyOutcome.FAILED if code else TelephonyOutcome.UNKNOWN
    return Q850_CAUSES[code] or TelephonyOutcome.UNKNOWN


AMD_HANGUP = "HANGUP"
"""``AMDSTATUS`` when the callee hung up while ``AMD()`` listened."""


def outcome_for_amd(status: str, cause: str = "") -> TelephonyOutcome | BuiltinOutcome | None:
    """``AMDSTATUS`` (and ``AMDCAUSE``) to an outcome; ``None`` for a human (or not sure).

    A machine that spoke a greeting (``LONGGREETING``, ``MAXWORDS``, ``MAXWORDLENGTH``) is a
    voicemail box the agent could leave a message on; a silent one (``INITIALSILENCE``) is a
    ``machine``. ``HANGUP``: the callee answered and hung up during the analysis
    (``hung_up``).
    """
    status = status.strip().upper()
    if status == AMD_HANGUP:
        return BuiltinOutcome.HUNG_UP
    if status != "MACHINE":
        return None
    kind = cause.strip().upper().split("-", 1)[0]
    if kind in {"LONGGREETING", "MAXWORDS", "MAXWORDLENGTH"}:
        return TelephonyOutcome.VOICEMAIL
    return TelephonyOutcome.MACHINE


def _code(value: int | str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None
