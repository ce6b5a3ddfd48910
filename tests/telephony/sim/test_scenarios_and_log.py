import asyncio
import json
import os
import signal
import sys
import uuid
from pathlib import Path

import pytest

from telephony.ami import AmiClient, AmiSettings
from telephony.sim import (
    OriginateLog,
    ScenarioError,
    load_scenarios,
    originates_per_attempt,
    parse_scenarios,
    read_log,
)

ROOT = Path(__file__).resolve().parents[3]


def test_yaml_and_json_scenarios_load_to_the_same_callees(tmp_path):
    doc = {
        "ring_ms": 100,
        "numbers": {
            "+1": {"result": "busy"},
            "+2": {
                "amd": "MACHINE",
                "script": [
                    {"say": "hi", "wait_for_agent": False},
                    {"dtmf": "1#"},
                    {"hangup": True},
                ],
            },
        },
    }
    (tmp_path / "s.json").write_text(json.dumps(doc))
    (tmp_path / "s.yaml").write_text(
        "ring_ms: 100\nnumbers:\n  '+1': {result: busy}\n  '+2':\n    amd: MACHINE\n    script:\n      - {say: hi, wait_for_agent: false}\n      - {dtmf: '1#'}\n      - {hangup: true}\n"
    )
    a, b = load_scenarios(tmp_path / "s.json"), load_scenarios(tmp_path / "s.yaml")
    assert a == b
    callee = a.callee("+2")
    assert callee.amd == "machine"
    assert [s.kind for s in callee.script] == ["say", "dtmf", "hangup"]
    assert callee.script[0].wait_for_agent is False
    assert a.callee("+999") == a.default


def test_amd_listens_to_the_callee_unless_a_scenario_forces_a_verdict():
    """Like Asterisk's AMD(), by default: a forced verdict is asked for by name."""
    from telephony.sim.scenarios import Callee, Scenarios

    assert Callee().amd == Scenarios().amd == "audio"
    plain = parse_scenarios({"numbers": {"+1": {}, "+2": {"amd": "human"}}})
    assert (plain.default.amd, plain.callee("+1").amd, plain.callee("+2").amd) == (
        "audio",
        "audio",
        "human",
    )
    forced = parse_scenarios({"amd": "human", "numbers": {"+1": {}, "+2": {"amd": "audio"}}})
    assert (forced.default.amd, forced.callee("+1").amd, forced.callee("+2").amd) == (
        "human",
        "human",
        "audio",
    )


def test_opt_out_and_callback_presets_expand_to_spoken_lines():
    from telephony.sim.scenarios import CALLBACK_LINE, OPT_OUT_LINE

    callee = parse_scenarios(
        {
            "default": {
                "script": [
                    {"opt_out": True},
                    {"callback": "tomorrow at 10", "wait_for_agent": False},
                ]
            }
        }
    ).default
    assert [(s.kind, s.text, s.wait_for_agent) for s in callee.script] == [
        ("say", OPT_OUT_LINE, True),
        ("say", CALLBACK_LINE.format(when="tomorrow at 10"), False),
    ]


@pytest.mark.parametrize(
    ("doc", "fragment"),
    [
        ({"numbers": {"+1": {"result": "maybe"}}}, "numbers['+1']: result must be one of"),
        (
            {"numbers": {"+1": {"script": [{"sing": "la"}]}}},
            "numbers['+1'].script[0]: unknown step",
        ),
        ({"default": {"script": [{"dtmf": "x"}]}}, "default.script[0]: dtmf must be digits"),
        ({"default": {"rings": 2}}, "unknown field(s) ['rings']"),
        (
            {"default": {"amd": "robot"}},
            "amd must be one of audio, human, machine, notsure, hangup",
        ),
    ],
)
def test_invalid_scenarios_name_the_number_and_field(doc, fragment):
    with pytest.raises(ScenarioError) as err:
        parse_scenarios(doc)
    assert fragment in str(err.value)


def test_log_appends_across_reopen_and_skips_a_torn_line(tmp_path):
    path = tmp_path / "log.jsonl"
    first = OriginateLog(path)
    first.append({"type": "originate", "attempt": "a", "number": "+1"})
    first.close()
    with open(path, "a") as fh:
        fh.write('{"type": "originate", "attem')  # killed mid-write
    with open(path, "a") as fh:
        fh.write("\n")
    second = OriginateLog(path)
    second.append({"type": "originate", "attempt": "b", "number": "+2"})
    second.close()
    assert [r["attempt"] for r in read_log(path)] == ["a", "b"]
    assert originates_per_attempt(path) == {"a": 1, "b": 1}


async def test_standalone_simulator_serves_ami_and_logs_originates(tmp_path):
    log = tmp_path / "sim.jsonl"
    (tmp_path / "s.yaml").write_text("ring_ms: 10\ndefault: {result: busy}\n")
    env = {**os.environ, "VOXFLOW_SIM_AMI_SECRET": "pw"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "telephony.sim",
        "--ami",
        "127.0.0.1:0",
        "--scenarios",
        str(tmp_path / "s.yaml"),
        "--log",
        str(log),
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 20)).decode()
        assert line.startswith("simulated PBX: AMI on 127.0.0.1:")
        port = int(line.split("AMI on 127.0.0.1:")[1].split(",")[0])
        client = AmiClient(AmiSettings(port=port, secret="pw"))
        await client.start()
        attempt = str(uuid.uuid4())
        reply = await client.send(
            {
                "Action": "Originate",
                "Channel": "PJSIP/+15550001@voxflow-trunk",
                "Context": "voxflow-outbound",
                "Exten": "s",
                "Priority": "1",
                "Async": "true",
                "ChannelId": attempt,
            }
        )
        assert [m.get("Response") for m in reply] == ["Success", "Failure"]
        assert reply[1]["Reason"] == "0"  # busy over PJSIP, as on Asterisk 22: the cause says busy
        await client.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert originates_per_attempt(log) == {attempt: 1}
