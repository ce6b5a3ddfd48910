"""Write a compiled flow in the ``.flow`` syntax (``voxflow fmt --to flow``), and the helpers
the YAML writer (``dsl/format_yaml.py``) shares.

The text is generated from the IR, so it is canonical (expressions in canonical form, defaults
left out, durations in the largest exact unit) and converting a flow to the other syntax and
back gives the same IR and hash. The IR holds no comments: ``dsl/comments.py`` puts every
comment of the source back into this text (``voxflow fmt``). Known limit: a call argument whose
expression nests parentheses more than one level deep cannot be written in ``.flow``
(``ARGS`` in ``flow.lark``); such a flow stays in YAML.
"""

from __future__ import annotations

import json
from dataclasses import replace

from dsl import ir

_DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def leading_comment(source: str) -> list[str]:
    """The ``#`` lines (and blank lines between them) that open a flow file."""
    out = []
    for line in source.splitlines():
        if line.strip().startswith("#"):
            out.append(line.strip())
        elif line.strip() and out:
            break
        elif line.strip():
            break
    return out


def duration(ms: int) -> str:
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def days(values: tuple[int, ...]) -> str:
    """ISO weekdays → ``mon-fri`` / ``mon,wed,fri`` / ``mon-wed,sat``."""
    runs: list[list[int]] = []
    for d in sorted(values):
        if runs and d == runs[-1][-1] + 1:
            runs[-1].append(d)
        else:
            runs.append([d])
    parts = []
    for r in runs:
        a, b = _DAY_NAMES[r[0] - 1], _DAY_NAMES[r[-1] - 1]
        parts.append(a if len(r) == 1 else f"{a}-{b}" if len(r) > 2 else f"{a},{b}")
    return ",".join(parts)


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _ident_or_q(text: str) -> str:
    return text if text.isidentifier() and text != "none" else _q(text)


# --- .flow -----------------------------------------------------------------------------------------


def to_flow(flow: ir.Flow, *, header: list[str] | None = None) -> str:
    """The flow in the textual ``.flow`` syntax."""
    out: list[str] = list(header or [])
    a = flow.agent
    w = out.append
    w(f"agent {a.name}")
    w(f"  persona {_q(a.persona.src)}")
    if a.timezone != "UTC":
        w(f"  timezone {_q(a.timezone)}")
    if a.context:
        w(f"  context contact({', '.join(_field(f) for f in a.context)})")
    if a.campaign_context:
        w(f"  context campaign({', '.join(_field(f) for f in a.campaign_context)})")
    for f in a.variables:
        default = f" = {f.default.src}" if f.default else ""
        w(f"  var {_field(f)}{default}")
    if a.outcomes:
        w(f"  outcomes {', '.join(a.outcomes)}")
    w(f"  start {a.start}")
    if a.fallback:
        w(f"  fallback {a.fallback}")
    if a.on_change != "rerun":
        w(f"  on_change {a.on_change}")
    _provider_flow(a.provider, w)
    for t in a.tools:
        if isinstance(t, ir.KnowledgeTool):
            w(f"  knowledge {_q(t.collection)}" + (f" top {t.top_k}" if t.top_k != 3 else ""))
        else:
            _tool_flow(t, w)
    if a.global_transitions:
        w("")
        w("  global")
        for t in a.global_transitions:
            _transition_flow(t, w, "    ")
    imports = imports_by_file(a)
    if imports:
        w("")
    for source, names in imports.items():
        w(f"  import {', '.join(names)} from {_q(source)}")
    for sub in a.subflows:
        if sub.source is None:
            w("")
            _subflow_flow(a, sub, w)
    for n in main_nodes(a):
        w("")
        _node_flow(n, w)
    if flow.campaign is not None:
        w("")
        _campaign_flow(flow.campaign, w)
    return "\n".join(out) + "\n"


