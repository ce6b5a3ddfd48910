"""Request and response bodies of the REST API (they define its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class Problem(BaseModel):
    code: str
    message: str


class DiagnosticOut(BaseModel):
    file: str
    line: int
    col: int
    code: str
    severity: str
    message: str
    hint: str = ""


class CampaignCreate(BaseModel):
    source: str = Field(description="The flow file's text (it must have a campaign section)")
    syntax: Literal["flow", "yaml"] = "flow"
    name: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$",
        description="Campaign name; defaults to the flow's campaign name",
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


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    ready: bool
    checks: dict[str, str]


class KnowledgeDocumentIn(BaseModel):
    text: str = Field(min_length=1, max_length=2_000_000)
    title: str = ""
    source: str = ""
    metadata: dict[str, Any] = Field(default_factory=dict)


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
