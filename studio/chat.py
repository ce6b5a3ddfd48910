"""A test chat held across Streamlit reruns, and its export as a conversation test.

The chat is the engine's own ``TextSession`` (the driver ``voxflow chat`` and ``voxflow test``
use), run on a private event loop kept with the chat so that the provider's async clients
live on one loop for the whole conversation. Each driver call is recorded as a turn; saving
the chat writes those turns, with what the engine answered, as one test entry in the
engine's conversation-test format (``runtime.convtest.model``).
"""

from __future__ import annotations

import asyncio
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from dsl import ir
from runtime.call.assemble import text_call
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import Step, TextSession
from runtime.convtest.model import ConvTest, ConvTestFile, Expect, ToolExpect, Turn
from runtime.engine.turn import TextProvider
from runtime.knowledge import InMemoryKnowledgeBase
from runtime.persistence import InMemoryPersistence

TESTS_SUFFIX = ".tests.yaml"


@dataclass
class ChatTurn:
    """One driver call (``caller``, ``dtmf``, ``silence``, ``hangup``, or ``start``) and its step."""

    kind: str
    value: str
    step: Step


@dataclass
class ChatState:
    flow_path: str
    flow: ir.Flow
    provider_name: str
    contact: dict[str, Any]
    now: datetime
    session: TextSession
    loop: asyncio.AbstractEventLoop
    turns: list[ChatTurn] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        flow_path: str,
        flow: ir.Flow,
        *,
        provider: TextProvider,
        provider_name: str,
        contact: dict[str, Any],
        now: datetime | None = None,
        knowledge: dict[str, list[str]] | None = None,
    ) -> ChatState:
        at = now or datetime.now(UTC).replace(microsecond=0)
        session = text_call(
            CallSpec(flow, call_id="studio-chat", now=at, contact=contact),
            CallServices(
                InMemoryPersistence(),
                knowledge=InMemoryKnowledgeBase(knowledge or {}),
                environ=os.environ,
            ),
            provider,
        )
        chat = cls(flow_path, flow, provider_name, contact, at, session, asyncio.new_event_loop())
        chat._record("start", "", session.start())
        return chat

    # --- driving ---------------------------------------------------------------------------

    def say(self, text: str) -> Step:
        return self._record("caller", text, self.session.caller_says(text))

    def press(self, digits: str) -> Step:
        return self._record("dtmf", digits, self.session.press(digits))

    def silence(self, ms: int) -> Step:
        return self._record("silence", str(ms), self.session.silence(ms))

    def hang_up(self) -> Step:
        return self._record("hangup", "", self.session.hang_up())

    def close(self) -> None:
        self.loop.close()

    def _record(self, kind: str, value: str, coro: Any) -> Step:
        step = self.loop.run_until_complete(coro)
        self.turns.append(ChatTurn(kind, value, step))
        return step

    # --- what the page shows ---------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return bool(self.session.state.ended)

    @property
    def current_node(self) -> str | None:
        return self.session.state.node

    @property
    def node_path(self) -> list[str]:
        return list(self.session.state.path)

    @property
    def slots(self) -> dict[str, Any]:
        return dict(self.session.state.slots)

    @property
    def outcome(self) -> str | None:
        return self.session.state.outcome

    def tool_calls(self) -> list[dict[str, Any]]:
        """Every tool call of the chat with its result, in order."""
        out = []
        for turn in self.turns:
            results = {r.call_id: r for r in turn.step.tool_results}
            for call in turn.step.tool_calls:
                result = results.get(call.call_id)
                out.append(
                    {
                        "tool": call.name,
                        "arguments": json.dumps(call.arguments, default=str),
                        "ok": None if result is None else result.ok,
                        "result": ""
                        if result is None
                        else json.dumps(result.result if result.ok else result.error, default=str),
                    }
                )
        return out

    # --- export ----------------------------------------------------------------------------

    def as_test(self, name: str, *, exact_lines: bool = False) -> ConvTest:
        """The chat as a conversation test: each turn expects the node, tool call and outcome
        the engine gave (and, with ``exact_lines``, its first scripted line verbatim)."""
        start = next((t for t in self.turns if t.kind == "start"), None)
        turns = []
        for t in self.turns:
            if t.kind == "start":
                continue
            match t.kind:
                case "caller":
                    action: dict[str, Any] = {"caller": t.value}
                case "dtmf":
                    action = {"dtmf": t.value}
                case "silence":
                    action = {"silence": int(t.value)}
                case _:
                    action = {"hangup": True}
            turns.append(Turn(**action, expect=_expect(t.step, exact_lines)))
        return ConvTest(
            name=name,
            contact=dict(self.contact),
            now=self.now.isoformat(),
            start=_expect(start.step, exact_lines) if start else Expect(),
            turns=turns,
        )