def imports_by_file(a: ir.Agent) -> dict[str, list[str]]:
    """Imported sub-flow names by the file they come from, as the imports wrote it."""
    out: dict[str, list[str]] = {}
    for f in a.subflows:
        if f.source is not None:
            out.setdefault(f.source, []).append(f.name)
    return {k: sorted(v) for k, v in out.items()}


def main_nodes(a: ir.Agent) -> list[ir.Node]:
    """The nodes of the main flow (not of a sub-flow)."""
    return [n for n in a.nodes if not any(f.owns(n.name) for f in a.subflows)]


def local_nodes(a: ir.Agent, sub: ir.SubFlow) -> list[ir.Node]:
    """The nodes of ``sub`` with the names written in its block (``ask``, not
    ``identity.ask``), in targets too."""
    prefix = sub.name + "."

    def local(name):
        return name.removeprefix(prefix) if name else name

    def actions(acts):
        return tuple(
            replace(x, then=local(x.then)) if isinstance(x, ir.SubFlowCall) else x for x in acts
        )

    return [
        replace(
            n,
            name=local(n.name),
            on_enter=actions(n.on_enter),
            transitions=tuple(
                replace(t, target=local(t.target), actions=actions(t.actions))
                for t in n.transitions
            ),
        )
        for n in a.nodes
        if sub.owns(n.name)
    ]


def _subflow_flow(a: ir.Agent, sub: ir.SubFlow, w) -> None:
    results = f" -> ({', '.join(_field(f) for f in sub.results)})" if sub.results else ""
    w(f"  flow {sub.name}({', '.join(_field(f) for f in sub.params)}){results}")
    if sub.description:
        w(f"    description {_q(sub.description)}")
    w(f"    start {sub.start.removeprefix(sub.name + '.')}")

    def indented(line: str) -> None:
        w("  " + line if line else line)

    for n in local_nodes(a, sub):
        w("")
        _node_flow(n, indented)


def _field(f: ir.Field) -> str:
    s = f"{f.name}: {f.type}{'' if f.required else '?'}"
    return s + (f" {_q(f.description)}" if f.description else "")


def _provider_flow(p: ir.ProviderSettings, w) -> None:
    if p == ir.ProviderSettings():
        return
    w("  provider")
    if p.voice is not None:
        w(f"    voice {_q(p.voice)}")
    if p.voices:
        w("    voice " + " ".join(f"{name} {_q(voice)}" for name, voice in p.voices))
    if p.language != "en-US":
        w(f"    language {_q(p.language)}")
    for key, value in turn_entries(p.turn, agent=True):
        w(f"    {key} {value}")
    if p.fallback:
        w(f"    fallback {', '.join(p.fallback)}")
    if p.apology is not None:
        w(f"    apology {_q(p.apology.src)}")
    if p == ir.ProviderSettings(language=p.language) and p.language == "en-US":
        w('    language "en-US"')


def turn_entries(t: ir.TurnDetection, *, agent: bool = False) -> list[tuple[str, str]]:
    """The turn detection keys that ``t`` sets, as ``(key, text)`` in both syntaxes' order
    (the agent's ``server_vad`` is the default, left out)."""
    out = []
    if t.mode is not None and not (agent and t.mode == "server_vad"):
        out.append(("turn_detection", t.mode))
    if t.vad_threshold is not None:
        out.append(("vad_threshold", repr(t.vad_threshold)))
    if t.eagerness is not None:
        out.append(("eagerness", t.eagerness))
    if t.silence_ms is not None:
        out.append(("silence", duration(t.silence_ms)))
    if t.prefix_padding_ms is not None:
        out.append(("prefix_padding", duration(t.prefix_padding_ms)))
    return out


def _tool_flow(t: ir.HttpTool, w) -> None:
    w(f"  tool {t.name} http {t.method} {_q(t.url.src)}")
    if t.description:
        w(f"    description {_q(t.description)}")
    for p in t.params:
        w(f"    param {_field(p)}")
    for k, v in t.headers:
        w(f"    header {_q(k)} {_q(v.src)}")
    if t.body is not None:
        w(f"    body {_q(t.body.src)}")
    if t.timeout_ms != 5000:
        w(f"    timeout {duration(t.timeout_ms)}")
    if t.retries:
        w(f"    retries {t.retries}")
    for k, v in t.response:
        w(f"    response {k} = {_q(v)}")
    if t.on_error:
        w(f"    on_error {t.on_error}")


