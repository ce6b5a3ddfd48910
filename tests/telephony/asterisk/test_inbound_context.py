"""The shipped inbound context and the code that reads its AMI events agree."""

from telephony.ami import INBOUND_CONTEXT, VAR_ATTEMPT
from telephony.sim import pbx as sim_pbx
from tests.telephony.asterisk.test_configs import _dialplan, _manager


def test_inbound_context_sets_the_uuid_variable_after_answer_and_before_audiosocket():
    body = "\n".join(_dialplan()[INBOUND_CONTEXT])
    answer = body.index("Answer()")
    varset = body.index(f"Set({VAR_ATTEMPT}=${{UUID()}})")
    audiosocket = body.index(f"AudioSocket(${{{VAR_ATTEMPT}}},${{VOXFLOW_INBOUND_AUDIOSOCKET}})")
    assert answer < varset < audiosocket


def test_plus_prefixed_numbers_reach_the_inbound_context_without_the_plus():
    lines = _dialplan()[INBOUND_CONTEXT]
    assert f"exten => _+X.,1,Goto({INBOUND_CONTEXT},${{EXTEN:1}},1)" in lines


def test_the_ami_user_reads_the_varset_events_that_carry_the_caller_id():
    assert "dialplan" in _manager()["voxflow"]["read"].split(",")


def test_the_simulated_pbx_plays_the_same_inbound_context():
    assert sim_pbx.INBOUND_CONTEXT == INBOUND_CONTEXT
    assert sim_pbx.INBOUND_TRUNK == "PJSIP/voxflow-trunk"
