"""Campaigns: create one from a flow, import contacts, start; where every contact stands
(refreshed live); pause/resume/stop."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st

from studio import dryrun, flowfiles, ui

REFRESH_S = 3
BOARD_METRICS = (
    ("queued", "Queued"),
    ("waiting for window", "Waiting for window"),
    ("dialling", "Dialling"),
    ("in call", "In call"),
    ("scheduled", "Scheduled"),
    ("final", "Final"),
)

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


with st.expander("Dry-run a campaign on a simulated clock"):
    dryrun.render(cfg.flows_dir)

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
            ui.show_error(exc)
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
live_refresh = st.toggle(
    "Live refresh", value=True, help=f"Reload this campaign's state every {REFRESH_S} seconds."
)


@st.fragment(run_every=REFRESH_S if live_refresh else None)
def campaign_state(name: str) -> dict | None:
    """The campaign's state by contact: counts by state, the window, the next contacts."""
    status = ui.api_call(lambda: api.get(f"/campaigns/{quote(name, safe='')}"))
    if status is None:
        return None
    st.subheader(f"{name} · {status['status']}")
    board = status.get("board") or {}
    counts = board.get("counts") or {}
    total = sum(counts.values()) if counts else sum(status["contacts"].values())
    # Two rows of four: a label never has to be cut, even in a narrow window.
    tiles = [
        ("Contacts", total),
        *((label, counts.get(state, 0)) for state, label in BOARD_METRICS),
    ]
    for row in (tiles[:4], tiles[4:]):
        for col, (label, value) in zip(st.columns(4), row, strict=False):
            col.metric(label, value)
    window = board.get("window")
    if window:
        st.warning(window["text"], icon=":material/schedule:")
    if status.get("workflow_error"):
        st.warning(f"Live progress from Temporal unavailable: {status['workflow_error']}")
    waiting = [c for c in board.get("contacts", []) if c["state"] not in ("final", "stopped")]
    st.markdown("**Next contacts** (times in each contact's own time zone, soonest first)")
    if waiting:
        st.dataframe(
            [
                {
                    "contact": f"{c['contact_id']} {c['name']}".strip(),
                    "time zone": c["timezone"],
                    "state": c["label"],
                    "attempts": c["attempts"],
                    "workflow": workflow_url(f"campaign/{name}/{c['contact_id']}"),
                }
                for c in waiting
            ],
            column_config={
                "state": st.column_config.TextColumn("state", width="large"),
                "workflow": st.column_config.LinkColumn("Temporal UI", display_text="open"),
            },
            hide_index=True,
            width="stretch",
        )
    else:
        st.caption("every contact is final" if total else "no contacts imported yet")
    st.markdown("**Outcomes of finished attempts**")
    if status["outcomes"]:
        st.bar_chart(status["outcomes"], horizontal=True)
    else:
        st.caption("none yet")
    return status


status = campaign_state(chosen)
if status is None:
    st.stop()
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
