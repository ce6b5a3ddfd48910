"""``voxflow chat`` (talk to a flow in the terminal) and ``voxflow test`` (conversation tests)."""

from __future__ import annotations

import asyncio
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from runtime.cli import app, settings_or_exit

if TYPE_CHECKING:  # the call stack is imported by the commands that run a call
    from dsl.ir import Flow
    from runtime.call.text import Step
    from runtime.engine.turn import TextProvider
    from runtime.settings import Settings

CHAT_SUPPLIED = ("id",)
"""Context names a chat does without: no template of a chat needs the campaign's row id."""
HELP = "Type what the caller says. Commands: /dtmf 12#, /silence 7s, /hangup, /state, /quit"


def text_provider(name: str, settings: Settings) -> TextProvider:
    """A text provider by name (``runtime.providers.registry``); ``typer.BadParameter`` when
    unknown, without a text mode, or its key is not set."""
    from runtime.providers.base import ProviderUnavailable
    from runtime.providers.registry import Providers

    try:
        return Providers(settings).text(name)
    except ProviderUnavailable as exc:
        raise typer.BadParameter(str(exc), param_hint="--provider") from None


def parse_contact(pairs: list[str]) -> dict[str, str]:
    contact = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"--contact wants key=value, got {pair!r}")
        contact[key.strip()] = value
    return contact


def _show(step: Step, explain: bool) -> None:
    if explain:
        for why in step.explanations:
            typer.secho(f"  [why] {why}", fg="bright_black")
    for command in step.commands:
        name = type(command).__name__
        if name == "NodeEntered":
            typer.secho(f"  [node] {command.name}  (via {command.via})", fg="cyan")
        elif name == "Say":
            typer.secho(f"agent: {command.text}", fg="green")
        elif name == "CallTool":
            typer.secho(
                f"  [tool] {command.name}({json.dumps(command.arguments, default=str)})",
                fg="magenta",
            )
        elif name == "SetOutcome":
            typer.secho(f"  [outcome] {command.outcome}", fg="yellow")
        elif name == "Transfer":
            typer.secho(f"  [transfer] {command.to}", fg="yellow")
        elif name == "End":
            typer.secho(f"  [end] outcome={command.outcome}", fg="yellow", bold=True)
        elif name == "TemplateFailed":
            typer.secho(
                f"  [template error] in {command.node}: {command.template!r}: {command.error}",
                fg="red",
                err=True,
            )
    for result in step.tool_results:
        shown = result.result if result.ok else result.error
        typer.secho(
            f"  [tool result] {'ok' if result.ok else 'failed'}: {json.dumps(shown, default=str)}",
            fg="magenta",
        )
    for text in step.replies:
        typer.secho(f"agent: {text}", fg="green")
    if step.slots:
        typer.secho(f"  [slots] {json.dumps(step.slots, default=str)}", fg="blue")


def load_fixtures(path: Path | None) -> tuple[dict[str, list[str]], dict[str, object]]:
    """The knowledge documents and canned tool results of a conversation-tests file
    (``knowledge:`` and ``tools:``, ``runtime.convtest.model``); empty without a file."""
    if path is None:
        return {}, {}
    import yaml
    from pydantic import ValidationError

    from runtime.convtest.model import ConvTestFile

    try:
        spec = ConvTestFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise typer.BadParameter(
            f"{path}: not a tests file: {exc}", param_hint="--fixtures"
        ) from None
    return spec.knowledge, spec.tools


