"""The Test call page's phone section: one real call through ``POST /calls``, to a number or
to one of the simulated PBX's scripted callees, with its live transcript and outcome.

The call runs like any campaign call (calling windows, do-not-call at dial time); the studio
only sends the flow, the number and the contact's fields, then polls ``GET /calls/tests/{id}``
and ``GET /calls/{call_id}`` while the call lasts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import streamlit as st
import yaml

from runtime.settings import Settings
from studio import contact as contact_form
from studio import flowfiles, ui
from studio.api import ApiClient
from studio.config import StudioConfig
from telephony.sim.scenarios import Callee, ScenarioError, Scenarios, load_scenarios

CURRENT = "studio.test_call.phone"
POLL_S = 2
_RESULTS = {
    "busy": "is busy",
    "no_answer": "rings until the timeout, never answers",
    "congestion": "network congestion",
    "rejected": "rejects the call while it rings",
    "failed": "the number fails (unallocated)",
}


def _quote(text: str, limit: int = 48) -> str:
    return f"“{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def describe_callee(callee: Callee) -> str:
    """A one-line summary of a scripted callee, e.g. ``answers after 2 rings, says “Hello?”``."""
    if callee.result != "answer":
        return _RESULTS[callee.result]
    rings = callee.answer_after_rings
    parts = [f"answers after {rings} ring{'s' if rings != 1 else ''}"]
    if callee.amd == "machine" or callee.greeting is not None:
        parts.append("voicemail box" + (f" {_quote(callee.greeting)}" if callee.greeting else ""))
    for step in callee.script:
        match step.kind:
            case "say":
                parts.append(f"says {_quote(step.text)}")
            case "listen":
                parts.append("listens")
            case "dtmf":
                parts.append(f"presses {step.text}")
            case "wait":
                parts.append(f"waits {step.ms / 1000:g} s")
            case "hangup":
                parts.append("hangs up")
    if not callee.script and callee.amd != "machine" and callee.greeting is None:
        parts.append("stays silent")
    return ", ".join(parts)


def simulated_callees(settings: Settings) -> tuple[Scenarios | None, str | None]:
    """The simulated PBX's callees when the stack names its scenarios file
    (``VOXFLOW_SIM_SCENARIOS``); else ``(None, why not)``."""
    path = settings.sim_scenarios
    if path is None:
        return None, None
    try:
        return load_scenarios(path), None
    except (OSError, ScenarioError, ValueError) as exc:
        return None, f"cannot read the simulated callees from {path}: {exc}"


def _flows(folder: Path) -> list[tuple[Path, Any]]:
    """Flow files with a campaign section that compile (a test call dials like a campaign)."""
    out = []
    for path in flowfiles.list_flows(folder):
        flow = flowfiles.compile_text(path.read_text(encoding="utf-8"), str(path)).flow
        if flow is not None and flow.campaign is not None:
            out.append((path, flow))
    return out


def _choose_number(settings: Settings) -> str:
    scenarios, problem = simulated_callees(settings)
    if problem:
        st.warning(problem)
    if scenarios is None or not scenarios.numbers:
        return st.text_input("Number to call (E.164)", placeholder="+12125550123").strip()
    kind = st.radio("Call", ["A simulated callee", "A number"], horizontal=True)
    if kind == "A number":
        return st.text_input("Number to call (E.164)", placeholder="+12125550123").strip()
    labels = {
        f"{number}: {describe_callee(callee)}": number
        for number, callee in scenarios.numbers.items()
    }
    st.caption(f"Any other number: {describe_callee(scenarios.default)}.")
    return labels[st.selectbox("Simulated callee", list(labels))]


def _place(api: ApiClient, body: dict[str, Any]) -> None:
    try:
        placed = api.post("/calls", json=body)
    except (ui.ApiError, ui.ApiUnavailable) as exc:
        st.error(f"Could not place the call: {exc}")
        reasons = getattr(exc, "body", None)
        detail = reasons.get("detail", reasons) if isinstance(reasons, dict) else None
        for reason in (detail or {}).get("reasons", []) if isinstance(detail, dict) else []:
            st.caption(f"{reason.get('field') or 'contact'}: {reason['message']}")
        return
    st.session_state[CURRENT] = placed


def _edited(path: Path, name: str) -> None:
    """A field typed here becomes the contact Test chat uses too."""
    contact = contact_form.values_of(path)
    contact[name] = st.session_state[f"phone.contact.{name}::{path}"]
    contact_form.remember(path, yaml.safe_dump(contact, sort_keys=False))


def render(cfg: StudioConfig, api: ApiClient) -> None:
    st.subheader("Phone test call")
    st.caption(
        "Places one real call through the API (no campaign), like a campaign would: the "
        "flow's calling windows and the do-not-call list apply, unless you ask to call now. "
        "A test call is never retried."
    )
    flows = _flows(cfg.flows_dir)
    if not flows:
        st.info(f"No flow with a campaign section compiles in {cfg.flows_dir.resolve()}.")
        return
    labels = [str(p.relative_to(cfg.flows_dir)) for p, _ in flows]
    path, flow = flows[labels.index(st.selectbox("Flow", labels, key="phone.flow"))]
    defaults = contact_form.values_of(path)  # as last edited here or on Test chat
    phone = _choose_number(cfg.settings)
    source = flow.campaign.contacts
    skip = {source.phone_column, source.id_column, source.timezone_column}
    fields = [f for f in flow.agent.context if f.name not in skip]
    contact: dict[str, str] = {}
    for col, field in zip(st.columns(max(len(fields), 1)), fields, strict=False):
        contact[field.name] = col.text_input(
            f"{field.name} ({field.type})",
            value=str(defaults.get(field.name, "")),
            key=f"phone.contact.{field.name}::{path}",
            on_change=_edited,
            args=(path, field.name),
        )
    timezone = st.text_input("Callee's time zone (blank: from the number)").strip()
    call_now = st.checkbox(
        "Call now, even if the calling window is closed",
        help="For test calls only; operator and admin keys. The attempt records who asked.",
    )
    if st.button("Place test call", type="primary", disabled=not phone):
        typed = {k: v for k, v in contact.items() if v}
        if contact_form.show(
            [p for p in contact_form.problems(flow, typed, sorted(skip - {None})) if p.blocking]
        ):
            return
        body = {
            "source": path.read_text(encoding="utf-8"),
            "syntax": flowfiles.syntax_of(path),
            "source_name": str(path.relative_to(cfg.flows_dir)),
            "phone": phone,
            "contact": typed,
            "timezone": timezone or None,
            "call_now": call_now,
        }
        _place(api, body)
    placed = st.session_state.get(CURRENT)
    if placed:
        _live(api, placed)


def _live(api: ApiClient, placed: dict[str, Any]) -> None:
    when = (
        f"scheduled for {placed['scheduled_at']} (the calling window is closed now)"
        if placed["status"] == "scheduled"
        else "dialling now"
    )
    if placed.get("window_override"):
        when += f", outside the calling windows ({placed['window_override']})"
    st.markdown(f"**{placed['id']}** · {placed['phone']} · {when}")
    if placed["status"] == "scheduled" and st.button("Cancel this test call"):
        cancelled = ui.api_call(lambda: api.delete(f"/calls/tests/{quote(placed['id'], safe='')}"))
        if cancelled is not None:
            st.session_state.pop(CURRENT, None)
            st.success(
                f"Test call {placed['id']} cancelled before it dialled"
                f" (contact {cancelled['contact_status']})."
            )
        return

    @st.fragment(run_every=POLL_S)
    def live() -> None:
        status = ui.api_call(lambda: api.get(f"/calls/tests/{quote(placed['id'], safe='')}"))
        if status is None:
            return
        st.caption(
            f"workflow {status['workflow_status']} · contact {status['contact_status']}"
            f" · outcome {status['outcome'] or '—'}"
        )
        if not status["calls"]:
            st.caption("No call yet (ringing, not answered, or waiting for the calling window).")
            return
        call = ui.api_call(lambda: api.get(f"/calls/{quote(status['calls'][0]['id'], safe='')}"))
        if call is None:
            return
        path = call["node_path"] or [
            t["text"].removeprefix("entered ")
            for t in call["transcript"]
            if t["role"] == "event" and t["text"].startswith("entered ")
        ]
        st.caption(
            f"call {call['id']} · outcome {call['outcome'] or 'in progress'}"
            f" · path {' → '.join(path) or '—'}"
        )
        for turn in call["transcript"]:
            if turn["role"] in ("caller", "agent"):
                role = "user" if turn["role"] == "caller" else "assistant"
                st.chat_message(role).write(turn["text"])

    live()
