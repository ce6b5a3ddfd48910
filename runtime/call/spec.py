"""What defines one call, whichever entry point runs it: the flow, who is called, when.

A :class:`CallSpec` is plain data: the ``converse`` activity builds it from its Temporal input,
the studio from the designer's form, ``voxflow chat`` from the command line, the conversation
tests from a test file. :class:`CallServices` are what the call's tools reach. Both go to
``runtime.call.assemble``, the one place a call is put together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from dsl.ir import Flow
from runtime.engine.limits import Limits
from runtime.knowledge import KnowledgeBase
from runtime.persistence import Persistence


@dataclass(frozen=True)
class CallSpec:
    """One call of ``flow``."""

    flow: Flow
    call_id: str
    """The attempt id of a phone call (also its AudioSocket UUID), or any id of a test call."""
    now: datetime
    """The call's start, aware; the engine's clock starts there."""
    contact: Mapping[str, object] = field(default_factory=dict)
    """The contact's columns, readable by the flow as ``contact.<name>``."""
    campaign: Mapping[str, object] = field(default_factory=dict)
    """Values readable as ``campaign.<name>`` (``name``, ``contact_id``...)."""
    tz: str | None = None
    """The contact's time zone; default ``contact.timezone``, else the agent's."""
    start_node: str | None = None
    """Enter this node instead of the flow's start (the campaign's ``amd_node``)."""
    closed_dates: tuple[str, ...] = ()
    """Local dates nobody is called on (callbacks are not scheduled there)."""
    limits: Limits | None = None


@dataclass(frozen=True)
class CallServices:
    """What the call's tools reach."""

    persistence: Persistence
    """Where opt-outs and callbacks are written."""
    knowledge: KnowledgeBase | None = None
    """What ``knowledge_search`` searches; ``None``: the tool answers that there is none."""
    environ: Mapping[str, str] = field(default_factory=dict)
    """What HTTP tools' templates read as ``env.NAME`` (secrets): the worker passes its
    process environment, conversation tests pass nothing."""
