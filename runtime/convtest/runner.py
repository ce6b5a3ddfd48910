"""Running conversation tests: each test is one fresh call of the flow on the local provider.

Failures name the file, the test, the turn, the expectation, what was expected and what
happened. Coverage per flow counts the nodes entered and the transitions taken over all of
its tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from dsl.ir import Flow
from runtime.call.assemble import text_call
from runtime.call.spec import CallServices, CallSpec
from runtime.call.text import Step, TextSession
from runtime.convtest.model import ConvTest, ConvTestFile, Expect
from runtime.engine import all_transitions
from runtime.engine.turn import TextProvider
from runtime.knowledge import InMemoryKnowledgeBase
from runtime.observability import metrics
from runtime.persistence import InMemoryPersistence

SUFFIX = ".tests.yaml"
DEFAULT_NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
"""A Monday afternoon: inside most calling windows; tests pin ``now`` when it matters."""


@dataclass(frozen=True)
class Failure:
    turn: int
    """0 for the opening (``start``), then 1-based turns."""
    turn_text: str
    field: str
    expected: Any
    actual: Any


@dataclass
class TestResult:
    __test__ = False  # not a pytest class

    name: str
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    path: list[str] = field(default_factory=list)
    taken: set[tuple[str, str]] = field(default_factory=set)
    transcript: list[tuple[str, str]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None


@dataclass
class Coverage:
    nodes: set[str]
    reached: set[str]
    transitions: set[tuple[str, str]]
    taken: set[tuple[str, str]]

    @property
    def missing_nodes(self) -> list[str]:
        return sorted(self.nodes - self.reached)

    @property
    def missing_transitions(self) -> list[tuple[str, str]]:
        return sorted(self.transitions - self.taken)


@dataclass
class FileResult:
    tests_path: Path
    flow_path: Path | None
    results: list[TestResult] = field(default_factory=list)
    coverage: Coverage | None = None
    error: str | None = None
    """The file itself could not be used (bad YAML, unknown flow, compile errors)."""

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.results)


ProviderFactory = Callable[[], TextProvider]


def _local() -> TextProvider:
    from runtime.providers.local import LocalProvider

    return LocalProvider()


def discover(paths: Iterable[str | Path]) -> list[Path]:
    """Test files under ``paths``: directories are searched for ``*.tests.yaml``; a flow file
    stands for the tests file beside it."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found.extend(sorted(p.rglob(f"*{SUFFIX}")))
        elif p.name.endswith(SUFFIX):
            found.append(p)
        else:
            found.append(p.with_name(_stem(p) + SUFFIX))
    return found


