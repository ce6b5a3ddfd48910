"""Scripted callees for the simulated PBX, loaded from YAML or JSON.

Format (YAML shown; JSON is the same structure)::

    ring_ms: 200            # one ring lasts this long (default 1000)
    max_concurrent: 20      # originates beyond this fail with CONGESTION (default 50)
    default:                # used for every number not listed below
      answer_after_rings: 1
      script:
        - say: "Hello?"                          # as soon as the call is answered
          wait_for_agent: false
    numbers:
      "+15550100": {result: busy}
      "+15550101": {result: no_answer}           # rings until the Originate Timeout
      "+15550102": {result: congestion}
      "+15550103": {result: rejected}            # hangs up while ringing (cause 21)
      "+15550104": {result: failed}              # unallocated number (cause 1)
      "+15550105":                               # voicemail box: AMDSTATUS=MACHINE
        greeting: "Hi, you have reached Sam. Leave a message after the tone."
      "+15550106":
        answer_after_rings: 2
        script:
          - {say: "Hello?", wait_for_agent: false} # heard by AMD() only: a person
          - say: "Hello, who is this?"           # said after the agent's first utterance
          - dtmf: "1"                            # presses a key
          - say: "Please stop calling me."       # an opt-out line
          - say: "Call me back tomorrow at 10."  # a callback request line
          - hangup: true                         # hangs up mid-call
      "+15550107": {script: [{say: "Hi!", wait_for_agent: false}, {wait_ms: 500}]}

Script steps, run in order once the call is answered (and after AMD):

* ``say: TEXT`` -- speak TEXT as simulated speech (``telephony.audio.simspeech``). By default
  the callee first waits until the agent has finished an utterance (``wait_for_agent: true``);
  with ``false`` it speaks at once (which is how barge-in is provoked).
* ``opt_out: true`` -- say :data:`OPT_OUT_LINE` (same waiting rule as ``say``).
* ``callback: WHEN`` -- say :data:`CALLBACK_LINE` with WHEN filled in, e.g. "tomorrow at 10".
* ``listen: true`` -- wait for one complete agent utterance without answering.
* ``dtmf: DIGITS`` -- press keys (AudioSocket DTMF messages, one per digit).
* ``wait_ms: N`` -- stay silent for N ms.
* ``hangup: true`` -- hang up (close the AudioSocket; AMI ``Hangup`` cause 16).

When the script ends the callee stays on the line until the agent hangs up, or for
``max_call_ms`` (default 120000) after answer. ``silence_suppression: true`` makes the
callee's line send audio only while the callee speaks (no RTP in silence); with it, a call on
which voxflow sends nothing for 2 s is cut, as ``AudioSocket()`` does.

``amd`` says how ``AMD()`` decides (``VarSet`` ``AMDSTATUS``/``AMDCAUSE``) when voxflow asks
for answering-machine detection:

* ``audio`` (the default) -- from the callee's own audio, as Asterisk's app_amd does with
  amd.conf's defaults (``telephony/sim/amd.py``): the callee's script runs from the answer
  and AMD listens until it decides; only then does the call reach ``AudioSocket()``, so what
  AMD heard the agent never hears. A callee who waits for the agent to speak first, or whose
  script is empty, is a ``MACHINE`` (``INITIALSILENCE``); a short "Hello?" then silence is
  ``HUMAN``; a greeting (its ``greeting_ms``, default 3000, then a beep) is a ``MACHINE``
  (``LONGGREETING``); a silence-suppressing line that sends nothing for 5 s is ``NOTSURE``
  (``NOAUDIODATA``); a script that hangs up during the analysis gives ``HANGUP``. So a
  callee meant as a person starts with ``{say: "Hello?", wait_for_agent: false}``, as people
  do when they pick up. A ``say`` is simulated speech, about 130 characters a second
  (``telephony/audio/simspeech.py``), far quicker than a voice: AMD hears a line under
  ~190 characters as one word, so "Hello, who is this?" passes as ``HUMAN`` although a real
  AMD may call it ``MAXWORDS``; a long spoken first line is a ``greeting`` with its length.
* ``human``, ``machine``, ``notsure``, ``hangup`` -- forced, at once, whatever the callee
  says (``machine`` with a ``greeting`` reads ``LONGGREETING``, without one
  ``INITIALSILENCE``). A real Asterisk has no such switch: use them only where a test needs a
  verdict its callee's audio would not give, and say why.

A top-level ``amd`` sets the default for every callee that does not set its own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml

Result = Literal["answer", "busy", "no_answer", "congestion", "rejected", "failed"]
RESULTS: tuple[str, ...] = ("answer", "busy", "no_answer", "congestion", "rejected", "failed")


OPT_OUT_LINE = "Please stop calling me and put me on your do not call list."
CALLBACK_LINE = "I can't talk now, please call me back {when}."


class ScenarioError(ValueError):
    """The scenarios file is invalid; the message names the number and the field."""


@dataclass(frozen=True)
class Step:
    kind: Literal["say", "listen", "dtmf", "wait", "hangup"]
    text: str = ""
    wait_for_agent: bool = True
    ms: int = 0


@dataclass(frozen=True)
class Callee:
    result: Result = "answer"
    answer_after_rings: int = 1
    amd: Literal["audio", "human", "machine", "notsure", "hangup"] = "audio"
    greeting: str | None = None
    greeting_ms: int = 3000
    """How long the greeting lasts (its text, then voice), beep not included."""
    script: tuple[Step, ...] = ()
    max_call_ms: int = 120_000
    silence_suppression: bool = False
    """The callee's line sends no audio while the callee is silent (no RTP, as phones and
    carriers with voice activity detection do); by default it sends silence frames."""


@dataclass(frozen=True)
class Scenarios:
    default: Callee = field(default_factory=Callee)
    numbers: dict[str, Callee] = field(default_factory=dict)
    ring_ms: int = 1000
    max_concurrent: int = 50
    amd: str = "audio"
    """``amd`` of the callees that do not set their own."""

    def callee(self, number: str) -> Callee:
        return self.numbers.get(number, self.default)


def _step(raw: object, where: str) -> Step:
    if not isinstance(raw, dict) or not raw:
        raise ScenarioError(f"{where}: a step is a mapping like {{say: TEXT}}")
    if "say" in raw:
        return Step(
            "say", text=str(raw["say"]), wait_for_agent=bool(raw.get("wait_for_agent", True))
        )
    if "opt_out" in raw:
        return Step("say", text=OPT_OUT_LINE, wait_for_agent=bool(raw.get("wait_for_agent", True)))
    if "callback" in raw:
        text = CALLBACK_LINE.format(when=str(raw["callback"]))
        return Step("say", text=text, wait_for_agent=bool(raw.get("wait_for_agent", True)))
    if "listen" in raw:
        return Step("listen")
    if "dtmf" in raw:
        digits = str(raw["dtmf"])
        if not digits or any(d not in "0123456789*#ABCD" for d in digits):
            raise ScenarioError(f"{where}: dtmf must be digits from 0-9 * # A-D, got {digits!r}")
        return Step("dtmf", text=digits)
    if "wait_ms" in raw:
        return Step("wait", ms=int(raw["wait_ms"]))
    if "hangup" in raw:
        return Step("hangup")
    raise ScenarioError(
        f"{where}: unknown step {sorted(raw)}; use say, opt_out, callback, listen, dtmf, wait_ms or hangup"
    )


AMD_CHOICES = ("audio", "human", "machine", "notsure", "hangup")


def _callee(raw: object, where: str, amd_default: str = "audio") -> Callee:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: a callee is a mapping")
    unknown = set(raw) - {
        "result",
        "answer_after_rings",
        "amd",
        "greeting",
        "script",
        "max_call_ms",
        "silence_suppression",
        "greeting_ms",
    }
    if unknown:
        raise ScenarioError(f"{where}: unknown field(s) {sorted(unknown)}")
    result = raw.get("result", "answer")
    if result not in RESULTS:
        raise ScenarioError(f"{where}: result must be one of {', '.join(RESULTS)}, got {result!r}")
    amd = str(raw.get("amd", amd_default)).lower()
    if amd not in AMD_CHOICES:
        raise ScenarioError(f"{where}: amd must be one of {', '.join(AMD_CHOICES)}, got {amd!r}")
    script = raw.get("script", [])
    if not isinstance(script, list):
        raise ScenarioError(f"{where}: script must be a list of steps")
    return Callee(
        result=result,
        answer_after_rings=int(raw.get("answer_after_rings", 1)),
        amd=amd,  # type: ignore[arg-type]
        greeting=raw.get("greeting"),
        script=tuple(_step(s, f"{where}.script[{i}]") for i, s in enumerate(script)),
        max_call_ms=int(raw.get("max_call_ms", 120_000)),
        silence_suppression=bool(raw.get("silence_suppression", False)),
        greeting_ms=int(raw.get("greeting_ms", 3000)),
    )


def parse_scenarios(raw: object) -> Scenarios:
    if not isinstance(raw, dict):
        raise ScenarioError("scenarios: the top level must be a mapping")
    numbers = raw.get("numbers", {}) or {}
    if not isinstance(numbers, dict):
        raise ScenarioError("scenarios.numbers must map numbers to callees")
    amd = str(raw.get("amd", "audio")).lower()
    if amd not in AMD_CHOICES:
        raise ScenarioError(f"scenarios.amd must be one of {', '.join(AMD_CHOICES)}, got {amd!r}")
    return Scenarios(
        default=_callee(raw.get("default", {}), "default", amd),
        numbers={str(n): _callee(c, f"numbers[{n!r}]", amd) for n, c in numbers.items()},
        ring_ms=int(raw.get("ring_ms", 1000)),
        max_concurrent=int(raw.get("max_concurrent", 50)),
        amd=amd,
    )


def load_scenarios(path: str | Path) -> Scenarios:
    """Read a ``.json``, ``.yaml`` or ``.yml`` scenarios file."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    raw = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    try:
        return parse_scenarios(raw or {})
    except ScenarioError as exc:
        raise ScenarioError(f"{path}: {exc}") from None
