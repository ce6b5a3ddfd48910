"""Rules about conversation repair that cannot work as written: corrections, clarification.

What a correction re-runs comes from ``dsl.dependencies`` (the same analysis the engine uses).
"""

from __future__ import annotations

from collections.abc import Iterator

from dsl import ir
from dsl.dependencies import node_sets, slot_readers
from dsl.diagnostics import Diagnostic
from dsl.rules.context import RuleContext

PSEUDO_FUNCTIONS = ("provide_slots", "no_match", "clarify", "chitchat")
"""Functions the engine offers the model itself (``runtime.engine.events``)."""


def reserved_intent(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF409: an intent named like a function the engine offers the model itself."""
    for path, _, t in ctx.transitions():
        if isinstance(t, ir.IntentTransition) and t.name in PSEUDO_FUNCTIONS:
            yield ctx.error(
                ctx.at(path),
                "VF409",
                f"intent {t.name!r} has the name of a function the engine offers the model",
                f"rename it (for example {t.name}_request); to handle the engine's {t.name}, "
                f"write on {t.name}",
            )


def _owner(agent: ir.Agent, node: str) -> str | None:
    return next((f.name for f in agent.subflows if f.owns(node)), None)


def rerun_reads_nothing(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF416 (warning): ``on_change rerun`` on a slot that no node of its flow reads."""
    readers = slot_readers(ctx.agent)
    for node in ctx.agent.nodes:
        here = _owner(ctx.agent, node.name)
        for slot in node.collect:
            if slot.on_change != "rerun":
                continue
            if not any(
                slot.name in reads and _owner(ctx.agent, name) == here
                for name, reads in readers.items()
            ):
                yield ctx.warning(
                    ctx.at(("slot", slot.name)),
                    "VF416",
                    f"on_change rerun: no node reads slots.{slot.name}, so a correction has "
                    "nothing to run again",
                    f"read slots.{slot.name} where it matters (a say line, a call, a when), "
                    "or remove on_change",
                )


def _open_intents(agent: ir.Agent, node: ir.Node) -> int:
    return sum(
        isinstance(t, ir.IntentTransition) for t in (*node.transitions, *agent.global_transitions)
    )


def clarify_never_asked(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF417 (warning): an ``on clarify`` where fewer than two intents are ever open."""
    agent = ctx.agent
    for node in agent.nodes:
        for i, t in enumerate(node.transitions):
            if isinstance(t, ir.ClarifyTransition) and not t.off and _open_intents(agent, node) < 2:
                yield _never_asked(ctx, ("node", node.name, "tr", i), f"node {node.name!r}")
    for i, t in enumerate(agent.global_transitions):
        if isinstance(t, ir.ClarifyTransition) and not t.off:
            if not any(_open_intents(agent, n) >= 2 for n in agent.nodes):
                yield _never_asked(ctx, ("global", "tr", i), "any node")


def _never_asked(ctx: RuleContext, path: tuple, where: str) -> Diagnostic:
    return ctx.warning(
        ctx.at(path),
        "VF417",
        f"on clarify is never used: fewer than two intents are open in {where}, so there is "
        "never a choice to clarify",
        "remove it, or add the intents it chooses between",
    )


def rerun_undoes_correction(ctx: RuleContext) -> Iterator[Diagnostic]:
    """VF418 (warning): a correction would go back to a node whose entry sets the slot again.

    The node reads the slot, so a correction re-runs it, and its ``set`` overwrites the value
    the caller just gave.
    """
    agent = ctx.agent
    policy: dict[str, str | None] = {}
    for node in agent.nodes:
        for slot in node.collect:
            policy.setdefault(slot.name, slot.on_change)
    readers = slot_readers(agent)
    for node in agent.nodes:
        reads = readers.get(node.name, frozenset())
        for name in sorted(reads & node_sets(node)):
            if (policy.get(name) or agent.on_change) != "rerun":
                continue
            yield ctx.warning(
                ctx.at(("node", node.name)),
                "VF418",
                f"node {node.name!r} reads slots.{name} and sets it on entry: a correction "
                "re-runs the node, which overwrites the corrected value",
                f"set slots.{name} in a transition's do instead, or write on_change keep on "
                "the slot",
            )
