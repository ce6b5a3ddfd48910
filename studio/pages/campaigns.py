"""Campaigns: create one from a flow, import contacts, start; progress; pause/resume/stop."""

from __future__ import annotations

from urllib.parse import quote

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
    """The Temporal web UI page of one workflow."""
    return (
        f"{cfg.temporal_ui_url}/namespaces/{quote(cfg.temporal_namespace, safe='')}"
        f"/workflows/{quote(workflow_id, safe='')}"
    )


with st.expander("New campaign from a flow", expanded=not campaigns):
    flows = flowfiles.list_flows(cfg.flows_dir)
    labels = [str(p.relative_to(cfg.flows_dir)) for p in flows]
    label = st.selectbox("Flow (it must have a campaign section)", labels) if labels else None
    name = st.text_input("Name (empty: the flow's campaign name)")
    if st.button("Create", type="primary", disabled=label is None):
        path = flows[labels.index(label)]
        body = {"source": path.read_text(encoding="utf-8"), "syntax": flowfiles.syntax_of(path)}
        if name.strip():
            body["name"] = name.strip()
        try:
            created = api.post("/campaigns", json=body)
        except ui.ApiError as exc:
            st.error(str(exc))
            for d in (exc.body or {}).get("diagnostics", []):
                st.code(
                    f"{path.name}:{d['line']}:{d['col']}: {d['severity']} {d['code']}: {d['message']}"
                )
        except ui.ApiUnavailable as exc:
            st.error(f"API not reachable at {exc.url}.")
        else:
            st.success(f"Created campaign {created['name']} ({created['status']}).")
            st.rerun()

if not campaigns:
    st.info("No campaigns yet.")
    st.stop()

st.dataframe(
    [{k: c[k] for k in ("name", "status", "flow_hash", "created_at")} for c in campaigns],
    hide_index=True,
)
names = [c["name"] for c in campaigns]
chosen = st.selectbox("Campaign", names)
status = ui.api_call(lambda: api.get(f"/campaigns/{quote(chosen, safe='')}"))
if status is None:
    st.stop()

st.subheader(f"{chosen} · {status['status']}")
live = status.get("workflow") or {}
cols = st.columns(5)
cols[0].metric("Contacts", sum(status["contacts"].values()))
cols[1].metric("Dialled", live.get("dispatched", 0))
cols[2].metric("In call", live.get("in_call", 0))
cols[3].metric("Finished", live.get("finished", 0))
cols[4].metric("Scheduled", live.get("scheduled", 0))
if status.get("workflow_error"):
    st.warning(f"Live progress unavailable: {status['workflow_error']}")
left, right = st.columns(2)
with left:
    st.markdown("**Contacts by status**")
    st.json(status["contacts"])
with right:
    st.markdown("**Outcomes**")
    if status["outcomes"]:
        st.bar_chart(status["outcomes"], horizontal=True)
    else:
        st.caption("none yet")
next_attempts = live.get("next_attempts") or {}
if next_attempts:
    st.markdown("**Next scheduled attempts**")
    st.dataframe(
        [
            {"workflow": wf, "at": at, "open": workflow_url(wf)}
            for wf, at in sorted(next_attempts.items(), key=lambda kv: kv[1])
        ],
        column_config={"open": st.column_config.LinkColumn("Temporal UI")},
        hide_index=True,
    )
if status["status"] != "draft":
    st.link_button("Campaign workflow in the Temporal UI", workflow_url(f"campaign/{chosen}"))

path_name = quote(chosen, safe="")
if status["status"] in ("draft", "running", "paused"):
    contacts = st.file_uploader("Import contacts (CSV or XLSX)", type=["csv", "xlsx"])
    if contacts is not None and st.button("Import"):
        report = ui.api_call(
            lambda: api.post(
                f"/campaigns/{path_name}/contacts",
                files={"file": (contacts.name, contacts.getvalue())},
            )
        )
        if report is not None:
            st.success(f"Imported {report['imported']} of {report['rows']} row(s).")
            if report["rejected"]:
                st.dataframe(
                    [
                        {"row": r["row"], "reasons": "; ".join(i["message"] for i in r["reasons"])}
                        for r in report["rejected"]
                    ],
                    hide_index=True,
                )

actions = {"draft": ["start"], "running": ["pause", "stop"], "paused": ["resume", "stop"]}
buttons = actions.get(status["status"], [])
for col, action in zip(st.columns(max(len(buttons), 1)), buttons, strict=False):
    if col.button(action.capitalize(), key=f"{action}:{chosen}"):
        if ui.api_call(lambda a=action: api.post(f"/campaigns/{path_name}/{a}")) is not None:
            st.rerun()
