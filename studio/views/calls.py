"""Calls: the list, and one call's transcript, recording, cost, tool calls, and node path drawn
on the graph of the exact flow version it ran (fetched from the API by hash)."""

from __future__ import annotations

import json
from urllib.parse import quote

import streamlit as st

from dsl import ir
from studio import calls_filter, ui
from studio.graph import flow_dot

st.title("Calls")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")


def flow_for(flow_hash: str | None) -> tuple[ir.Flow | None, str | None]:
    """The flow version a call ran, from the API (``GET /flows/{hash}``), and its file name."""
    if flow_hash is None:
        return None, None
    try:
        version = api.get(f"/flows/{quote(flow_hash, safe='')}")
    except ui.ApiError as exc:
        if exc.status != 404:
            st.error(str(exc))
        return None, None
    except ui.ApiUnavailable as exc:
        st.error(str(exc))
        return None, None
    return ir.Flow.from_json(json.dumps(version["ir"])), version["source_name"]


def money(value: float | None) -> str:
    return "—" if value is None else f"${value:.4f}"


ALL = "All"
facets = ui.api_call(lambda: api.get("/calls/facets"))
if facets is None:
    st.stop()
filters = st.columns([2, 2, 2, 2])
campaign = filters[0].selectbox("Campaign", [ALL, *facets["campaigns"]])
outcome = filters[1].selectbox("Outcome", [ALL, *facets["outcomes"]])
days = filters[2].date_input("Started between (UTC)", value=(), format="YYYY-MM-DD")
phone = filters[3].text_input("Phone contains", placeholder="5550100").strip()
since, before = calls_filter.day_range(days)
chosen = campaign != ALL or outcome != ALL or since is not None or bool(phone)
calls = ui.api_call(
    lambda: api.get(
        "/calls",
        campaign=None if campaign == ALL else campaign,
        outcome=None if outcome == ALL else outcome,
        since=since,
        before=before,
        phone=phone or None,
        limit=200,
    )
)
if calls is None:
    st.stop()
if not calls:
    st.info("No calls match these filters." if chosen else "No calls yet.")
    st.stop()

st.dataframe(
    [
        {
            "started": c["started_at"],
            "campaign": c["campaign"],
            "phone": c["phone"],
            "outcome": c["outcome"],
            "turns": c["turns"],
            "seconds": None if c["duration_ms"] is None else c["duration_ms"] / 1000,
            "cost (USD)": c["cost_usd"],
            "id": c["id"],
        }
        for c in calls
    ],
    hide_index=True,
)
labels = {calls_filter.label(c): c["id"] for c in calls}
call_id = labels[st.selectbox("Call", list(labels))]
call = ui.api_call(lambda: api.get(f"/calls/{quote(call_id, safe='')}"))
if call is None:
    st.stop()

cols = st.columns(5)
cols[0].metric("Outcome", call["outcome"] or "—")
cols[1].metric("Seconds", "—" if call["duration_ms"] is None else call["duration_ms"] / 1000)
cols[2].metric("Turns", call["turns"])
cols[3].metric("Provider", call["provider"] or "—")
cols[4].metric("Cost", money(call["cost_usd"]))
if call["error"]:
    st.error(call["error"])

st.subheader("Recording")
if call["recording_url"]:
    wav = ui.api_call(lambda: api.raw(call["recording_url"]))
    if wav is not None:
        st.audio(wav, format="audio/wav")
        st.caption("Stereo: the caller on the left, the agent on the right.")
else:
    st.caption("Not recorded (recording off, or the call had no media).")
if call["usage"]:
    with st.expander("Provider usage"):
        st.dataframe(
            [{"provider": name, **usage} for name, usage in call["usage"].items()],
            hide_index=True,
        )

talk_col, graph_col = st.columns(2)
with talk_col:
    st.subheader("Transcript")
    for turn in call["transcript"]:
        if turn["role"] not in ("caller", "agent"):  # events and tool runs, between the turns
            st.caption(f"· {turn['text']}")
            continue
        role = "user" if turn["role"] == "caller" else "assistant"
        with st.chat_message(role):
            st.write(turn["text"])
            if turn["node"]:
                st.caption(f"node {turn['node']}")
    st.subheader("Tool calls")
    if call["tool_calls"]:
        st.dataframe(
            [
                {
                    "tool": t["name"],
                    "node": t["node"],
                    "arguments": str(t["arguments"]),
                    "result": str(t["result"]) if t["error"] is None else f"error: {t['error']}",
                }
                for t in call["tool_calls"]
            ],
            hide_index=True,
        )
    else:
        st.caption("none")
with graph_col:
    st.subheader("Node path")
    path = call["node_path"]
    st.write(" → ".join(path) or "—")
    flow, source_name = flow_for(call["flow_hash"])
    if flow is not None:
        st.graphviz_chart(flow_dot(flow, current=path[-1] if path else None, path=path))
        st.caption(f"flow {flow.agent.name} · {source_name or call['flow_hash']}")
    else:
        st.caption("The call has no stored flow version to draw.")
