"""Calls: list calls; a call's transcript, node path on the graph, recording, tool calls, cost."""

from __future__ import annotations

import streamlit as st

from dsl import ir
from studio import ui
from studio.graph import flow_dot

st.title("Calls")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")

calls = ui.api_call(lambda: api.get("/calls"))
if calls is None:
    st.stop()
if not calls:
    st.info("No calls yet.")
    st.stop()

st.dataframe(calls, hide_index=True)
ids = [str(c["id"]) for c in calls]
call_id = st.selectbox("Call", ids)
call = ui.api_call(lambda: api.get(f"/calls/{call_id}"))
if call is None:
    st.stop()

cols = st.columns(3)
cols[0].metric("Outcome", call.get("outcome") or "—")
cols[1].metric("Duration (s)", call.get("duration_s") or 0)
cols[2].metric("Cost", call.get("cost") if call.get("cost") is not None else "—")

transcript_col, graph_col = st.columns([1, 1])
with transcript_col:
    st.subheader("Transcript")
    for turn in call.get("transcript", []):
        role = "assistant" if turn.get("role") in ("agent", "assistant") else "user"
        with st.chat_message(role):
            st.write(turn.get("text", ""))
    st.subheader("Tool calls")
    st.json(call.get("tool_calls", []))
with graph_col:
    st.subheader("Node path")
    path = [step["node"] if isinstance(step, dict) else step for step in call.get("node_path", [])]
    st.write(" → ".join(path) or "—")
    if call.get("flow_ir"):
        flow = ir.Flow.from_json(call["flow_ir"])
        st.graphviz_chart(flow_dot(flow, current=path[-1] if path else None, path=path))
    if call.get("recording_url"):
        st.subheader("Recording")
        st.audio(api.raw(call["recording_url"]), format="audio/wav")
