"""Write a compiled flow as YAML (``voxflow fmt --to yaml``); the ``.flow`` writer and the
shared helpers are in ``dsl/format.py``.

The data is generated from the IR, like the ``.flow`` text, so converting a flow to the other
syntax and back gives the same IR and hash.
"""

from __future__ import annotations

import yaml

from dsl import ir
from dsl.format import (
    contact_columns,
    days,
    duration,
    imports_by_file,
    local_nodes,
    main_nodes,
    turn_entries,
)


def to_data(flow: ir.Flow) -> dict:
    """The flow as the plain data of a ``*.flow.yaml`` document (see ``dsl.schema``)."""
    a = flow.agent
    agent: dict = {"name": a.name, "persona": a.persona.src}
    if a.timezone != "UTC":
        agent["timezone"] = a.timezone
    ctx = {}
    if a.context:
        ctx["contact"] = {f.name: _field_data(f) for f in a.context}
    if a.campaign_context:
        ctx["campaign"] = {f.name: _field_data(f) for f in a.campaign_context}
    if ctx:
        agent["context"] = ctx
    if a.variables:
        agent["variables"] = {f.name: _field_data(f) for f in a.variables}
    if a.outcomes:
        agent["outcomes"] = list(a.outcomes)
    agent["start"] = a.start
    if a.fallback:
        agent["fallback"] = a.fallback
    if a.on_change != "rerun":
        agent["on_change"] = a.on_change
    p = a.provider
    if p != ir.ProviderSettings():
        prov: dict = {}
        if p.voice is not None:
            prov["voice"] = p.voice
        if p.voices:
            prov["voice"] = dict(p.voices)
        prov["language"] = p.language
        prov.update(_turn_data(p.turn, agent=True))
        if p.fallback:
            prov["fallback"] = list(p.fallback)
        if p.apology is not None:
            prov["apology"] = p.apology.src
        agent["provider"] = prov
    tools = {t.name: _tool_data(t) for t in a.tools if isinstance(t, ir.HttpTool)}
    if tools:
        agent["tools"] = tools
    for t in a.tools:
        if isinstance(t, ir.KnowledgeTool):
            agent["knowledge"] = {"collection": t.collection, "top_k": t.top_k}
    if a.global_transitions:
        agent["global"] = [_transition_data(t) for t in a.global_transitions]
    if imports_by_file(a):
        agent["imports"] = imports_by_file(a)
    if any(sub.source is None for sub in a.subflows):
        agent["flows"] = {
            sub.name: _subflow_data(a, sub) for sub in a.subflows if sub.source is None
        }
    agent["nodes"] = {n.name: _node_data(n) for n in main_nodes(a)}
    doc: dict = {"agent": agent}
    if flow.campaign is not None:
        doc["campaign"] = _campaign_data(flow.campaign)
    return doc


class _Dumper(yaml.SafeDumper):
    """Writes ``on``/``off`` plain: ``dsl.yaml_loader`` reads keys as text, as YAML 1.2 does."""


_Dumper.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if not (k in "oO" and tag.endswith(":bool"))]
    for k, v in yaml.SafeDumper.yaml_implicit_resolvers.items()
}