def _stem(p: Path) -> str:
    name = p.name
    for ext in (SUFFIX, ".flow.yaml", ".flow.yml", ".flow"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return p.stem


def _flow_path(tests_path: Path, declared: str | None) -> Path | None:
    if declared:
        return tests_path.parent / declared
    stem = _stem(tests_path)
    for ext in (".flow", ".flow.yaml", ".flow.yml"):
        candidate = tests_path.with_name(stem + ext)
        if candidate.exists():
            return candidate
    return None


def _parse_now(text: str | None, default: datetime) -> datetime:
    if text is None:
        return default
    at = datetime.fromisoformat(str(text))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _ms(value: str | int) -> int:
    if isinstance(value, int):
        return value
    from dsl.types import parse_duration

    return int(parse_duration(value).total_seconds() * 1000)


def load_file(path: Path) -> tuple[ConvTestFile | None, Flow | None, FileResult]:
    """Read a tests file and compile its flow; problems land in ``FileResult.error``."""
    result = FileResult(path, None)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = ConvTestFile.model_validate(raw)
    except FileNotFoundError:
        result.error = f"{path}: no such tests file"
        return None, None, result
    except (yaml.YAMLError, ValidationError) as exc:
        result.error = f"{path}: not a valid tests file:\n{exc}"
        return None, None, result
    flow_path = _flow_path(path, spec.flow)
    result.flow_path = flow_path
    if flow_path is None or not flow_path.exists():
        result.error = f"{path}: no flow beside it (expected {_stem(path)}.flow or .flow.yaml)"
        return spec, None, result
    from dsl import compile_file

    compiled = compile_file(str(flow_path))
    if compiled.flow is None:
        errors = "\n".join(d.render(compiled.source) for d in compiled.errors)
        result.error = f"{flow_path}: does not compile:\n{errors}"
        return spec, None, result
    return spec, compiled.flow, result


async def run_file(path: Path, *, provider: ProviderFactory = _local) -> FileResult:
    """Run every test of one tests file."""
    spec, flow, result = load_file(path)
    if spec is None or flow is None:
        return result
    closed = _closed_dates(flow, _parse_now(spec.now, DEFAULT_NOW))
    for test in spec.tests:
        result.results.append(
            await run_test(flow, test, spec, provider=provider, closed_dates=closed)
        )
    result.coverage = Coverage(
        nodes={n.name for n in flow.agent.nodes},
        reached={n for r in result.results for n in r.path},
        transitions=all_transitions(flow),
        taken={t for r in result.results for t in r.taken},
    )
    return result


def _closed_dates(flow: Flow, now: datetime) -> tuple[str, ...]:
    if flow.campaign is None:
        return ()
    from runtime.campaign.windows import closed_dates

    try:
        return closed_dates(flow.campaign.holidays, [now.year, now.year + 1])
    except ValueError:
        return tuple(flow.campaign.holidays.dates)


async def run_test(
    flow: Flow,
    test: ConvTest,
    spec: ConvTestFile,
    *,
    provider: ProviderFactory = _local,
    closed_dates: tuple[str, ...] = (),
) -> TestResult:
    result = TestResult(test.name)
    knowledge = InMemoryKnowledgeBase(spec.knowledge)
    session = text_call(
        CallSpec(
            flow,
            call_id=f"test:{test.name}",
            now=_parse_now(test.now or spec.now, DEFAULT_NOW),
            contact={**spec.contact, **test.contact},
            campaign={**spec.campaign, **test.campaign},
            closed_dates=closed_dates,
        ),
        # Offline and repeatable: no process environment reaches the flow's HTTP tools.
        CallServices(InMemoryPersistence(), knowledge=knowledge),
        provider(),
        canned={**spec.tools, **test.tools},
    )
    try:
        step = await session.start(test.start_at)
        result.failures += check(step, test.start, session, 0, "start")
        for i, turn in enumerate(test.turns, start=1):
            if session.state.ended:
                result.failures.append(
                    Failure(i, turn.describe(), "call", "still in progress", "already ended")
                )
                break
            if turn.caller is not None:
                step = await session.caller_says(turn.caller)
            elif turn.dtmf is not None:
                step = await session.press(turn.dtmf)
            elif turn.silence is not None:
                step = await session.silence(_ms(turn.silence))
            else:
                step = await session.hang_up()
            result.failures += check(step, turn.expect, session, i, turn.describe())
    except Exception as exc:  # a broken flow or tool must fail the test, not the run
        result.error = f"{type(exc).__name__}: {exc}"
    state = session.state
    result.path = list(state.path)
    result.taken = {(t.node, t.key) for t in state.taken}
    result.transcript = [
        (t["role"], t["text"]) for t in state.transcript if t["role"] in ("caller", "agent")
    ]
    metrics.CONVERSATION_TESTS.labels("passed" if result.passed else "failed").inc()
    return result


def _text(value: Any) -> str:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value)


def _same(expected: Any, actual: Any) -> bool:
    if expected == actual:
        return True
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return all(k in actual and _same(v, actual[k]) for k, v in expected.items())
    return _text(expected) == _text(actual)


def check(step: Step, expect: Expect, session: TextSession, turn: int, text: str) -> list[Failure]:
    """The expectations of ``expect`` that ``step`` does not meet."""
    out: list[Failure] = []
    spoken = " ".join(step.said)

    def fail(name: str, expected: Any, actual: Any) -> None:
        out.append(Failure(turn, text, name, expected, actual))

    for failed in step.template_errors:
        # Whatever the test expects, a template of the flow that did not render fails it.
        fail("template", f"{failed.template!r} renders", f"{failed.error} (node {failed.node})")
    if expect.node is not None and step.node != expect.node:
        fail("node", expect.node, step.node)
    if expect.says_contains is not None:
        wanted = (
            [expect.says_contains]
            if isinstance(expect.says_contains, str)
            else expect.says_contains
        )
        for w in wanted:
            if w.lower() not in spoken.lower():
                fail("says_contains", w, spoken)
    if expect.says_matches is not None and not re.search(expect.says_matches, spoken):
        fail("says_matches", expect.says_matches, spoken)
    if expect.says_nothing is not None and expect.says_nothing != (not spoken):
        fail("says_nothing", expect.says_nothing, spoken)
    if expect.tool is not None:
        calls = [c for c in step.tool_calls if c.name == expect.tool.name]
        if not any(_same(expect.tool.args, c.arguments) for c in calls):
            fail(
                "tool",
                {"name": expect.tool.name, "args": expect.tool.args},
                [{"name": c.name, "args": c.arguments} for c in step.tool_calls] or "no tool call",
            )
    if expect.slots is not None:
        slots = session.state.slots
        for name, value in expect.slots.items():
            if name not in slots or not _same(value, slots[name]):
                fail(f"slots.{name}", value, slots.get(name, "<unset>"))
    if expect.outcome is not None and step.outcome != expect.outcome:
        fail("outcome", expect.outcome, step.outcome)
    if expect.ended is not None and step.ended != expect.ended:
        fail("ended", expect.ended, step.ended)
    return out


async def run_paths(
    paths: Iterable[str | Path], *, provider: ProviderFactory = _local
) -> list[FileResult]:
    return [await run_file(p, provider=provider) for p in discover(paths)]
