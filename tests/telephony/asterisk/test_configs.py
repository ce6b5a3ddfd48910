"""The sample Asterisk configs name exactly what the code uses."""

import configparser
import re
from pathlib import Path

from telephony.ami import (
    OUTBOUND_CONTEXT,
    TRANSFER_CONTEXT,
    VAR_AMD,
    VAR_ATTEMPT,
    VAR_AUDIOSOCKET,
    AmiSettings,
)
from telephony.ami.gateway import CHANNEL_TEMPLATE, VAR_AMD_HANGUP

CONF = Path(__file__).resolve().parents[3] / "telephony" / "asterisk"


def _dialplan() -> dict[str, list[str]]:
    contexts: dict[str, list[str]] = {}
    current = None
    for raw in (CONF / "extensions.conf").read_text().splitlines():
        line = raw.split(";", 1)[0].strip()
        if not line:
            continue
        if m := re.fullmatch(r"\[([\w-]+)\]", line):
            current = contexts.setdefault(m.group(1), [])
        else:
            assert current is not None, f"dialplan line outside a context: {raw}"
            current.append(line)
    return contexts


def _manager() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(inline_comment_prefixes=(";",), comment_prefixes=(";",))
    parser.read_string((CONF / "manager.conf").read_text())
    return parser


def test_outbound_context_runs_amd_then_audiosocket_with_the_originate_variables():
    lines = _dialplan()[OUTBOUND_CONTEXT]
    body = "\n".join(lines)
    amd = body.index("AMD()")
    audiosocket = body.index(f"AudioSocket(${{{VAR_ATTEMPT}}},${{{VAR_AUDIOSOCKET}}})")
    assert amd < audiosocket
    assert f"${{{VAR_AMD}}}" in body
    assert any(line.startswith("exten => s,1,") for line in lines)  # Originate: Exten s, Priority 1
    assert any(line.startswith("exten => h,1,") for line in lines)


def test_dialplan_reads_only_variables_the_code_sets():
    used = set(re.findall(r"\$\{(VOXFLOW_\w+)\}", (CONF / "extensions.conf").read_text()))
    assert used == {
        VAR_ATTEMPT,
        VAR_AUDIOSOCKET,
        VAR_AMD,
        VAR_AMD_HANGUP,
        "VOXFLOW_INBOUND_AUDIOSOCKET",
    }
    globals_ = "\n".join(_dialplan()["globals"])
    assert "VOXFLOW_INBOUND_AUDIOSOCKET=" in globals_


def test_inbound_and_transfer_contexts_exist_and_use_the_trunk():
    contexts = _dialplan()
    inbound = "\n".join(contexts["voxflow-inbound"])
    assert "${UUID()}" in inbound and "AudioSocket(" in inbound
    trunk = CHANNEL_TEMPLATE.split("@", 1)[1]
    assert f"PJSIP/${{EXTEN}}@{trunk}" in "\n".join(contexts[TRANSFER_CONTEXT])
    pjsip = (CONF / "pjsip.conf").read_text()
    assert f"[{trunk}]" in pjsip
    assert re.search(rf"\[{trunk}\]\ntype = endpoint\n(?:.*\n)*?context = voxflow-inbound", pjsip)


def test_hangup_handler_context_exists():
    assert "voxflow-hangup" in _dialplan()
    assert "Set(CHANNEL(hangup_handler_push)=voxflow-hangup,s,1)" in "\n".join(
        _dialplan()[OUTBOUND_CONTEXT]
    )


def test_manager_user_has_exactly_the_permissions_the_client_needs():
    manager = _manager()
    assert manager["general"]["bindaddr"] == "127.0.0.1"
    user = manager[AmiSettings().username]
    assert set(user["write"].split(",")) == {"originate", "call"}
    assert set(user["read"].split(",")) == {"system", "call", "dialplan", "dtmf"}
    assert user["permit"].startswith("127.0.0.1/")


def test_amd_conf_keeps_the_documented_defaults():
    parser = configparser.ConfigParser(comment_prefixes=(";",))
    parser.read_string((CONF / "amd.conf").read_text())
    assert parser["general"]["total_analysis_time"] == "5000"
    assert parser["general"]["initial_silence"] == "2500"


def test_ami_settings_hide_the_secret():
    settings = AmiSettings(port=6000, secret="pw-123")
    assert (settings.port, settings.secret) == (6000, "pw-123")
    assert "pw-123" not in repr(settings)


def test_outbound_context_sends_no_hung_up_or_hung_up_on_machine_to_audiosocket():
    body = "\n".join(_dialplan()[OUTBOUND_CONTEXT])
    audiosocket = body.index("AudioSocket(")
    assert body.index('"${AMDSTATUS}" = "HANGUP"]?done') < audiosocket
    assert body.index(f'"${{AMDSTATUS}}${{{VAR_AMD_HANGUP}}}" = "MACHINE1"]?done') < audiosocket


def test_the_ultravox_header_is_set_by_a_predial_handler_on_the_outgoing_channel():
    text = (CONF / "extensions_ultravox_sip.conf").read_text()
    dial = next(line for line in text.splitlines() if "Dial(PJSIP/ultravox/" in line)
    assert "b(voxflow-ultravox-predial^s^1(" in dial
    predial = text.split("[voxflow-ultravox-predial]", 1)[1]
    assert "Set(PJSIP_HEADER(add,X-Voxflow-Attempt)=${ARG1})" in predial
    answered_leg = text.split("[voxflow-ultravox-sip]", 1)[1].split("\n[", 1)[0]
    code = [line.split(";", 1)[0] for line in answered_leg.splitlines()]
    assert not any("PJSIP_HEADER" in line for line in code)
    pjsip = (CONF / "pjsip.conf").read_text()
    for section in ("[ultravox]\ntype = endpoint", "[ultravox]\ntype = aor", "[ultravox-auth]"):
        assert section in pjsip