def to_yaml(flow: ir.Flow, *, header: list[str] | None = None) -> str:
    """The flow in the ``*.flow.yaml`` syntax."""
    body = yaml.dump(to_data(flow), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join([*(header or []), body.rstrip("\n")]) + "\n"


def _subflow_data(a: ir.Agent, sub: ir.SubFlow) -> dict:
    d: dict = {}
    if sub.description:
        d["description"] = sub.description
    if sub.params:
        d["params"] = {f.name: _field_data(f) for f in sub.params}
    if sub.results:
        d["results"] = {f.name: _field_data(f) for f in sub.results}
    d["start"] = sub.start.removeprefix(sub.name + ".")
    d["nodes"] = {n.name: _node_data(n) for n in local_nodes(a, sub)}
    return d


def _field_data(f: ir.Field):
    short = f"{f.type}{'' if f.required else '?'}"
    if not f.description and f.default is None:
        return short
    d: dict = {"type": short}
    if f.description:
        d["description"] = f.description
    if f.default is not None:
        d["default"] = f.default.src
    return d


def _tool_data(t: ir.HttpTool) -> dict:
    d: dict = {"method": t.method, "url": t.url.src}
    if t.description:
        d["description"] = t.description
    if t.params:
        d["params"] = {p.name: _field_data(p) for p in t.params}
    if t.headers:
        d["headers"] = {k: v.src for k, v in t.headers}
    if t.body is not None:
        d["body"] = t.body.src
    if t.timeout_ms != 5000:
        d["timeout"] = duration(t.timeout_ms)
    if t.retries:
        d["retries"] = t.retries
    if t.response:
        d["response"] = dict(t.response)
    if t.on_error:
        d["on_error"] = t.on_error
    return d


def _action_data(a) -> dict:
    if isinstance(a, ir.SetAction):
        return {"set": a.name, "value": a.value.src}
    if isinstance(a, ir.CallAction):
        d: dict = {"call": a.tool}
        if a.args:
            d["args"] = {k: v.src for k, v in a.args}
        if a.into:
            d["into"] = a.into
        return d
    if isinstance(a, ir.SayAction):
        return {"say": a.text.src}
    if isinstance(a, ir.OutcomeAction):
        return {"outcome": a.outcome}
    if isinstance(a, ir.TransferAction):
        return {"transfer": a.to.src}
    if isinstance(a, ir.SubFlowCall):
        d = {"call": a.flow}
        if a.args:
            d["args"] = {k: v.src for k, v in a.args}
        if a.into:
            d["into"] = a.into
        if a.then is not None:
            d["to"] = a.then
        return d
    if isinstance(a, ir.ReturnAction):
        return {"return": {k: v.src for k, v in a.values} if a.values else True}
    return {"end": a.outcome if a.outcome else True}


def _transition_data(t) -> dict:
    if isinstance(t, ir.IntentTransition):
        d: dict = {"intent": t.name, "description": t.description}
        if t.examples:
            d["examples"] = list(t.examples)
        if t.params:
            d["params"] = {p.name: _field_data(p) for p in t.params}
    elif isinstance(t, ir.WhenTransition):
        d = {"when": t.condition.src}
    elif isinstance(t, ir.DtmfTransition):
        d = {"dtmf": t.digits}
    elif isinstance(t, ir.ToolErrorTransition):
        d = {"tool_error": t.tool if t.tool else True}
    elif isinstance(t, ir.FailuresTransition):
        d = {"failures": t.max}
    elif isinstance(t, ir.ClarifyTransition | ir.ChitchatTransition):
        d = {t.kind: False if t.off else (t.say.src if t.say else True)}
    else:
        if isinstance(t, ir.SilenceTransition):
            d, count = {"silence": duration(t.after_ms)}, t.max_reprompts
        else:
            d, count = {"no_match": True}, t.max_retries
        if t.reprompt is not None:
            d["reprompt"] = t.reprompt.src
        if count:
            d["max"] = count
    if t.target:
        d["to"] = t.target
    if t.actions:
        d["do"] = [_action_data(a) for a in t.actions]
    return d


def _node_data(n: ir.Node) -> dict | None:
    d: dict = {}
    if n.description:
        d["description"] = n.description
    if n.say:
        d["say"] = n.say[0].src if len(n.say) == 1 else [s.src for s in n.say]
    if n.task is not None:
        d["task"] = n.task.src
    if n.tools:
        d["tools"] = list(n.tools)
    if n.turn is not None:
        d["turn"] = _turn_data(n.turn)
    if n.collect:
        d["collect"] = {s.name: _slot_data(s) for s in n.collect}
    if n.on_enter:
        d["enter"] = [_action_data(a) for a in n.on_enter]
    if n.transitions:
        d["on"] = [_transition_data(t) for t in n.transitions]
    return d or None


def _turn_data(t: ir.TurnDetection, *, agent: bool = False) -> dict:
    return {
        key: t.vad_threshold if key == "vad_threshold" else text
        for key, text in turn_entries(t, agent=agent)
    }


def _slot_data(s: ir.Slot):
    short = f"{s.type}{'' if s.required else '?'}"
    d: dict = {"type": short}
    if s.description:
        d["description"] = s.description
    if s.prompt is not None:
        d["prompt"] = s.prompt.src
    if s.validate is not None:
        d["validate"] = s.validate.src
    if s.invalid is not None:
        d["invalid"] = s.invalid.src
    if s.max_asks != 3:
        d["max_asks"] = s.max_asks
    if s.on_change is not None:
        d["on_change"] = s.on_change
    return d if len(d) > 1 else short


def _campaign_data(c: ir.Campaign) -> dict:
    src = c.contacts
    contacts: dict = {src.kind: src.location}
    contacts.update(contact_columns(src))
    if src.default_region != "US":
        contacts["region"] = src.default_region
    d: dict = {"name": c.name, "contacts": contacts}
    d["windows"] = [{"days": days(w.days), "hours": f"{w.start}-{w.end}"} for w in c.windows]
    if c.holidays != ir.Holidays():
        hol: dict = {}
        if c.holidays.countries:
            hol["countries"] = list(c.holidays.countries)
        if c.holidays.dates:
            hol["dates"] = list(c.holidays.dates)
        d["holidays"] = hol
    p = c.pacing
    if p != ir.Pacing():
        pac: dict = {"concurrent": p.max_concurrent}
        if p.per_minute is not None:
            pac["per_minute"] = p.per_minute
        if p.ramp_start is not None:
            pac["ramp"] = {
                "start": p.ramp_start,
                "step": p.ramp_step,
                "every": duration(p.ramp_every_ms),
            }
        d["pacing"] = pac
    if c.amd != "hangup":
        d["amd"] = c.amd
    if c.amd_node:
        d["amd_node"] = c.amd_node
    if c.caller_id:
        d["caller_id"] = c.caller_id
    if c.max_attempts != 5:
        d["max_attempts"] = c.max_attempts
    if c.ring_timeout_ms != 30_000:
        d["ring_timeout"] = duration(c.ring_timeout_ms)
    if c.rules:
        d["rules"] = {
            r.outcome: {"retry": duration(r.delay_ms or 0), "max": r.max_attempts}
            if r.action == "retry"
            else r.action
            for r in c.rules
        }
    return d
