import pytest

from dsl.outcomes import BuiltinOutcome as B
from dsl.outcomes import TelephonyOutcome as T
from telephony.ami.outcomes import (
    outcome_for_amd,
    outcome_for_cause,
    outcome_for_originate,
    outcome_for_reason,
)


@pytest.mark.parametrize(
    ("reason", "outcome"),
    [
        ("0", T.FAILED),
        ("1", T.UNKNOWN),  # 22.x: the dialling side hung up, nothing about the callee
        ("3", T.NO_ANSWER),
        ("4", None),
        ("5", T.BUSY),
        ("8", T.CONGESTION),
        ("7", T.UNKNOWN),
        ("x", T.UNKNOWN),
        (None, T.UNKNOWN),
    ],
)
def test_originate_reason_table(reason, outcome):
    assert outcome_for_reason(reason) == outcome


@pytest.mark.parametrize(
    ("cause", "outcome"),
    [
        (17, T.BUSY),
        (18, T.NO_ANSWER),
        (19, T.NO_ANSWER),
        (20, T.NO_ANSWER),
        (21, T.REJECTED),
        (34, T.CONGESTION),
        (42, T.CONGESTION),
        (44, T.CONGESTION),
        (1, T.FAILED),
        (3, T.FAILED),
        (28, T.FAILED),
        (38, T.FAILED),
        (127, T.FAILED),
        (16, T.UNKNOWN),
        (0, T.UNKNOWN),
        (99, T.FAILED),
    ],
)
def test_q850_cause_table_before_answer(cause, outcome):
    assert outcome_for_cause(str(cause), answered=False) == outcome


def test_every_cause_after_answer_is_a_normal_end():
    assert {outcome_for_cause(c, answered=True) for c in (16, 17, 34, 38)} == {None}


@pytest.mark.parametrize(
    ("status", "cause", "outcome"),
    [
        ("MACHINE", "LONGGREETING-2000-1500", T.VOICEMAIL),
        ("MACHINE", "MAXWORDS-3-2", T.VOICEMAIL),
        ("MACHINE", "MAXWORDLENGTH-5001", T.VOICEMAIL),
        ("MACHINE", "INITIALSILENCE-2500-2500", T.MACHINE),
        ("HUMAN", "HUMAN-1000-800", None),
        ("NOTSURE", "TOOLONG-5000", None),
        ("HANGUP", "", B.HUNG_UP),
    ],
)
def test_amd_status_table(status, cause, outcome):
    assert outcome_for_amd(status, cause) == outcome


@pytest.mark.parametrize(
    ("reason", "cause", "outcome"),
    [
        # PJSIP on Asterisk 22: Reason 0 for every failure, the Q.850 cause tells them apart
        ("0", 17, T.BUSY),
        ("0", 34, T.CONGESTION),
        ("0", 21, T.REJECTED),
        ("0", 1, T.FAILED),
        ("0", 16, T.FAILED),
        ("0", None, T.FAILED),
        ("3", 19, T.NO_ANSWER),
        # Local channels: Busy()/Congestion() are the Reason, cause 0
        ("5", 0, T.BUSY),
        ("8", 0, T.CONGESTION),
        # Reason 1: the dialling side hung up; only a cause with a meaning says more
        ("1", None, T.UNKNOWN),
        ("1", 16, T.UNKNOWN),
        ("1", 17, T.BUSY),
        ("4", 16, None),
    ],
)
def test_originate_outcome_from_reason_and_cause(reason, cause, outcome):
    assert outcome_for_originate(reason, cause) == outcome
