"""Calls: the list, and one call's transcript, node path on the graph, tool calls."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import streamlit as st

from dsl import ir
from studio import flowfiles, ui
from studio.graph import flow_dot

st.title("Calls")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url}")


@st.cache_data(show_spinner=False)
def _flow_by_hash(folder: str, stamp: tuple[tuple[str, float], ...]) -> dict[str, str]:
    """Hash -> IR JSON of every flow file that compiles; ``stamp`` invalidates on edits."""
    out = {}
    for name, _ in stamp:
        path = Path(name)
        flow = flowfiles.compile_text(path.read_text(encoding="utf-8"), str(path)).flow
        if flow is not None:
            out[flow.hash] = flow.to_json()
    return out


def flow_for(flow_hash: str | None) -> ir.Flow | None:
    """The flow a call ran, found among the local flow files by its content hash."""
    if flow_hash is None:
        return None
    paths = flowfiles.list_flows(cfg.flows_dir)
    known = _flow_by_hash(str(cfg.flows_dir), tuple((str(p), p.stat().st_mtime) for p in paths))
    return ir.Flow.from_json(known[flow_hash]) if flow_hash in known else None


filters = st.columns(2)
campaign = filters[0].text_input("Campaign") or None
outcome = filters[1].text_input("Outcome") or None
calls = ui.api_call(lambda: api.get("/calls", campaign=campaign, outcome=outcome, limit=200))
if calls is None:
    st.stop()
if not calls:
    st.info("No calls yet.")
    st.stop()

st.dataframe(
    [
        {
            "id": c["id"],
            "started": c["started_at"],
            "campaign": c["campaign"],
            "phone": c["phone"],
            "outcome": c["outcome"],
            "turns": c["turns"],
            "seconds": None if c["duration_ms"] is None else c["duration_ms"] / 1000,
        }
        for c in calls
    ],
    hide_index=True,
)
call_id = st.selectbox("Call", [c["id"] for c in calls])
call = ui.api_call(lambda: api.get(f"/calls/{quote(call_id, safe='')}"))
if call is None:
    st.stop()

cols = st.columns(4)
cols[0].metric("Outcome", call["outcome"] or "—")
cols[1].metric("Seconds", "—" if call["duration_ms"] is None else call["duration_ms"] / 1000)
cols[2].metric("Turns", call["turns"])
cols[3].metric("Provider", call["provider"] or "—")
if call["error"]:
    st.error(call["error"])
st.caption("Recording and cost: the API does not report them for calls yet.")

talk_col, graph_col = st.columns(2)
with talk_col:
    st.subheader("Transcript")
    for turn in call["transcript"]:
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
    flow = flow_for(call["flow_hash"])
    if flow is not None:
        st.graphviz_chart(flow_dot(flow, current=path[-1] if path else None, path=path))
    else:
        st.caption(
            f"The flow version {call['flow_hash']} is not among the files in {cfg.flows_dir}; "
            "the graph shows when its file is there."
        )
