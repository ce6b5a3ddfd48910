"""The simulated PBX: a real AMI server and a real AudioSocket client with scripted callees.

Embed it (``async with SimPBX(scenarios, log_path=...) as pbx``) or run it standalone::

    python -m telephony.sim --ami 127.0.0.1:5038 --scenarios scenarios.yaml --log sim.jsonl

Scenario format: see :mod:`telephony.sim.scenarios`. Like Asterisk on a live channel, an
answered callee sends a 20 ms slin frame every 20 ms for the whole call -- its simulated speech
(``telephony.audio.simspeech``) while talking, digital silence otherwise. voxflow talks to it with the same
gateway as to Asterisk: :class:`SimGateway` is :class:`~telephony.ami.AsteriskGateway`.
"""

from telephony.ami.gateway import AsteriskGateway as SimGateway
from telephony.sim.callee import CallMedia
from telephony.sim.log import OriginateLog, originates_per_attempt, read_log
from telephony.sim.pbx import SimCall, SimPBX
from telephony.sim.scenarios import (
    Callee,
    ScenarioError,
    Scenarios,
    Step,
    load_scenarios,
    parse_scenarios,
)

__all__ = [
    "CallMedia",
    "Callee",
    "OriginateLog",
    "ScenarioError",
    "Scenarios",
    "SimCall",
    "SimGateway",
    "SimPBX",
    "Step",
    "load_scenarios",
    "originates_per_attempt",
    "parse_scenarios",
    "read_log",
]