async def _chat(
    flow_path: Path,
    contact: dict[str, str],
    provider: TextProvider,
    now: datetime,
    explain: bool,
    fixtures: Path | None = None,
) -> int:
    from dsl import compile_file
    from runtime.call.assemble import text_call
    from runtime.call.spec import CallServices, CallSpec
    from runtime.knowledge import InMemoryKnowledgeBase
    from runtime.persistence import InMemoryPersistence

    compiled = compile_file(str(flow_path))
    for d in compiled.diagnostics:
        typer.echo(d.render(compiled.source), err=True)
    if compiled.flow is None:
        return 1
    if not _contact_ok(compiled.flow, contact, flow_path):
        return 2
    documents, canned = load_fixtures(fixtures)
    knowledge = InMemoryKnowledgeBase(documents) if documents else None
    session = text_call(
        CallSpec(compiled.flow, call_id="chat", now=now, contact=contact),
        CallServices(InMemoryPersistence(), knowledge=knowledge, environ=os.environ),
        provider,
        canned=canned or None,
    )
    typer.secho(HELP, fg="bright_black")
    _show(await session.start(), explain)
    loop = asyncio.get_running_loop()
    while not session.state.ended:
        line = await loop.run_in_executor(None, _read_line)
        if line is None or line.strip() == "/quit":
            break
        line = line.strip()
        if not line:
            continue
        if line.startswith("/dtmf"):
            step = await session.press(line.removeprefix("/dtmf").strip())
        elif line.startswith("/silence"):
            from dsl.types import parse_duration

            try:
                ms = int(
                    parse_duration(line.removeprefix("/silence").strip() or "7s").total_seconds()
                    * 1000
                )
            except ValueError as exc:
                typer.echo(f"  {exc}", err=True)
                continue
            step = await session.silence(ms)
        elif line == "/hangup":
            step = await session.hang_up()
        elif line == "/state":
            typer.echo(json.dumps(session.state.snapshot(), indent=2))
            continue
        elif line.startswith("/"):
            typer.echo(HELP)
            continue
        else:
            step = await session.caller_says(line)
        _show(step, explain)
    s = session.state
    typer.secho(f"call over: outcome={s.outcome} path={' > '.join(s.path)}", bold=True)
    return 0


def _contact_ok(flow: Flow, contact: dict[str, str], flow_path: Path) -> bool:
    """Print what is wrong with the ``--contact`` values; False when the call cannot use them
    (a greeting would otherwise fail to render and the agent say nothing)."""
    from runtime.contacts.check import check_contact

    tz = contact.get("timezone") or flow.agent.timezone
    problems = check_contact(flow.agent.context, contact, tz=tz, supplied=CHAT_SUPPLIED)
    for problem in problems:
        label = "error" if problem.blocking else "warning"
        typer.secho(
            f"{flow_path}: {label}: {problem.message}",
            fg="red" if problem.blocking else "yellow",
            err=True,
        )
    if any(p.blocking for p in problems):
        typer.echo("fix the values with --contact name=value and run again", err=True)
        return False
    return True


def _read_line() -> str | None:
    try:
        return input("you: ")
    except EOFError:
        return None


@app.command("chat")
def chat(
    flow: Annotated[
        Path, typer.Argument(help="A .flow or .flow.yaml file.", exists=True, dir_okay=False)
    ],
    contact: Annotated[
        list[str], typer.Option("--contact", "-c", help="A contact column, key=value (repeatable).")
    ] = [],  # noqa: B006 - typer reads the default, never mutates it
    provider: Annotated[
        str, typer.Option("--provider", help="local, or openai (needs OPENAI_API_KEY).")
    ] = "local",
    now: Annotated[
        str | None, typer.Option("--now", help="Start the call's clock at this ISO time.")
    ] = None,
    explain: Annotated[
        bool, typer.Option("--explain", help="Show why the provider chose.")
    ] = False,
    fixtures: Annotated[
        Path | None,
        typer.Option(
            "--fixtures",
            help="A *.tests.yaml file: its knowledge documents and canned tool results.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Talk to a flow in the terminal: node changes, slots, tool calls and the outcome."""
    at = datetime.fromisoformat(now) if now else datetime.now(UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    settings = settings_or_exit()
    code = asyncio.run(
        _chat(
            flow, parse_contact(contact), text_provider(provider, settings), at, explain, fixtures
        )
    )
    raise typer.Exit(code)


@app.command("test")
def test(
    paths: Annotated[list[Path], typer.Argument(help="Tests files, flow files or folders.")],
) -> None:
    """Run conversation tests (``*.tests.yaml``); print results, diffs and coverage."""
    from runtime.convtest import render, run_paths

    results = asyncio.run(run_paths(paths))
    typer.echo(render(results))
    if not results:
        typer.echo("no tests found", err=True)
        raise typer.Exit(1)
    raise typer.Exit(0 if all(r.passed for r in results) else 1)