def _action_flow(a, w, ind: str) -> None:
    if isinstance(a, ir.SetAction):
        w(f"{ind}set {a.name} = {a.value.src}")
    elif isinstance(a, ir.CallAction):
        args = f"({', '.join(f'{k} = {v.src}' for k, v in a.args)})" if a.args else ""
        w(f"{ind}call {a.tool}{args}" + (f" into {a.into}" if a.into else ""))
    elif isinstance(a, ir.SayAction):
        w(f"{ind}say {_q(a.text.src)}")
    elif isinstance(a, ir.OutcomeAction):
        w(f"{ind}outcome {a.outcome}")
    elif isinstance(a, ir.TransferAction):
        w(f"{ind}transfer {_q(a.to.src)}")
    elif isinstance(a, ir.EndAction):
        w(f"{ind}end" + (f" {a.outcome}" if a.outcome else ""))
    elif isinstance(a, ir.SubFlowCall):
        args = f"({', '.join(f'{k} = {v.src}' for k, v in a.args)})" if a.args else ""
        into = f" into {a.into}" if a.into else ""
        w(f"{ind}call {a.flow}{args}{into}" + (f" -> {a.then}" if a.then else ""))
    elif isinstance(a, ir.ReturnAction):
        values = ", ".join(f"{k} = {v.src}" for k, v in a.values)
        w(f"{ind}return" + (f"({values})" if a.values else ""))


def _transition_flow(t, w, ind: str) -> None:
    arrow = f" -> {t.target}" if t.target else ""
    if isinstance(t, ir.IntentTransition):
        w(f"{ind}on {t.name} {_q(t.description)}{arrow}")
    elif isinstance(t, ir.WhenTransition):
        w(f"{ind}when {t.condition.src}{arrow}")
    elif isinstance(t, ir.DtmfTransition):
        w(f"{ind}on dtmf {_q(t.digits)}{arrow}")
    elif isinstance(t, ir.ToolErrorTransition):
        w(f"{ind}on tool_error" + (f" {t.tool}" if t.tool else "") + arrow)
    elif isinstance(t, ir.FailuresTransition):
        w(f"{ind}on failures max {t.max}{arrow}")
    elif isinstance(t, ir.ClarifyTransition | ir.ChitchatTransition):
        wording = " off" if t.off else (f" {_q(t.say.src)}" if t.say else "")
        w(f"{ind}on {t.kind}{wording}{arrow}")
    else:
        head = (
            f"on silence {duration(t.after_ms)}"
            if isinstance(t, ir.SilenceTransition)
            else "on no_match"
        )
        rep = f" reprompt {_q(t.reprompt.src)}" if t.reprompt else ""
        count = t.max_reprompts if isinstance(t, ir.SilenceTransition) else t.max_retries
        w(f"{ind}{head}{rep}" + (f" max {count}" if count else "") + arrow)
    if isinstance(t, ir.IntentTransition):
        if t.examples:
            w(f"{ind}  examples {', '.join(_q(e) for e in t.examples)}")
        for p in t.params:
            w(f"{ind}  param {_field(p)}")
    if t.actions:
        w(f"{ind}  do")
        for a in t.actions:
            _action_flow(a, w, ind + "    ")


_DEFERRED = ir.EndAction | ir.TransferAction | ir.SubFlowCall | ir.ReturnAction
"""Entry actions the engine runs after the node's say lines."""


