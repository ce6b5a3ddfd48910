"""Test call: what the studio can do by voice today, and what it still needs."""

from __future__ import annotations

import streamlit as st

from studio import ui

st.title("Test call")
cfg = ui.config()

st.subheader("Voice in the browser")
recording = st.audio_input("Record what the caller says")
if recording is not None:
    st.audio(recording)
    st.warning(
        "Not sent to any provider: the local provider only decodes voxflow's simulated speech, "
        "not a voice recording, and the studio has no realtime-provider bridge yet. Use the "
        "Test chat page to talk to a flow in text."
    )

st.subheader("Phone test call")
schema = ui.api_call(lambda: ui.client().get("/openapi.json"))
if schema is not None:
    starts_calls = any(
        "post" in ops and path.rstrip("/") == "/calls" for path, ops in schema["paths"].items()
    )
    if not starts_calls:
        st.warning(
            f"The API at {cfg.api_url} cannot start a single call (no POST /calls); start a "
            "campaign of one contact from the Campaigns page and watch it on the Calls page."
        )
