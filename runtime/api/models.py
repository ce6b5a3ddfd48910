"""Request and response bodies of the REST API (they define its OpenAPI schema)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runtime.api.board import BoardOut


class DiagnosticOut(BaseModel):
    file: str
    line: int
    col: int
    code: str
    severity: str
    message: str
    hint: str = ""


class Problem(BaseModel):
    """Every error the API answers: a stable ``code``, a ``message`` saying what happened and
    what to do, and for some codes the details below."""

    model_config = ConfigDict(extra="allow")

    code: str = Field(description="Stable, machine-readable: flow_invalid, forbidden...")
    message: str
    diagnostics: list[DiagnosticOut] | None = Field(
        default=None, description="flow_invalid: every diagnostic of the flow"
    )
    errors: list[dict[str, Any]] | None = Field(
        default=None, description="invalid_request: what does not match the schema, and where"
    )
    reasons: list[dict[str, Any]] | None = Field(
        default=None, description="contact_invalid: each field's problem"
    )


class CampaignCreate(BaseModel):
    source: str = Field(description="The flow file's text (it must have a campaign section)")
    syntax: Literal["flow", "yaml"] = "flow"
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
        description="Campaign name; defaults to the flow's campaign name",
    )
    source_name: str | None = Field(
        default=None, max_length=500, description="The flow's file name, kept with its version"
    )


class CampaignOut(BaseModel):
    name: str
    flow_hash: str
    status: str
    created_at: datetime
    updated_at: datetime


class CampaignStatus(CampaignOut):
    contacts: dict[str, int] = Field(description="Contacts by status")
    outcomes: dict[str, int] = Field(description="Finished attempts by outcome")
    workflow: dict[str, Any] | None = Field(
        default=None, description="Live progress from the campaign workflow, when reachable"
    )
    workflow_error: str | None = None
    board: BoardOut | None = Field(
        default=None, description="Each contact's state, local times, the window's next opening"
    )


class IssueOut(BaseModel):
    code: str
    message: str
    column: str | None = None


class RejectedRowOut(BaseModel):
    row: int
    reasons: list[IssueOut]
    cells: dict[str, str]


class RowWarningOut(BaseModel):
    row: int
    code: str
    message: str


class ImportOut(BaseModel):
    campaign: str
    rows: int
    imported: int
    rejected: list[RejectedRowOut]
    already_in_campaign: list[RejectedRowOut]
    blank_rows: list[int]
    warnings: list[RowWarningOut]


class TurnOut(BaseModel):
    seq: int
    role: str
    text: str
    node: str | None
    at: datetime | None


class ToolCallOut(BaseModel):
    tool_call_id: str
    name: str
    node: str | None
    arguments: dict[str, Any]
    result: Any
    error: str | None


class CallOut(BaseModel):
    id: str
    direction: str
    campaign: str | None
    contact: str | None
    phone: str | None
    started_at: datetime
    ended_at: datetime | None
    outcome: str | None
    node_path: list[str]
    turns: int
    duration_ms: int | None
    usage: dict[str, Any] = Field(
        default_factory=dict,
        description="Provider usage by provider name: tokens, audio ms and cost_usd as reported",
    )
    cost_usd: float | None = Field(
        default=None, description="Estimated provider cost (list prices); null when unreported"
    )
    recording_url: str | None = Field(
        default=None, description="Where to fetch the call's stereo WAV; null when not recorded"
    )


class CallFacets(BaseModel):
    campaigns: list[str] = Field(description="Campaigns (and test call ids) with calls")
    outcomes: list[str] = Field(description="Outcomes calls ended with")


class CallDetailOut(CallOut):
    flow_hash: str | None
    provider: str | None
    error: str | None
    transcript: list[TurnOut]
    tool_calls: list[ToolCallOut]


class DncIn(BaseModel):
    reason: str = ""


class DncOut(BaseModel):
    phone: str
    reason: str
    source: str
    campaign: str | None
    contact: str | None
    call_id: str | None
    created_at: datetime


class BreakerOut(BaseModel):
    provider: str
    state: Literal["closed", "open", "half_open"]
    failures: int
    opened_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


class KnowledgeDocumentIn(BaseModel):
    text: str = Field(min_length=1, max_length=2_000_000)
    title: str = Field(default="", max_length=500)
    source: str = Field(default="", max_length=2000)
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Labels kept with the document: at most 8 levels deep and 16 KiB as JSON",
    )

    @field_validator("metadata")
    @classmethod
    def _metadata_within_limits(cls, value: dict[str, Any]) -> dict[str, Any]:
        from runtime.db.knowledge import metadata_problem

        problem = metadata_problem(json.dumps(value))
        if problem is not None:
            raise ValueError(problem)
        return value


class RepairOut(BaseModel):
    collection: str
    repaired: list[int] = Field(description="Documents whose metadata was replaced by a note")


class KnowledgeDocumentOut(BaseModel):
    id: int
    title: str
    source: str
    metadata: dict[str, Any]
    created_at: datetime
    chunks: int


class PassageOut(BaseModel):
    text: str
    score: float
    source: str
    metadata: dict[str, Any]


class FlowVersionOut(BaseModel):
    hash: str
    agent: str
    ir: dict[str, Any] = Field(description="The IR as JSON (dsl.ir.Flow.from_json reads it)")
    created_at: datetime
    source_name: str | None = Field(default=None, description="File it came from, when known")


class NodeHeatOut(BaseModel):
    node: str
    visits: int = Field(description="Entries into the node")
    calls: int = Field(description="Calls that entered the node at least once")
    drop_offs: int = Field(description="Calls in which the caller hung up while in the node")
    drop_off_rate: float = Field(description="drop_offs / calls")
    no_matches: int = Field(description="Answers that matched nothing")
    no_match_rate: float = Field(description="no_matches / visits")
    silences: int = Field(description="Silences the node reacted to")
    reprompts: int = Field(description="Times the agent asked again")
    reprompt_rate: float = Field(description="reprompts / visits")
    timed_visits: int = Field(description="Visits whose length is known (stored since 0008)")
    mean_ms: float | None = Field(description="Mean stay in the node, over timed_visits")


class EdgeHeatOut(BaseModel):
    source: str
    target: str
    count: int = Field(description="Times a call went from source to target")


class HeatMapOut(BaseModel):
    flow: str = Field(description="The agent's name")
    flow_hash: str | None = Field(
        description="The version to draw: the campaign's, else that of the latest call counted,"
        " else the newest stored"
    )
    versions: dict[str, int] = Field(description="Calls counted per flow version")
    campaign: str | None
    since: datetime | None
    until: datetime | None
    calls: int = Field(description="Finished calls counted")
    answered: int = Field(description="Calls that entered at least one node")
    nodes: list[NodeHeatOut] = Field(description="Every node a counted call entered, by visits")
    edges: list[EdgeHeatOut] = Field(description="Transitions taken, most taken first")


class ChunkOut(BaseModel):
    seq: int = Field(description="Position of the chunk in its document, from 0")
    text: str
    chars: int
    tokens: int = Field(description="Word tokens (\\w+), as the offline embedder splits text")
    model: str = Field(description="The embedder that embedded the chunk")


class DocumentChunksOut(BaseModel):
    document: KnowledgeDocumentOut
    collection: str
    total: int = Field(description="Chunks matching the filter, over all pages")
    offset: int
    limit: int
    chunks: list[ChunkOut]


class PhoneCallCreate(BaseModel):
    flow_hash: str | None = Field(default=None, description="A stored flow version to run")
    source: str | None = Field(default=None, description="Or the flow file's text")
    syntax: Literal["flow", "yaml"] = "flow"
    source_name: str | None = Field(default=None, max_length=500, description="Its file name")
    phone: str = Field(description="The number to call, E.164 (+ and country code)")
    contact: dict[str, str] = Field(
        default_factory=dict, description="The contact's columns, read as contact.<name>"
    )
    timezone: str | None = Field(
        default=None, description="IANA zone of the callee; default: derived from the number"
    )
    call_now: bool = Field(
        default=False,
        description="Dial now even when the calling windows are closed (operator and admin"
        " keys only; recorded with the attempt as its window_override)",
    )


class PhoneCallOut(BaseModel):
    id: str = Field(description="The test call's id; its calls list under ?campaign=<id>")
    workflow_id: str
    flow_hash: str
    phone: str
    timezone: str
    status: Literal["dialing", "scheduled"]
    scheduled_at: datetime | None = Field(
        default=None, description="When the calling window opens, if it is closed now"
    )
    window_override: str | None = Field(
        default=None, description="Who asked to dial outside the windows (call_now); null if not"
    )
    calls_url: str


class PhoneAttemptOut(BaseModel):
    id: str
    number: int
    status: str
    outcome: str | None
    dialed_at: datetime
    window_override: str | None = Field(
        default=None, description="Who had this attempt dialled outside the calling windows"
    )


class PhoneCallStatus(BaseModel):
    id: str
    workflow_id: str
    workflow_status: str = Field(description="RUNNING, COMPLETED, FAILED... (Temporal)")
    contact_status: str | None = Field(default=None, description="pending, scheduled, dialing...")
    next_at: datetime | None = None
    outcome: str | None = None
    attempts: list[PhoneAttemptOut] = Field(default_factory=list)
    calls: list[CallOut]