def _node_flow(n: ir.Node, w) -> None:
    w(f"  node {n.name}")
    if n.description:
        w(f"    description {_q(n.description)}")
    # Printed in the order the engine runs a node entry: actions, then say lines, then the
    # deferred end/transfer (see runtime.engine); the IR keeps say and on_enter apart.
    has_say_action = any(isinstance(a, ir.SayAction) for a in n.on_enter)
    cut = next(
        (i for i, a in enumerate(n.on_enter) if isinstance(a, _DEFERRED)),
        len(n.on_enter),
    )
    if not has_say_action:
        for a in n.on_enter[:cut]:
            _action_flow(a, w, "    ")
    for s in n.say:
        w(f"    say {_q(s.src)}")
    if n.task is not None:
        w(f"    task {_q(n.task.src)}")
    if n.tools:
        w(f"    tools {', '.join(n.tools)}")
    if n.turn is not None:
        w("    turn")
        for key, value in turn_entries(n.turn):
            w(f"      {key} {value}")
    for s in n.collect:
        desc = f" {_q(s.description)}" if s.description else ""
        w(f"    collect {s.name}: {s.type}{'' if s.required else '?'}{desc}")
        if s.prompt is not None:
            w(f"      prompt {_q(s.prompt.src)}")
        if s.validate is not None:
            w(f"      validate {s.validate.src}")
        if s.invalid is not None:
            w(f"      invalid {_q(s.invalid.src)}")
        if s.max_asks != 3:
            w(f"      max_asks {s.max_asks}")
        if s.on_change is not None:
            w(f"      on_change {s.on_change}")
    if has_say_action:
        w("    enter")
        for a in n.on_enter:
            _action_flow(a, w, "      ")
    else:
        for a in n.on_enter[cut:]:
            _action_flow(a, w, "    ")
    for t in n.transitions:
        _transition_flow(t, w, "    ")
    if not (
        n.say
        or n.task
        or n.collect
        or n.tools
        or n.on_enter
        or n.transitions
        or n.description
        or n.turn
    ):
        w('    description ""')


def contact_columns(src: ir.ContactsSource) -> list[tuple[str, str | None]]:
    """The contacts file's columns that differ from the defaults, as ``(key, column)``."""
    return [
        (key, value)
        for key, value, default in (
            ("phone", src.phone_column, "phone"),
            ("timezone", src.timezone_column, "timezone"),
            ("id", src.id_column, "id"),
            ("name", src.name_column, "first_name"),
        )
        if value != default
    ]


def _campaign_flow(c: ir.Campaign, w) -> None:
    w(f"campaign {c.name}")
    src = c.contacts
    w(f"  contacts {src.kind} {_q(src.location)}")
    for key, value in contact_columns(src):
        w(f"    {key} {'none' if value is None else _ident_or_q(value)}")
    if src.default_region != "US":
        w(f"    region {src.default_region}")
    for win in c.windows:
        w(f"  window {days(win.days)} {win.start}-{win.end} local")
    if c.holidays.countries:
        w(f"  holidays {', '.join(c.holidays.countries)}")
    if c.holidays.dates:
        w(f"  holiday {', '.join(c.holidays.dates)}")
    p = c.pacing
    if p != ir.Pacing():
        opts = [f"concurrent {p.max_concurrent}"]
        if p.per_minute is not None:
            opts.append(f"per_minute {p.per_minute}")
        if p.ramp_start is not None:
            opts.append(f"ramp {p.ramp_start} step {p.ramp_step} every {duration(p.ramp_every_ms)}")
        w(f"  pacing {' '.join(opts)}")
    if c.amd != "hangup" or c.amd_node:
        w(f"  amd {c.amd}" + (f" {c.amd_node}" if c.amd_node else ""))
    if c.caller_id:
        w(f"  caller_id {_q(c.caller_id)}")
    if c.max_attempts != 5:
        w(f"  max_attempts {c.max_attempts}")
    if c.ring_timeout_ms != 30_000:
        w(f"  ring_timeout {duration(c.ring_timeout_ms)}")
    for r in c.rules:
        if r.action == "retry":
            w(f"  on {r.outcome} retry after {duration(r.delay_ms or 0)} max {r.max_attempts}")
        else:
            w(f"  on {r.outcome} {r.action}")


# --- YAML ------------------------------------------------------------------------------------------