def _expect(step: Step, exact_lines: bool = False) -> Expect:
    """What a step showed, as expectations: node, first tool call, outcome; with
    ``exact_lines`` also its first scripted line.

    Lines are left out by default: a wording change in the flow would fail every saved test
    although the conversation still goes the same way. Only lines the flow itself says
    (``say``) can be expected verbatim: a model's own reply is worded anew on every run.
    """
    tool = step.tool_calls[0] if step.tool_calls else None
    scripted = [line for line in step.said if line not in step.replies]
    return Expect(
        node=step.node,
        says_contains=scripted[0] if scripted and exact_lines else None,
        says_nothing=True if exact_lines and not step.said else None,
        tool=ToolExpect(name=tool.name, args=_jsonable(tool.arguments)) if tool else None,
        outcome=step.outcome,
        ended=step.ended or None,
    )


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def tests_path_for(flow_path: Path) -> Path:
    """``flows/<stem>.tests.yaml`` beside the flow file, where ``voxflow test`` looks."""
    name = flow_path.name
    for suffix in (".flow.yaml", ".flow.yml", ".flow"):
        if name.endswith(suffix):
            return flow_path.with_name(name[: -len(suffix)] + TESTS_SUFFIX)
    return flow_path.with_name(flow_path.stem + TESTS_SUFFIX)


def load_tests_file(path: Path) -> ConvTestFile | None:
    """The conversation-test file at ``path``, or ``None`` when there is none yet."""
    if not path.exists():
        return None
    return ConvTestFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


class TestExists(ValueError):
    """A test of that name is already in the file: saving would have to rewrite it."""

    __test__ = False  # an error, not a test class for pytest to collect


def append_test(path: Path, test: ConvTest) -> int:
    """Add ``test`` at the end of the file at ``path`` (created if missing); returns the
    test count.

    Only the new test's lines are added: every other byte of the file stays as it was
    (comments, quoting, order), so a review shows one test. The result is read back as the
    engine reads it before it replaces the file.

    Raises:
        TestExists: the file already has a test of that name.
        ValueError: the file's ``tests`` list is not its last section, so lines added at the
            end would not belong to it.
    """
    entry = test.model_dump(exclude_defaults=True, exclude_none=True)
    existing = load_tests_file(path)
    if existing is None:
        text = yaml.safe_dump({"tests": [entry]}, sort_keys=False, allow_unicode=True, width=100)
        expected = 1
    else:
        if any(t.name == test.name for t in existing.tests):
            raise TestExists(f"{path.name} already has a test named {test.name!r}: pick another")
        source = path.read_text(encoding="utf-8")
        text = _with_entry(source, entry)
        expected = len(existing.tests) + 1
    written = ConvTestFile.model_validate(yaml.safe_load(text))
    if len(written.tests) != expected or written.tests[-1].name != test.name:
        raise ValueError(
            f"{path.name}: its `tests:` list is not the last section of the file, so the test"
            " cannot be added without rewriting it; move `tests:` to the end and save again"
        )
    tmp = path.with_name(f".{path.name}.studio-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return expected


def _with_entry(source: str, entry: dict[str, Any]) -> str:
    """``source`` with ``entry`` added as the last item of its top-level ``tests`` list,
    indented as the items already there; the rest of ``source`` unchanged (an empty
    ``tests: []`` becomes ``tests:``)."""
    items = [ln for ln in source.splitlines() if ln.lstrip().startswith("- name:")]
    indent = (len(items[-1]) - len(items[-1].lstrip())) if items else 2
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    added = "".join(" " * indent + ln if ln.strip() else ln for ln in block.splitlines(True))
    body = source if source.endswith("\n") or not source else source + "\n"
    if body.rstrip().endswith("tests: []"):
        body = body.rstrip()[: -len("[]")].rstrip() + "\n"
    return body + added
