"""Campaigns: start one from a flow and a contacts file, watch progress, pause/resume/stop."""

from __future__ import annotations

import streamlit as st

from studio import flowfiles, ui

st.title("Campaigns")
cfg = ui.config()
api = ui.client()
st.caption(f"REST API: {cfg.api_url} · Temporal UI: {cfg.temporal_ui_url}")

campaigns = ui.api_call(lambda: api.get("/campaigns"))
if campaigns is None:
    st.stop()


def workflow_url(workflow_id: str) -> str:
    return f"{cfg.temporal_ui_url}/namespaces/{cfg.temporal_namespace}/workflows/{workflow_id}"


with st.expander("Start a campaign", expanded=not campaigns):
    flows = flowfiles.list_flows(cfg.flows_dir)
    labels = [str(p.relative_to(cfg.flows_dir)) for p in flows]
    label = st.selectbox("Flow", labels) if labels else None
    contacts = st.file_uploader("Contacts (CSV or XLSX)", type=["csv", "xlsx"])
    if st.button("Start", type="primary", disabled=label is None or contacts is None):
        path = flows[labels.index(label)]
        started = ui.api_call(
            lambda: api.post(
                "/campaigns",
                data={"flow_name": path.name, "flow_source": path.read_text(encoding="utf-8")},
                files={"contacts": (contacts.name, contacts.getvalue())},
            )
        )
        if started is not None:
            st.success(f"Started campaign {started.get('id')}.")
            st.rerun()

if not campaigns:
    st.info("No campaigns yet.")
    st.stop()

for c in campaigns:
    cid = c["id"]
    with st.container(border=True):
        st.markdown(f"### {c.get('name', cid)} · `{c.get('status', '?')}`")
        progress = c.get("progress", {})
        cols = st.columns(4)
        cols[0].metric("Dialled", progress.get("dialled", 0))
        cols[1].metric("In call", progress.get("in_call", 0))
        cols[2].metric("Done", progress.get("done", 0))
        cols[3].metric("Contacts", progress.get("contacts", 0))
        if progress.get("outcomes"):
            st.bar_chart(progress["outcomes"])
        if progress.get("next_scheduled"):
            st.caption(f"Next attempt scheduled at {progress['next_scheduled']}")
        if c.get("workflow_id"):
            st.link_button("Open in Temporal UI", workflow_url(c["workflow_id"]))
        b = st.columns(3)
        for col, action in zip(b, ("pause", "resume", "stop"), strict=True):
            if col.button(action.capitalize(), key=f"{action}:{cid}"):
                if ui.api_call(lambda a=action, c=cid: api.post(f"/campaigns/{c}/{a}")) is not None:
                    st.rerun()
