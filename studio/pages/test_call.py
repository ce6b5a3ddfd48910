"""Test call: a phone test call through the API (a campaign of one contact), with its live
transcript; and voice in the browser, as far as the providers allow."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from urllib.parse import quote

import streamlit as st

from studio import flowfiles, ui
from studio.chat import load_tests_file, tests_path_for
from studio.voice import section as voice_section

st.title("Test call")
cfg = ui.config()
api = ui.client()
CURRENT = "studio.test_call"

st.subheader("Phone test call")
st.caption(
    "Places a real call through the API: a campaign of one contact, created from the flow, "
    "started on Temporal. The flow's calling windows apply. Under `voxflow dev` the simulated "
    "PBX answers with the scripted callee configured for the number."
)
paths = [
    p
    for p in flowfiles.list_flows(cfg.flows_dir)
    if (c := flowfiles.compile_text(p.read_text(encoding="utf-8"), str(p))).flow is not None
    and c.flow.campaign is not None
]
if not paths:
    st.info(f"No flow with a campaign section compiles in {cfg.flows_dir.resolve()}.")
else:
    labels = [str(p.relative_to(cfg.flows_dir)) for p in paths]
    path = paths[labels.index(st.selectbox("Flow", labels))]
    flow = flowfiles.compile_text(path.read_text(encoding="utf-8"), str(path)).flow
    assert flow is not None and flow.campaign is not None
    source = flow.campaign.contacts
    try:
        spec = load_tests_file(tests_path_for(path))
    except Exception:  # a broken tests file only loses the prefilled values
        spec = None
    defaults = spec.contact if spec else {}
    phone = st.text_input(
        "Number to call (E.164)", value=str(defaults.get(source.phone_column, ""))
    )
    columns: dict[str, str] = {}
    fields = [f for f in flow.agent.context if f.name != source.phone_column]
    for col, field in zip(st.columns(max(len(fields), 1)), fields, strict=False):
        columns[field.name] = col.text_input(
            f"{field.name} ({field.type})", value=str(defaults.get(field.name, ""))
        )
    if st.button("Place test call", type="primary", disabled=not phone.strip()):
        name = f"test-{flowfiles.stem_of(path)}-{datetime.now(UTC):%Y%m%d%H%M%S}"
        row = {**{k: v for k, v in columns.items() if v}, source.phone_column: phone.strip()}
        if source.id_column:
            row.setdefault(source.id_column, "studio-test")
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
        body = {"source": path.read_text(encoding="utf-8"), "syntax": flowfiles.syntax_of(path)}
        steps = [
            ("create the campaign", lambda: api.post("/campaigns", json={**body, "name": name})),
            (
                "import the contact",
                lambda: api.post(
                    f"/campaigns/{name}/contacts",
                    files={"file": ("contact.csv", buffer.getvalue().encode(), "text/csv")},
                ),
            ),
            ("start the call", lambda: api.post(f"/campaigns/{name}/start")),
        ]
        for what, call in steps:
            try:
                result = call()
            except (ui.ApiError, ui.ApiUnavailable) as exc:
                st.error(f"Could not {what}: {exc}")
                break
            if what == "import the contact" and result["imported"] != 1:
                reasons = [i["message"] for r in result["rejected"] for i in r["reasons"]]
                st.error(f"The contact was rejected: {'; '.join(reasons) or 'already imported'}")
                break
        else:
            st.session_state[CURRENT] = name

name = st.session_state.get(CURRENT)
if name:

    @st.fragment(run_every=2)
    def live_transcript() -> None:
        status = ui.api_call(lambda: api.get(f"/campaigns/{quote(name, safe='')}"))
        calls = ui.api_call(lambda: api.get("/calls", campaign=name)) or []
        if status is None:
            return
        st.markdown(f"**{name}** · campaign `{status['status']}` · outcomes {status['outcomes']}")
        if not calls:
            st.caption("No call yet (dialling, or waiting for the calling window).")
            return
        call = ui.api_call(lambda: api.get(f"/calls/{quote(calls[0]['id'], safe='')}"))
        if call is None:
            return
        st.caption(f"call {call['id']} · outcome {call['outcome'] or 'in progress'}")
        for turn in call["transcript"]:
            st.chat_message("user" if turn["role"] == "caller" else "assistant").write(turn["text"])

    live_transcript()

voice_section.render(cfg)
