"""Heat map: a flow's graph coloured by what real calls did in each node (visits, drop-off,
no-match and re-prompt rates, mean time) and each transition's count, for a campaign or a time
range; the numbers come from the API (``GET /flows/{name}/heatmap``)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote

import pandas as pd
import streamlit as st

from dsl import ir
from studio import flowfiles, ui
from studio.heatmap import MEASURES, heat_dot, heat_rows

st.title("Heat map")
cfg = ui.config()
api = ui.client()
st.caption(
    "Where callers go, hang up, are not understood and linger, node by node, from the stored"
    " calls (finished calls only). See docs/heatmap.md for what each number counts."
)


def flow_version(flow_hash: str) -> ir.Flow | None:
    version = ui.api_call(lambda: api.get(f"/flows/{quote(flow_hash, safe='')}"))
    return None if version is None else ir.Flow.from_json(json.dumps(version["ir"]))


@st.cache_data(max_entries=200)
def agent_of(path: str, mtime_ns: int) -> str | None:
    """The agent a flow file defines (``None`` when it does not compile); cached per edit."""
    text = Path(path).read_text(encoding="utf-8")
    flow = flowfiles.compile_text(text, path).flow
    return None if flow is None else flow.agent.name


scope = st.radio("Calls of", ["A campaign", "A time range"], horizontal=True)
params: dict[str, str] = {}
if scope == "A campaign":
    campaigns = ui.api_call(lambda: api.get("/campaigns"))
    if campaigns is None:
        st.stop()
    if not campaigns:
        st.info("No campaigns yet: start one on the Campaigns page, or pick a time range.")
        st.stop()
    names = [c["name"] for c in campaigns]
    chosen = st.selectbox("Campaign", names)
    campaign = campaigns[names.index(chosen)]
    flow = flow_version(campaign["flow_hash"])
    if flow is None:
        st.stop()
    name = flow.agent.name
    params["campaign"] = chosen
else:
    agents = sorted(
        {
            name
            for p in flowfiles.list_flows(cfg.flows_dir)
            if (name := agent_of(str(p), p.stat().st_mtime_ns)) is not None
        }
    )
    if not agents:
        st.info(f"No flow that compiles in {cfg.flows_dir.resolve()}.")
        st.stop()
    pick = st.columns(3)
    name = pick[0].selectbox("Flow (agent)", agents)
    today = datetime.now(UTC).date()
    first: date = pick[1].date_input("From (UTC)", today - timedelta(days=7))
    last: date = pick[2].date_input("To (UTC, inclusive)", today)
    if first > last:
        st.error("The range ends before it starts: pick a 'To' day on or after 'From'.")
        st.stop()
    params["since"] = datetime.combine(first, time(), UTC).isoformat()
    params["until"] = datetime.combine(last + timedelta(days=1), time(), UTC).isoformat()

heat = ui.api_call(lambda: api.get(f"/flows/{quote(name, safe='')}/heatmap", **params))
if heat is None:
    st.stop()
if scope == "A time range":
    flow = flow_version(heat["flow_hash"]) if heat["flow_hash"] else None
    if flow is None:
        st.stop()

totals = st.columns(4)
totals[0].metric("Calls", heat["calls"])
totals[1].metric("Reached the flow", heat["answered"])
totals[2].metric("Flow versions", len(heat["versions"]))
dropped = sum(n["drop_offs"] for n in heat["nodes"])
totals[3].metric("Hung up mid-flow", dropped)
if heat["calls"] == 0:
    st.info("No finished calls match: the graph shows no heat yet.")

keys = list(MEASURES)
measure = st.selectbox(
    "Colour nodes by", keys, format_func=lambda k: MEASURES[k].label, key="heat_measure"
)
graph_col, table_col = st.columns([1, 1])
with graph_col:
    st.graphviz_chart(heat_dot(flow, heat, measure))
    st.caption(
        "Edge labels: calls that took the transition (×n). Dotted edges: transitions taken"
        " through a global transition or the fallback. Double border: the node ends the call."
    )
with table_col:
    st.table(pd.DataFrame(heat_rows(heat, flow)).set_index("node"))
    if len(heat["versions"]) > 1:
        st.caption(
            f"Calls of {len(heat['versions'])} versions of the flow add up by node name; the"
            f" graph is version {heat['flow_hash'][:19]}…"
        )
