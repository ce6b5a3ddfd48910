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
from dsl.format import leading_comment
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

    def as_test(self, name: str) -> ConvTest:
        """The chat as a conversation test: each turn expects what the engine answered."""
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
            turns.append(Turn(**action, expect=_expect(t.step)))
        return ConvTest(
            name=name,
            contact=dict(self.contact),
            now=self.now.isoformat(),
            start=_expect(start.step) if start else Expect(),
            turns=turns,
        )


def _expect(step: Step) -> Expect:
    """What a step showed, as expectations: node, first scripted line, first tool, outcome.

    Only lines the flow itself says (``say``) are expected verbatim: a model's own reply is
    worded anew on every run.
    """
    tool = step.tool_calls[0] if step.tool_calls else None
    scripted = [line for line in step.said if line not in step.replies]
    return Expect(
        node=step.node,
        says_contains=scripted[0] if scripted else None,
        says_nothing=True if not step.said else None,
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


def append_test(path: Path, test: ConvTest) -> int:
    """Add ``test`` to the file at ``path`` (created if missing); returns the test count.

    A test of the same name is replaced. The file is rewritten from its parsed form, so only
    the comment block that opens it is kept.
    """
    existing = load_tests_file(path)
    header = leading_comment(path.read_text(encoding="utf-8")) if existing else []
    spec = existing or ConvTestFile(tests=[])
    tests = [t for t in spec.tests if t.name != test.name] + [test]
    spec = spec.model_copy(update={"tests": tests})
    ConvTestFile.model_validate(spec.model_dump())  # the engine must be able to read it back
    data = spec.model_dump(exclude_defaults=True, exclude_none=True)
    data["tests"] = [t.model_dump(exclude_defaults=True, exclude_none=True) for t in tests]
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    text = ("\n".join(header) + "\n" if header else "") + body
    tmp = path.with_name(f".{path.name}.studio-tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return len(tests)
