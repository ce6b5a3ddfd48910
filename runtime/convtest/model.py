"""The conversation-test file format (``flows/<flow>.tests.yaml``), validated with pydantic.

.. code-block:: yaml

    flow: reminder.flow            # optional; default: the flow beside the file with its stem
    now: "2026-11-23T15:00:00Z"    # optional virtual clock start for every test
    contact: {first_name: Ann}     # optional defaults, merged under each test's contact
    campaign: {transfer_to: "+15550001111"}
    knowledge: {faq: ["Parking is free behind the clinic."]}
    tools: {order_status: {status: shipped}}   # canned results; {error: "..."} fails the call
    tests:
      - name: caller confirms
        start_at: greet                # optional: begin at another node (e.g. voicemail)
        contact: {appointment_at: "2026-11-25T10:30"}
        start: {says_contains: "Hi Ann"}          # expectations on the opening
        turns:
          - caller: "yes I'll be there"
            expect:
              node: confirmed
              says_contains: "see you"          # or a list; case-insensitive
              says_matches: "see you (then|soon)" # regular expression, searched
              tool: {name: opt_out, args: {}}   # args: a subset of the call's arguments
              slots: {day: "2026-11-25"}        # a subset, compared as text
              outcome: confirmed
              ended: true
          - dtmf: "1"
          - silence: 7s
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolExpect(_Strict):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)


class Expect(_Strict):
    node: str | None = None
    says_contains: str | list[str] | None = None
    says_matches: str | None = None
    says_nothing: bool | None = None
    tool: ToolExpect | None = None
    slots: dict[str, Any] | None = None
    outcome: str | None = None
    ended: bool | None = None


class Turn(_Strict):
    caller: str | None = None
    dtmf: str | None = None
    silence: str | int | None = None
    """A duration (``7s``, ``1m``) or milliseconds."""
    hangup: bool | None = None
    expect: Expect = Field(default_factory=Expect)

    @model_validator(mode="after")
    def one_action(self) -> Turn:
        given = [k for k in ("caller", "dtmf", "silence", "hangup") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                f"a turn needs exactly one of caller, dtmf, silence, hangup (got {given or 'none'})"
            )
        return self

    def describe(self) -> str:
        if self.caller is not None:
            return f"caller: {self.caller!r}"
        if self.dtmf is not None:
            return f"dtmf: {self.dtmf!r}"
        if self.silence is not None:
            return f"silence: {self.silence}"
        return "hangup"


class ConvTest(_Strict):
    name: str
    start_at: str | None = None
    """Begin at this node instead of the flow's start (e.g. the voicemail node)."""
    tools: dict[str, Any] = Field(default_factory=dict)
    contact: dict[str, Any] = Field(default_factory=dict)
    campaign: dict[str, Any] = Field(default_factory=dict)
    now: str | None = None
    start: Expect = Field(default_factory=Expect)
    turns: list[Turn] = Field(default_factory=list)


class ConvTestFile(_Strict):
    flow: str | None = None
    now: str | None = None
    contact: dict[str, Any] = Field(default_factory=dict)
    campaign: dict[str, Any] = Field(default_factory=dict)
    knowledge: dict[str, list[str]] = Field(default_factory=dict)
    tools: dict[str, Any] = Field(default_factory=dict)
    """Canned tool results: the named tools do not run, the test gets this value instead
    (``{error: "..."}`` alone makes the call fail). Other tools run for real."""
    tests: list[ConvTest]
